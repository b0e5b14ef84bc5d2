//! The `prometheus.yml` model: reading, defaults and validation of the configuration file.
//!
//! Input: the text of the file. Output: a [`Config`] whose scrape jobs carry their effective
//! settings (global defaults applied), or one [`ConfigError`] that names the file, the line
//! and the field at fault. Semantics follow Prometheus 3.x (`config/config.go`): unknown
//! fields are errors, zero durations mean "inherit", secrets are hidden when written back.
//! Label names are checked by the classic rule `[a-zA-Z_][a-zA-Z0-9_]*`. Validity agrees
//! with `promtool check config` 2.42 on the fields both know (`tests/promtool_config.rs`),
//! except that a scrape `scheme` other than http/https is rejected here.

mod de;
mod duration;
mod http;
mod paths;
mod relabel;
mod remote;
mod scrape;
mod sd;
mod size;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

pub use duration::{format_duration, parse_duration, DurationError};
pub use http::{Authorization, BasicAuth, HttpClientConfig, OAuth2, TlsConfig, SECRET_PLACEHOLDER};
pub use relabel::{Action, RelabelConfig, RelabelRegex};
pub use remote::{
    AlertingConfig, AlertmanagerConfig, ExemplarsConfig, MetadataConfig, QueueConfig,
    RemoteReadConfig, RemoteWriteConfig, StorageConfig, TracingConfig, TsdbConfig,
};
pub use scrape::{ScrapeConfig, StaticConfig};
pub use sd::{DnsRecordType, DnsSdConfig, FileSdConfig, HttpSdConfig};
pub use size::{format_size, parse_size, SizeError};
pub use validate::{check_target_address, is_valid_label_name};

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use de::{checked_strings, Checked, CheckedList};
use duration::serde_duration;
use size::serde_size;
use validate::deserialize_label_set;

/// Everything that can go wrong loading a config; each message is complete on its own.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path:?}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A problem at a known place in the file.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A problem with no position (for example, an empty document where one is needed).
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot write config as YAML: {0}")]
    Write(#[source] serde_yaml::Error),
}

impl ConfigError {
    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Parse { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn from_yaml(err: serde_yaml::Error, file: &str) -> ConfigError {
        let text = err.to_string();
        match err.location() {
            Some(loc) => {
                let suffix = format!(" at line {} column {}", loc.line(), loc.column());
                let message = text.replacen(&suffix, "", 1);
                ConfigError::Parse {
                    file: file.to_string(),
                    line: loc.line(),
                    column: loc.column(),
                    message: quote_backticks(&message),
                }
            }
            None => ConfigError::Invalid {
                file: file.to_string(),
                message: quote_backticks(&text),
            },
        }
    }
}

/// serde names fields in backticks; the rest of our messages use double quotes.
fn quote_backticks(s: &str) -> String {
    s.replace('`', "\"")
}

fn default_scrape_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_scrape_timeout() -> Duration {
    Duration::from_secs(10)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `global:` — defaults for every job and labels added to data leaving this server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default 1m.
    #[serde(default, with = "serde_duration")]
    pub scrape_interval: Duration,
    /// Default 10s, capped at `scrape_interval`.
    #[serde(default, with = "serde_duration")]
    pub scrape_timeout: Duration,
    /// Default 1m.
    #[serde(default, with = "serde_duration")]
    pub evaluation_interval: Duration,
    #[serde(
        default,
        deserialize_with = "deserialize_label_set",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub external_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_log_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Default `scrape_protocols` of every job; empty means the scraper's default list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape_protocols: Vec<String>,
    /// How far back rule evaluation looks for its timestamp (Prometheus 3.x).
    #[serde(
        default,
        with = "serde_duration",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub rule_query_offset: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<String>,
    /// Defaults for the job limits of the same names (0 = no limit).
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
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: default_scrape_interval(),
            scrape_timeout: default_scrape_timeout(),
            evaluation_interval: default_scrape_interval(),
            external_labels: BTreeMap::new(),
            query_log_file: None,
            scrape_failure_log_file: None,
            scrape_protocols: Vec::new(),
            rule_query_offset: Duration::ZERO,
            metric_name_validation_scheme: None,
            body_size_limit: 0,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
        }
    }
}

impl GlobalConfig {
    /// Applies Prometheus's defaults to a section as read from the file.
    fn resolve(&mut self) -> Result<(), String> {
        if self.scrape_interval.is_zero() {
            self.scrape_interval = default_scrape_interval();
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(format!(
                "global scrape timeout {} greater than scrape interval {}",
                format_duration(self.scrape_timeout),
                format_duration(self.scrape_interval)
            ));
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = default_scrape_timeout().min(self.scrape_interval);
        }
        if self.evaluation_interval.is_zero() {
            self.evaluation_interval = default_scrape_interval();
        }
        scrape::check_scrape_protocols(&self.scrape_protocols)?;
        if let Some(s) = &self.metric_name_validation_scheme {
            scrape::check_validation_scheme(s)?;
        }
        Ok(())
    }
}

/// The whole `prometheus.yml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Config {
    pub global: GlobalConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerting: Option<AlertingConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_config_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrape_configs: Vec<ScrapeConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_read: Vec<RemoteReadConfig>,
    /// Prometheus 3.x `runtime:` (Go runtime tuning), kept as written; nothing to apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<serde_yaml::Value>,
    /// Prometheus 3.x `otlp:` (OTLP ingestion settings), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp: Option<serde_yaml::Value>,
}

impl Config {
    /// Reads, parses and validates the file at `path`. Relative file names inside it
    /// (rule files, discovery files, credentials, TLS files) are resolved against the
    /// file's directory, as Prometheus does.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Config::from_yaml(&text, &path.display().to_string())?;
        if let Some(dir) = path.parent() {
            paths::resolve(&mut config, dir);
        }
        Ok(config)
    }

    /// Parses and validates config text; `file_name` is used in error messages only.
    pub fn from_yaml(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        if is_blank_yaml(text) {
            // An empty file is a valid config: all defaults, nothing to scrape.
            return Ok(Config::default());
        }
        if text.contains("<<") {
            return Self::from_yaml_with_merge_keys(text, file_name);
        }
        Self::parse(text, file_name)
    }

    /// YAML merge keys (`<<: *defaults`), which Prometheus's YAML library honours, are
    /// expanded on a value tree first; serde_yaml does not expand them while deserializing.
    /// Line numbers of the expanded text would mislead, so errors keep only their path.
    fn from_yaml_with_merge_keys(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        let err = |e| ConfigError::from_yaml(e, file_name);
        let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(err)?;
        value.apply_merge().map_err(err)?;
        let expanded = serde_yaml::to_string(&value).map_err(err)?;
        Self::parse(&expanded, file_name).map_err(|e| match e {
            ConfigError::Parse { file, message, .. } => ConfigError::Invalid {
                file,
                message: format!("{message} (after expanding YAML merge keys)"),
            },
            other => other,
        })
    }

    fn parse(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        // The global section is read first because scrape jobs inherit from it, wherever
        // it stands in the file.
        let head: GlobalOnly =
            serde_yaml::from_str(text).map_err(|e| ConfigError::from_yaml(e, file_name))?;
        let seed = ConfigSeed {
            global: head.global,
        };
        let de = serde_yaml::Deserializer::from_str(text);
        seed.deserialize(de)
            .map_err(|e| ConfigError::from_yaml(e, file_name))
    }

    /// The config as YAML in Prometheus's shape, durations in canonical form and secrets
    /// replaced by `<secret>`; what `/api/v1/status/config` shows.
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_yaml::to_string(self).map_err(ConfigError::Write)
    }

    /// Settings that parse but that Pyrometer does not act on yet, one phrase each, for a
    /// warning at start-up.
    pub fn unsupported_features(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (used, name) in [
            (!self.rule_files.is_empty(), "rule_files"),
            (!self.scrape_config_files.is_empty(), "scrape_config_files"),
            (self.alerting.is_some(), "alerting"),
            (!self.remote_write.is_empty(), "remote_write"),
            (!self.remote_read.is_empty(), "remote_read"),
            (self.storage.is_some(), "storage"),
            (self.tracing.is_some(), "tracing"),
            (
                self.global.query_log_file.is_some(),
                "global.query_log_file",
            ),
            (
                self.global.scrape_failure_log_file.is_some(),
                "global.scrape_failure_log_file",
            ),
            (self.otlp.is_some(), "otlp"),
        ] {
            if used {
                out.push(name.to_string());
            }
        }
        for sc in &self.scrape_configs {
            let job = &sc.job_name;
            let mut fields: Vec<&str> = sc.unsupported_discovery();
            if sc.oauth2.is_some() {
                fields.push("oauth2");
            }
            for (used, name) in [
                (sc.proxy_url.is_some(), "proxy_url"),
                (sc.no_proxy.is_some(), "no_proxy"),
                (sc.proxy_from_environment, "proxy_from_environment"),
                (
                    sc.scrape_failure_log_file.is_some(),
                    "scrape_failure_log_file",
                ),
                (
                    sc.native_histogram_bucket_limit > 0,
                    "native_histogram_bucket_limit",
                ),
            ] {
                if used {
                    fields.push(name);
                }
            }
            out.extend(fields.into_iter().map(|f| format!("job {job:?}: {f}")));
        }
        out
    }
}

/// Whether the text holds no YAML content at all (only blanks and comments).
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// What the top level of the file must be, for "invalid type" messages.
const EXPECTING_TOP: &str = "a prometheus.yml mapping with keys such as global and scrape_configs";

/// First pass: only `global:`, everything else skipped.
struct GlobalOnly {
    global: GlobalConfig,
}

impl<'de> Deserialize<'de> for GlobalOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(GlobalOnlyVisitor)
    }
}

struct GlobalOnlyVisitor;

impl<'de> Visitor<'de> for GlobalOnlyVisitor {
    type Value = GlobalOnly;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTING_TOP)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GlobalOnly, A::Error> {
        let mut global = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "global" && global.is_none() {
                global = Some(map.next_value_seed(Checked::new(GlobalConfig::resolve))?);
            } else {
                // Unknown and repeated keys are reported by the second pass.
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(GlobalOnly {
            global: global.unwrap_or_default(),
        })
    }
}

/// Top-level keys of `prometheus.yml`.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TopField {
    Global,
    Alerting,
    RuleFiles,
    ScrapeConfigFiles,
    ScrapeConfigs,
    Storage,
    Tracing,
    RemoteWrite,
    RemoteRead,
    Runtime,
    Otlp,
}

/// Second pass: the whole file, with the resolved global section at hand.
struct ConfigSeed {
    global: GlobalConfig,
}

impl<'de> DeserializeSeed<'de> for ConfigSeed {
    type Value = Config;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Config, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ConfigSeed {
    type Value = Config;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTING_TOP)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Config, A::Error> {
        let mut config = Config {
            global: self.global,
            ..Config::default()
        };
        let mut seen: Vec<&'static str> = Vec::new();
        let mut first = |name: &'static str| -> Result<(), A::Error> {
            if seen.contains(&name) {
                return Err(A::Error::duplicate_field(name));
            }
            seen.push(name);
            Ok(())
        };
        while let Some(key) = map.next_key::<TopField>()? {
            match key {
                TopField::Global => {
                    first("global")?;
                    // Already read and checked by the first pass.
                    map.next_value::<IgnoredAny>()?;
                }
                TopField::Alerting => {
                    first("alerting")?;
                    config.alerting =
                        Some(map.next_value_seed(Checked::new(AlertingConfig::validate))?);
                }
                TopField::RuleFiles => {
                    first("rule_files")?;
                    config.rule_files = map.next_value_seed(PathList("rule file"))?;
                }
                TopField::ScrapeConfigFiles => {
                    first("scrape_config_files")?;
                    config.scrape_config_files =
                        map.next_value_seed(PathList("scrape config file"))?;
                }
                TopField::ScrapeConfigs => {
                    first("scrape_configs")?;
                    let global = &config.global;
                    let mut jobs = HashSet::new();
                    config.scrape_configs =
                        map.next_value_seed(CheckedList::new(|sc: &mut ScrapeConfig| {
                            sc.resolve(global)?;
                            if !jobs.insert(sc.job_name.clone()) {
                                return Err(format!(
                                    "found multiple scrape configs with job name {:?}",
                                    sc.job_name
                                ));
                            }
                            Ok(())
                        }))?;
                }
                TopField::Storage => {
                    first("storage")?;
                    config.storage = Some(
                        map.next_value::<Option<StorageConfig>>()?
                            .unwrap_or_default(),
                    );
                }
                TopField::Tracing => {
                    first("tracing")?;
                    config.tracing = Some(
                        map.next_value::<Option<TracingConfig>>()?
                            .unwrap_or_default(),
                    );
                }
                TopField::RemoteWrite => {
                    first("remote_write")?;
                    config.remote_write =
                        map.next_value_seed(CheckedList::new(RemoteWriteConfig::validate))?;
                }
                TopField::Runtime => {
                    first("runtime")?;
                    config.runtime = Some(map.next_value()?);
                }
                TopField::Otlp => {
                    first("otlp")?;
                    config.otlp = Some(map.next_value()?);
                }
                TopField::RemoteRead => {
                    first("remote_read")?;
                    config.remote_read =
                        map.next_value_seed(CheckedList::new(RemoteReadConfig::validate))?;
                }
            }
        }
        Ok(config)
    }
}

/// Reads a list of file paths or globs (`rule_files`, `scrape_config_files`); Prometheus
/// allows a `*` only in the last path element.
fn path_list<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<Vec<String>, D::Error> {
    checked_strings(d, |p| {
        let ok = match p.find('*') {
            None => true,
            Some(i) => !p[i + 1..].contains('/'),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "invalid {what} path {p:?}: a '*' may appear only in the last path element"
            ))
        }
    })
}

/// Seed form of [`path_list`].
struct PathList(&'static str);

impl<'de> DeserializeSeed<'de> for PathList {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        path_list(d, self.0)
    }
}
