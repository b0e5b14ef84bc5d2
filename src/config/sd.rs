//! Service discovery sections of a scrape job. `static_configs` is in `scrape.rs`; the
//! file, HTTP and DNS providers are parsed and checked here. Other providers of Prometheus
//! (Kubernetes, Consul, EC2, ...) are kept as raw YAML so such configs still load; they are
//! listed by `Config::unsupported_features`.

use serde::de::{DeserializeSeed, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

use super::de::{checked_strings, parse_str, CheckedList};
use super::duration::serde_duration;
use super::http::{check_url, HttpClientConfig};

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

/// Whether `path` is a usable `file_sd_configs` file name: a `.json`, `.yml` or `.yaml`
/// file, with at most one `*` and only in the last path element (Prometheus's rule).
fn is_valid_sd_file(path: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|ext| path.strip_suffix(ext).is_some_and(|p| p.ends_with('.')));
    let star_ok = match path.find('*') {
        None => true,
        Some(i) => !path[i + 1..].contains(['*', '/']),
    };
    ext_ok && star_ok
}

fn deserialize_sd_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let files = checked_strings(d, |f| {
        if is_valid_sd_file(f) {
            Ok(())
        } else {
            Err(format!(
                "path name {f:?} is not valid for file discovery: expected a .json, .yml or .yaml file, with '*' only in the last path element"
            ))
        }
    })?;
    if files.is_empty() {
        return Err(D::Error::custom(
            "file service discovery config must contain at least one path name",
        ));
    }
    Ok(files)
}

/// `file_sd_configs:` entry: target groups read from JSON or YAML files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    #[serde(deserialize_with = "deserialize_sd_files")]
    pub files: Vec<String>,
    #[serde(default = "five_minutes", with = "serde_duration")]
    pub refresh_interval: Duration,
}

/// `http_sd_configs:` entry: target groups fetched as JSON from a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSdConfig {
    pub url: String,
    #[serde(default = "one_minute", with = "serde_duration")]
    pub refresh_interval: Duration,
    #[serde(flatten)]
    pub http_client: HttpClientConfig,
}

/// Reads `http_sd_configs:`, checking each entry at its own position.
pub(crate) fn deserialize_http_sd<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<HttpSdConfig>, D::Error> {
    CheckedList::new(HttpSdConfig::validate).deserialize(d)
}

/// Reads `dns_sd_configs:`, checking each entry at its own position.
pub(crate) fn deserialize_dns_sd<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<DnsSdConfig>, D::Error> {
    CheckedList::new(|c: &mut DnsSdConfig| c.validate()).deserialize(d)
}

impl HttpSdConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        check_url(&self.url, "http_sd_configs url")?;
        self.http_client.validate()
    }
}

/// The DNS record type a `dns_sd_configs` entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsRecordType {
    #[default]
    Srv,
    A,
    Aaaa,
    Mx,
    Ns,
}

impl DnsRecordType {
    const ALL: [DnsRecordType; 5] = [
        DnsRecordType::Srv,
        DnsRecordType::A,
        DnsRecordType::Aaaa,
        DnsRecordType::Mx,
        DnsRecordType::Ns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DnsRecordType::Srv => "SRV",
            DnsRecordType::A => "A",
            DnsRecordType::Aaaa => "AAAA",
            DnsRecordType::Mx => "MX",
            DnsRecordType::Ns => "NS",
        }
    }
}

impl Serialize for DnsRecordType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DnsRecordType {
    /// Any case is accepted, as Prometheus upper-cases the type before checking it.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, |s| {
            let upper = s.to_ascii_uppercase();
            DnsRecordType::ALL
                .into_iter()
                .find(|t| t.as_str() == upper)
                .ok_or_else(|| {
                    format!(
                        "invalid DNS-SD record type {s:?}, expected one of SRV, A, AAAA, MX, NS"
                    )
                })
        })
    }
}

/// `dns_sd_configs:` entry: targets from DNS records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSdConfig {
    pub names: Vec<String>,
    #[serde(default = "thirty_seconds", with = "serde_duration")]
    pub refresh_interval: Duration,
    #[serde(default, rename = "type")]
    pub record_type: DnsRecordType,
    /// Required for every record type but SRV, whose records carry their own port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl DnsSdConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.names.is_empty() {
            return Err("DNS-SD config must contain at least one SRV record name".into());
        }
        if self.record_type != DnsRecordType::Srv && self.port.is_none() {
            return Err(
                "a port is required in DNS-SD configs for all record types except SRV".into(),
            );
        }
        Ok(())
    }
}
