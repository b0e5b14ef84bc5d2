//! Metrics about Pyrometer itself, served on `/metrics` in the text exposition format.
//!
//! Names follow Prometheus's own where the meaning is the same (`prometheus_tsdb_head_series`,
//! `prometheus_target_scrapes_*`, `prometheus_config_last_reload_successful`), so existing
//! dashboards for a Prometheus server keep working; the rest are `pyrometer_*`.

use crate::storage::HeadStats;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the scrape duration histogram, in seconds: from a fast loopback scrape
/// to Prometheus's default 10 s timeout.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct SelfMetrics {
    pub scrapes_total: AtomicU64,
    pub scrape_failures_total: AtomicU64,
    pub scrapes_skipped_total: AtomicU64,
    pub samples_scraped_total: AtomicU64,
    pub out_of_order_total: AtomicU64,
    pub duplicate_total: AtomicU64,
    pub sample_limit_exceeded_total: AtomicU64,
    pub config_reload_success: AtomicU64,
    pub config_reload_timestamp: AtomicU64,
    pub config_reloads_total: AtomicU64,
    pub config_reload_failures_total: AtomicU64,
    pub sd_file_read_errors_total: AtomicU64,
    pub sd_http_failures_total: AtomicU64,
    pub sd_dns_lookup_failures_total: AtomicU64,
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
    duration_count: AtomicU64,
    /// Sum of scrape durations in microseconds (integer so it can be an atomic).
    duration_sum_us: AtomicU64,
}

impl SelfMetrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe_scrape(&self, seconds: f64, ok: bool, samples: usize) {
        self.scrapes_total.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.scrape_failures_total.fetch_add(1, Ordering::Relaxed);
        }
        self.samples_scraped_total
            .fetch_add(samples as u64, Ordering::Relaxed);
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.duration_buckets[i].fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn record_reload(&self, ok: bool, now_secs: u64) {
        self.config_reloads_total.fetch_add(1, Ordering::Relaxed);
        if ok {
            self.config_reload_success.store(1, Ordering::Relaxed);
            self.config_reload_timestamp
                .store(now_secs, Ordering::Relaxed);
        } else {
            self.config_reload_success.store(0, Ordering::Relaxed);
            self.config_reload_failures_total
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Renders everything in the text exposition format 0.0.4.
    pub fn render(&self, head: &HeadStats, active_targets: usize, appended_total: u64) -> String {
        let mut out = String::with_capacity(4096);
        let g = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let mut family = |name: &str, kind: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        family(
            "prometheus_target_scrapes_total",
            "counter",
            "Scrapes attempted.",
            g(&self.scrapes_total) as f64,
        );
        family(
            "pyrometer_target_scrape_failures_total",
            "counter",
            "Scrapes that failed.",
            g(&self.scrape_failures_total) as f64,
        );
        family("prometheus_target_scrapes_skipped_total", "counter", "Scheduled scrapes skipped because the previous one of the same target was still running or late.", g(&self.scrapes_skipped_total) as f64);
        family(
            "pyrometer_target_samples_scraped_total",
            "counter",
            "Samples read from scrape bodies.",
            g(&self.samples_scraped_total) as f64,
        );
        family(
            "prometheus_target_scrapes_sample_out_of_order_total",
            "counter",
            "Samples rejected because they were older than the newest sample of their series.",
            g(&self.out_of_order_total) as f64,
        );
        family(
            "prometheus_target_scrapes_sample_duplicate_timestamp_total",
            "counter",
            "Samples rejected for a duplicate timestamp with a different value.",
            g(&self.duplicate_total) as f64,
        );
        family(
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "counter",
            "Scrapes that hit sample_limit.",
            g(&self.sample_limit_exceeded_total) as f64,
        );
        family(
            "prometheus_tsdb_head_samples_appended_total",
            "counter",
            "Samples appended to the head.",
            appended_total as f64,
        );
        family(
            "prometheus_tsdb_head_series",
            "gauge",
            "Series in the head.",
            head.series as f64,
        );
        family(
            "pyrometer_tsdb_head_samples",
            "gauge",
            "Samples held in the head.",
            head.samples as f64,
        );
        family(
            "pyrometer_active_targets",
            "gauge",
            "Targets being scraped.",
            active_targets as f64,
        );
        family(
            "prometheus_config_last_reload_successful",
            "gauge",
            "Whether the last configuration load succeeded.",
            g(&self.config_reload_success) as f64,
        );
        family(
            "prometheus_config_last_reload_success_timestamp_seconds",
            "gauge",
            "Time of the last successful configuration load.",
            g(&self.config_reload_timestamp) as f64,
        );
        family(
            "pyrometer_config_reloads_total",
            "counter",
            "Configuration loads attempted.",
            g(&self.config_reloads_total) as f64,
        );
        family(
            "pyrometer_config_reload_failures_total",
            "counter",
            "Configuration loads that failed.",
            g(&self.config_reload_failures_total) as f64,
        );
        family(
            "prometheus_sd_file_read_errors_total",
            "counter",
            "Target group files that could not be read or parsed.",
            g(&self.sd_file_read_errors_total) as f64,
        );
        family(
            "prometheus_sd_http_failures_total",
            "counter",
            "Failed fetches of HTTP service discovery.",
            g(&self.sd_http_failures_total) as f64,
        );
        family(
            "prometheus_sd_dns_lookup_failures_total",
            "counter",
            "Failed DNS service discovery lookups.",
            g(&self.sd_dns_lookup_failures_total) as f64,
        );

        let name = "pyrometer_target_scrape_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Duration of scrapes, from request to committed samples.\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            cumulative += g(&self.duration_buckets[i]);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = g(&self.duration_count);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", g(&self.duration_sum_us) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
        process_metrics(&mut out);
        out
    }
}

/// How old the head's chunk figures in `/metrics` may be.
const FOOTPRINT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// Storage figures: chunks and their bytes in the head, blocks and WAL on disk.
///
/// The chunk figures come from a pass over every series taken at most
/// [`FOOTPRINT_MAX_AGE`] ago, so frequent scrapes of `/metrics` stay cheap.
pub fn render_storage(db: &crate::storage::Db) -> String {
    let foot = db.recent_footprint(FOOTPRINT_MAX_AGE);
    let disk = db.disk_stats();
    let series = db.stats().series;
    let (replay, took) = db.replay_stats();
    let per = |a: f64, b: u64| if b == 0 { 0.0 } else { a / b as f64 };
    let mut out = String::with_capacity(2048);
    let families: [(&str, &str, &str, f64); 11] = [
        (
            "prometheus_tsdb_head_chunks",
            "gauge",
            "Chunks in the head.",
            foot.chunks as f64,
        ),
        (
            "pyrometer_tsdb_head_chunk_bytes",
            "gauge",
            "Bytes of compressed chunk data in the head.",
            foot.chunk_bytes as f64,
        ),
        (
            "pyrometer_tsdb_head_bytes_per_sample",
            "gauge",
            "Chunk bytes per sample in the head.",
            per(foot.chunk_bytes as f64, foot.samples as u64),
        ),
        (
            "pyrometer_tsdb_head_bytes_per_series",
            "gauge",
            "Estimated head bytes (chunks, series, labels, postings) per series.",
            per(foot.estimated_bytes as f64, series as u64),
        ),
        (
            "prometheus_tsdb_blocks_loaded",
            "gauge",
            "Block files on disk.",
            disk.blocks as f64,
        ),
        (
            "prometheus_tsdb_storage_blocks_bytes",
            "gauge",
            "Bytes of block files on disk.",
            disk.block_bytes as f64,
        ),
        (
            "pyrometer_tsdb_block_bytes_per_sample",
            "gauge",
            "Block file bytes per sample.",
            per(disk.block_bytes as f64, disk.block_samples),
        ),
        (
            "prometheus_tsdb_wal_storage_size_bytes",
            "gauge",
            "Bytes of the write-ahead log on disk.",
            disk.wal_bytes as f64,
        ),
        (
            "prometheus_tsdb_wal_writes_failed_total",
            "counter",
            "Write-ahead log writes that failed.",
            db.wal_write_errors() as f64,
        ),
        (
            "prometheus_tsdb_data_replay_duration_seconds",
            "gauge",
            "Time to open storage and replay the write-ahead log at start-up.",
            took.as_secs_f64(),
        ),
        (
            "pyrometer_tsdb_wal_replay_dropped_bytes",
            "gauge",
            "Bytes of a damaged write-ahead log tail not replayed at start-up.",
            replay.report.dropped_bytes() as f64,
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    out
}

/// `process_*` metrics read from /proc, as client libraries expose them.
fn process_metrics(out: &mut String) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v * 1024.0)
    };
    if let Some(rss) = kib("VmRSS:") {
        let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}");
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks
        // (100 per second on Linux, the value of sysconf(_SC_CLK_TCK) everywhere we run).
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(u), Some(s)) = (f.get(11), f.get(12)) {
                if let (Ok(u), Ok(s)) = (u.parse::<f64>(), s.parse::<f64>()) {
                    let cpu = (u + s) / 100.0;
                    let _ = writeln!(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}");
                }
            }
        }
    }
}
