//! Top-level sections for features beyond scraping: `alerting`, `remote_write`,
//! `remote_read`, `storage` and `tracing`. They are parsed and checked now so existing
//! configs load; `Config::unsupported_features` reports the ones that are set.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

use super::de::{yaml11_bool, yaml11_opt_bool};
use super::duration::{serde_duration, serde_opt_duration};
use super::http::{default_true, HttpClientConfig, TlsConfig};
use super::relabel::{deserialize_relabel_configs, RelabelConfig};
use super::scrape::StaticConfig;
use super::sd::{deserialize_dns_sd, deserialize_http_sd, DnsSdConfig, FileSdConfig, HttpSdConfig};

fn ten_seconds() -> Duration {
    Duration::from_secs(10)
}

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

fn default_scheme() -> String {
    "http".to_string()
}

fn default_path_prefix() -> String {
    "/".to_string()
}

fn default_api_version() -> String {
    "v2".to_string()
}

/// `alerting:` — where alerts go and how they are relabeled first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    #[serde(
        default,
        deserialize_with = "deserialize_relabel_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

/// One `alertmanagers:` entry: how to find and reach a set of Alertmanagers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default = "default_path_prefix")]
    pub path_prefix: String,
    #[serde(default = "ten_seconds", with = "serde_duration")]
    pub timeout: Duration,
    #[serde(default = "default_api_version")]
    pub api_version: String,
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
    #[serde(
        default,
        deserialize_with = "deserialize_relabel_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(flatten)]
    pub http_client: HttpClientConfig,
}

/// `queue_config:` of a remote write: batching and retry tuning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_shards: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_shards: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_samples_per_send: Option<u64>,
    #[serde(
        default,
        with = "serde_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_send_deadline: Option<Duration>,
    #[serde(
        default,
        with = "serde_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_backoff: Option<Duration>,
    #[serde(
        default,
        with = "serde_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_backoff: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "yaml11_opt_bool"
    )]
    pub retry_on_http_429: Option<bool>,
}

/// `metadata_config:` of a remote write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataConfig {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "yaml11_opt_bool"
    )]
    pub send: Option<bool>,
    #[serde(
        default,
        with = "serde_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub send_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_samples_per_send: Option<u64>,
}

/// One `remote_write:` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "thirty_seconds", with = "serde_duration")]
    pub remote_timeout: Duration,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "deserialize_relabel_configs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub write_relabel_configs: Vec<RelabelConfig>,
    #[serde(default, deserialize_with = "yaml11_bool")]
    pub send_exemplars: bool,
    #[serde(default, deserialize_with = "yaml11_bool")]
    pub send_native_histograms: bool,
    #[serde(default)]
    pub queue_config: QueueConfig,
    #[serde(default)]
    pub metadata_config: MetadataConfig,
    #[serde(flatten)]
    pub http_client: HttpClientConfig,
}

/// One `remote_read:` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteReadConfig {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "one_minute", with = "serde_duration")]
    pub remote_timeout: Duration,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub required_matchers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "yaml11_bool")]
    pub read_recent: bool,
    #[serde(default = "default_true", deserialize_with = "yaml11_bool")]
    pub filter_external_labels: bool,
    #[serde(flatten)]
    pub http_client: HttpClientConfig,
}

/// `storage:` — TSDB and exemplar settings that live in the config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsdb: Option<TsdbConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemplars: Option<ExemplarsConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsdbConfig {
    /// How far back out-of-order samples are still accepted; zero rejects them.
    #[serde(default, with = "serde_duration")]
    pub out_of_order_time_window: Duration,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemplarsConfig {
    #[serde(default)]
    pub max_exemplars: i64,
}

/// `tracing:` — export of Pyrometer's own traces over OTLP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_fraction: Option<f64>,
    #[serde(default, deserialize_with = "yaml11_bool")]
    pub insecure: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    #[serde(
        default,
        with = "serde_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

impl AlertingConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        for am in &mut self.alertmanagers {
            if am.api_version != "v1" && am.api_version != "v2" {
                return Err(format!(
                    "expected Alertmanager api version to be one of [v1 v2] but got {:?}",
                    am.api_version
                ));
            }
            am.http_client.validate()?;
        }
        Ok(())
    }
}

impl RemoteWriteConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if self.url.is_empty() {
            return Err("url for remote_write is empty".into());
        }
        self.http_client.validate()
    }
}

impl RemoteReadConfig {
    pub(crate) fn validate(&mut self) -> Result<(), String> {
        if self.url.is_empty() {
            return Err("url for remote_read is empty".into());
        }
        self.http_client.validate()
    }
}
