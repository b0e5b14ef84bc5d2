//! `scrape_configs:` — one entry per job: what to scrape (static targets and discovery),
//! how (interval, timeout, path, scheme, HTTP client) and the limits that guard storage.
//!
//! The list itself is read in `mod.rs`, where the resolved `global:` section is at hand:
//! each entry is resolved and checked there, at the entry's own position in the file.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

use super::de::{checked_strings, yaml11_bool};
use super::duration::{format_duration, serde_duration};
use super::http::{default_true, validate_auth, Authorization, BasicAuth, OAuth2, TlsConfig};
use super::relabel::{deserialize_relabel_configs, RelabelConfig};
use super::sd::{
    deserialize_dns_sd, deserialize_http_sd, DnsRecordType, DnsSdConfig, FileSdConfig, HttpSdConfig,
};
use super::size::serde_size;
use super::validate::{check_target_address, deserialize_label_set};
use super::GlobalConfig;

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

fn default_scheme() -> String {
    "http".to_string()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn deserialize_targets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    checked_strings(d, check_target_address)
}

/// `static_configs:` entry: a fixed list of `host:port` targets sharing extra labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    #[serde(default, deserialize_with = "deserialize_targets")]
    pub targets: Vec<String>,
    #[serde(
        default,
        deserialize_with = "deserialize_label_set",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

/// One scrape job. After loading, `scrape_interval`, `scrape_timeout` and the limits hold
/// their effective values (inherited from `global:` when not set on the job), and
/// `bearer_token(_file)` have been folded into `authorization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "yaml11_bool"
    )]
    pub honor_labels: bool,
    #[serde(default = "default_true", deserialize_with = "yaml11_bool")]
    pub honor_timestamps: bool,
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "yaml11_bool"
    )]
    pub track_timestamps_staleness: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    /// Zero in the file means "inherit from `global:`".
    #[serde(default, with = "serde_duration")]
    pub scrape_interval: Duration,
    /// Zero in the file means "the global timeout, capped at this job's interval".
    #[serde(default, with = "serde_duration")]
    pub scrape_timeout: Duration,
    /// Content types to negotiate, in order of preference; inherited from `global:` when
    /// not set; empty means the scraper's default list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape_protocols: Vec<String>,
    /// Format assumed when a target answers with a missing or unknown content type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "yaml11_bool"
    )]
    pub always_scrape_classic_histograms: bool,
    /// The Prometheus 2.x name of `always_scrape_classic_histograms`.
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "yaml11_bool"
    )]
    pub scrape_classic_histograms: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub native_histogram_bucket_limit: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// `utf8` or `legacy`; not set means the global choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<String>,
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default = "default_true", deserialize_with = "yaml11_bool")]
    pub enable_compression: bool,
    /// Largest accepted response body in bytes; 0 means no limit.
    #[serde(default, with = "serde_size", skip_serializing_if = "is_zero")]
    pub body_size_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sample_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub target_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_name_length_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_value_length_limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keep_dropped_targets: u64,

    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_configs: Vec<StaticConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_sd_configs: Vec<FileSdConfig>,
    #[serde(
        default,
        deserialize_with = "deserialize_http_sd",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub http_sd_configs: Vec<HttpSdConfig>,
    #[serde(
        default,
        deserialize_with = "deserialize_dns_sd",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dns_sd_configs: Vec<DnsSdConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd_configs: Vec<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consul_sd_configs: Vec<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ec2_sd_configs: Vec<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docker_sd_configs: Vec<serde_yaml::Value>,

    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    /// Old spelling of `authorization.credentials`; empty after loading.
    #[serde(default, skip_serializing)]
    pub bearer_token: Option<String>,
    /// Old spelling of `authorization.credentials_file`; empty after loading.
    #[serde(default, skip_serializing)]
    pub bearer_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "yaml11_bool"
    )]
    pub proxy_from_environment: bool,
    #[serde(default = "default_true", deserialize_with = "yaml11_bool")]
    pub follow_redirects: bool,
    #[serde(default = "default_true", deserialize_with = "yaml11_bool")]
    pub enable_http2: bool,

    #[serde(
        default,
        deserialize_with = "deserialize_relabel_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(
        default,
        deserialize_with = "deserialize_relabel_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

/// Content types Prometheus can negotiate for `scrape_protocols`.
const SCRAPE_PROTOCOLS: [&str; 5] = [
    "PrometheusProto",
    "OpenMetricsText0.0.1",
    "OpenMetricsText1.0.0",
    "PrometheusText0.0.4",
    "PrometheusText1.0.0",
];

/// Checks a `scrape_protocols` list: known names, each at most once.
pub(crate) fn check_scrape_protocols(list: &[String]) -> Result<(), String> {
    for (i, p) in list.iter().enumerate() {
        if !SCRAPE_PROTOCOLS.contains(&p.as_str()) {
            return Err(format!(
                "unknown scrape protocol {p:?}, expected one of {}",
                SCRAPE_PROTOCOLS.join(", ")
            ));
        }
        if list[..i].contains(p) {
            return Err(format!("duplicated protocol {p:?} in scrape_protocols"));
        }
    }
    Ok(())
}

/// Checks a `metric_name_validation_scheme` value.
pub(crate) fn check_validation_scheme(s: &str) -> Result<(), String> {
    match s {
        "utf8" | "legacy" => Ok(()),
        _ => Err(format!(
            "unknown metric_name_validation_scheme {s:?}, expected \"utf8\" or \"legacy\""
        )),
    }
}

impl Default for ScrapeConfig {
    /// A job with Prometheus's defaults as they stand after loading (1m interval, 10s
    /// timeout, `http`, `/metrics`) and an empty name; convenient for building jobs in code.
    fn default() -> Self {
        ScrapeConfig {
            job_name: String::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            params: BTreeMap::new(),
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: Vec::new(),
            fallback_scrape_protocol: None,
            always_scrape_classic_histograms: false,
            scrape_classic_histograms: false,
            native_histogram_bucket_limit: 0,
            scrape_failure_log_file: None,
            metric_name_validation_scheme: None,
            metrics_path: default_metrics_path(),
            scheme: default_scheme(),
            enable_compression: true,
            body_size_limit: 0,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            static_configs: Vec::new(),
            file_sd_configs: Vec::new(),
            http_sd_configs: Vec::new(),
            dns_sd_configs: Vec::new(),
            kubernetes_sd_configs: Vec::new(),
            consul_sd_configs: Vec::new(),
            ec2_sd_configs: Vec::new(),
            docker_sd_configs: Vec::new(),
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: None,
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: false,
            follow_redirects: true,
            enable_http2: true,
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
        }
    }
}

impl ScrapeConfig {
    /// Fills in what the job inherits from `global:` and checks the job on its own.
    pub(crate) fn resolve(&mut self, global: &GlobalConfig) -> Result<(), String> {
        if self.job_name.is_empty() {
            return Err("job_name is empty".into());
        }
        let job = &self.job_name;
        if self.scrape_interval.is_zero() {
            self.scrape_interval = global.scrape_interval;
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = global.scrape_timeout.min(self.scrape_interval);
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(format!(
                "scrape timeout {} greater than scrape interval {} for scrape config with job name {job:?}",
                format_duration(self.scrape_timeout),
                format_duration(self.scrape_interval),
            ));
        }
        if self.scheme != "http" && self.scheme != "https" {
            return Err(format!(
                "invalid scheme {:?} for scrape config with job name {job:?}: expected \"http\" or \"https\"",
                self.scheme
            ));
        }
        if self.scrape_protocols.is_empty() {
            self.scrape_protocols = global.scrape_protocols.clone();
        }
        check_scrape_protocols(&self.scrape_protocols)?;
        if let Some(p) = &self.fallback_scrape_protocol {
            check_scrape_protocols(std::slice::from_ref(p))?;
        }
        if let Some(s) = &self.metric_name_validation_scheme {
            check_validation_scheme(s)?;
        }
        let inherit = |own: &mut u64, global: u64| {
            if *own == 0 {
                *own = global;
            }
        };
        inherit(&mut self.body_size_limit, global.body_size_limit);
        inherit(&mut self.sample_limit, global.sample_limit);
        inherit(&mut self.target_limit, global.target_limit);
        inherit(&mut self.label_limit, global.label_limit);
        inherit(
            &mut self.label_name_length_limit,
            global.label_name_length_limit,
        );
        inherit(
            &mut self.label_value_length_limit,
            global.label_value_length_limit,
        );
        inherit(&mut self.keep_dropped_targets, global.keep_dropped_targets);

        // Discovery and relabel entries were checked as they were read.
        validate_auth(
            &mut self.basic_auth,
            &mut self.authorization,
            &self.oauth2,
            &mut self.bearer_token,
            &mut self.bearer_token_file,
            &self.tls_config,
            &self.proxy_url,
        )?;
        Ok(())
    }

    /// Names of the discovery mechanisms (or their settings) this job uses that Pyrometer
    /// parses but does not run yet. `static_configs`, `file_sd_configs`, `http_sd_configs`
    /// and `dns_sd_configs` for A and AAAA records are run.
    pub(crate) fn unsupported_discovery(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (used, name) in [
            (
                !self.kubernetes_sd_configs.is_empty(),
                "kubernetes_sd_configs",
            ),
            (!self.consul_sd_configs.is_empty(), "consul_sd_configs"),
            (!self.ec2_sd_configs.is_empty(), "ec2_sd_configs"),
            (!self.docker_sd_configs.is_empty(), "docker_sd_configs"),
            // The system resolver answers addresses only, so A and AAAA records are looked up.
            (
                self.dns_sd_configs
                    .iter()
                    .any(|d| !matches!(d.record_type, DnsRecordType::A | DnsRecordType::Aaaa)),
                "dns_sd_configs of type SRV, MX or NS",
            ),
            (
                self.http_sd_configs
                    .iter()
                    .any(|h| h.http_client.oauth2.is_some()),
                "http_sd_configs oauth2",
            ),
            (
                self.http_sd_configs
                    .iter()
                    .any(|h| h.http_client.proxy_url.is_some()),
                "http_sd_configs proxy_url",
            ),
        ] {
            if used {
                out.push(name);
            }
        }
        out
    }
}
