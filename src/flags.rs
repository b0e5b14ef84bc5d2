//! Command-line flags, spelled as Prometheus spells them, so the official container's command
//! line and existing service files work unchanged.

use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "pyrometer",
    version,
    about = "Pyrometer, a Prometheus-compatible monitoring server",
    long_about = None
)]
pub struct Flags {
    /// Prometheus configuration file path.
    #[arg(long = "config.file", default_value = "prometheus.yml")]
    pub config_file: PathBuf,

    /// Address to listen on for the UI, API and telemetry.
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    pub listen_address: String,

    /// Enable shutdown and reload via HTTP request (POST /-/quit, POST /-/reload).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// The URL under which Pyrometer is externally reachable (shown in API answers).
    #[arg(long = "web.external-url", default_value = "")]
    pub external_url: String,

    /// Path to the console templates (accepted for compatibility; unused).
    #[arg(
        long = "web.console.templates",
        default_value = "consoles",
        hide = true
    )]
    pub console_templates: String,

    /// Path to the console libraries (accepted for compatibility; unused).
    #[arg(
        long = "web.console.libraries",
        default_value = "console_libraries",
        hide = true
    )]
    pub console_libraries: String,

    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub tsdb_path: PathBuf,

    /// How long to retain samples in storage.
    #[arg(long = "storage.tsdb.retention.time", default_value = "15d")]
    pub retention_time: String,

    /// Maximum number of bytes of storage blocks to retain (0 = no limit). Units: KB, MB, GB, ...
    #[arg(long = "storage.tsdb.retention.size", default_value = "0B")]
    pub retention_size: String,

    /// How often committed samples are written from the write-ahead log's buffer to its
    /// file; a crash (kill -9) loses at most this much. 0s writes at every commit (one
    /// write system call per scrape).
    #[arg(long = "storage.tsdb.wal-flush-interval", default_value = "1s")]
    pub wal_flush_interval: String,

    /// How often the head (series and compressed chunks) is saved to a snapshot file in the
    /// background; a restart after a crash loads the newest one and replays only the
    /// write-ahead log written since. Shorter: faster crash restarts, more disk writes
    /// (about 400 bytes per series per snapshot). 0s saves one only at clean shutdown.
    #[arg(long = "storage.tsdb.head-snapshot-interval", default_value = "5m")]
    pub head_snapshot_interval: String,

    /// Time span of a block file; older chunks leave memory once the head spans one and a
    /// half of it.
    #[arg(
        long = "storage.tsdb.min-block-duration",
        default_value = "2h",
        hide = true
    )]
    pub min_block_duration: String,

    /// The maximum lookback duration for retrieving metrics during expression evaluations.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub lookback_delta: String,

    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub query_timeout: String,

    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub query_max_samples: usize,

    /// Only log messages with the given severity or above: debug, info, warn, error.
    #[arg(long = "log.level", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    pub log_level: String,

    /// Output format of log messages: logfmt or json.
    #[arg(long = "log.format", default_value = "logfmt", value_parser = ["logfmt", "json"])]
    pub log_format: String,

    /// Threads for scrape actors (0 = one per core).
    #[arg(long = "scrape.threads", default_value_t = 0)]
    pub scrape_threads: usize,
}

impl Flags {
    /// Flag name → value, as `/api/v1/status/flags` reports them.
    pub fn as_map(&self) -> Vec<(&'static str, String)> {
        vec![
            ("config.file", self.config_file.display().to_string()),
            ("web.listen-address", self.listen_address.clone()),
            ("web.enable-lifecycle", self.enable_lifecycle.to_string()),
            ("web.external-url", self.external_url.clone()),
            ("web.console.templates", self.console_templates.clone()),
            ("web.console.libraries", self.console_libraries.clone()),
            ("storage.tsdb.path", self.tsdb_path.display().to_string()),
            ("storage.tsdb.retention.time", self.retention_time.clone()),
            ("storage.tsdb.retention.size", self.retention_size.clone()),
            (
                "storage.tsdb.wal-flush-interval",
                self.wal_flush_interval.clone(),
            ),
            (
                "storage.tsdb.head-snapshot-interval",
                self.head_snapshot_interval.clone(),
            ),
            (
                "storage.tsdb.min-block-duration",
                self.min_block_duration.clone(),
            ),
            ("query.lookback-delta", self.lookback_delta.clone()),
            ("query.timeout", self.query_timeout.clone()),
            ("query.max-samples", self.query_max_samples.to_string()),
            ("log.level", self.log_level.clone()),
            ("log.format", self.log_format.clone()),
            ("scrape.threads", self.scrape_threads.to_string()),
        ]
    }
}
