//! The Status menu's pages (runtime and build information, command-line flags, the loaded
//! configuration, TSDB statistics) and the Alerts placeholder. They read the same state as
//! `/api/v1/status/*`, rendered as HTML tables.

use super::{escape, layout};
use crate::web::AppState;
use actix_web::{web, HttpResponse};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many rows each TSDB cardinality table shows, as Prometheus does.
const TOP_N: usize = 10;

pub(super) async fn alerts() -> HttpResponse {
    layout(
        "Alerts",
        "<h1>Alerts</h1><p class=\"alert-info\">Pyrometer does not evaluate alerting rules yet: \
`rule_files` are accepted in the configuration and ignored, so there are no alerts to show.</p>",
    )
}

/// A Unix time as `2024-05-01 12:00:00 UTC`; `never` for the epoch and before.
fn time_text(t: SystemTime) -> String {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) if d > Duration::ZERO => chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        _ => "never".to_string(),
    }
}

/// A two-column table of (name, already-escaped HTML value).
fn kv_table(out: &mut String, rows: &[(&str, String)]) {
    out.push_str("<table class=\"kv\"><tbody>");
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{v}</td></tr>", escape(k));
    }
    out.push_str("</tbody></table>");
}

pub(super) async fn runtime(s: web::Data<AppState>) -> HttpResponse {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"));
    let reload_ok = s.metrics.config_reload_success.load(Ordering::Relaxed) == 1;
    let reload_at =
        UNIX_EPOCH + Duration::from_secs(s.metrics.config_reload_timestamp.load(Ordering::Relaxed));
    let jobs = s.config.read().scrape_configs.len();
    let targets = s.registry.len();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let uptime = SystemTime::now()
        .duration_since(s.start_time)
        .unwrap_or_default();
    let mut body = String::from("<h1>Runtime Information</h1>");
    kv_table(
        &mut body,
        &[
            ("Start time", escape(&time_text(s.start_time))),
            (
                "Uptime",
                escape(&crate::config::format_duration(Duration::from_secs(
                    uptime.as_secs(),
                ))),
            ),
            ("Working directory", escape(&cwd)),
            (
                "Configuration reload",
                if reload_ok {
                    "Successful".to_string()
                } else {
                    "<span class=\"error\">Unsuccessful</span>".to_string()
                },
            ),
            (
                "Last successful configuration reload",
                escape(&time_text(reload_at)),
            ),
            // The scrape manager, one job actor per scrape config and one actor per target.
            ("Scrape actors", (1 + jobs + targets).to_string()),
            ("Active targets", targets.to_string()),
            ("Scrape jobs", jobs.to_string()),
            ("CPU threads available", threads.to_string()),
            ("Storage retention", escape(&retention(&s.flags))),
        ],
    );
    body.push_str("<h2>Build Information</h2>");
    kv_table(
        &mut body,
        &[
            ("Version", escape(env!("CARGO_PKG_VERSION"))),
            (
                "Revision",
                escape(option_env!("PYROMETER_REVISION").unwrap_or("unknown")),
            ),
            ("Language", "Rust".to_string()),
        ],
    );
    layout("Runtime & Build Information", &body)
}

/// Retention as Prometheus words it: the time and, when a size limit is set, the size.
fn retention(f: &crate::flags::Flags) -> String {
    match crate::config::parse_size(&f.retention_size) {
        Ok(0) | Err(_) => f.retention_time.clone(),
        Ok(_) => format!("{} or {}", f.retention_time, f.retention_size),
    }
}

pub(super) async fn flags(s: web::Data<AppState>) -> HttpResponse {
    let mut body = String::from("<h1>Command-Line Flags</h1>");
    let rows: Vec<(&str, String)> = s
        .flags
        .as_map()
        .into_iter()
        .map(|(k, v)| (k, format!("<code>{}</code>", escape(&v))))
        .collect();
    kv_table(&mut body, &rows);
    layout("Command-Line Flags", &body)
}

pub(super) async fn config(s: web::Data<AppState>) -> HttpResponse {
    let yaml = s.config.read().to_yaml();
    let body = match yaml {
        Ok(y) => format!(
            "<h1>Configuration</h1><pre class=\"config\">{}</pre>",
            escape(&y)
        ),
        Err(e) => format!(
            "<h1>Configuration</h1><p class=\"alert-error\">cannot render the loaded configuration: {}</p>",
            escape(&e.to_string())
        ),
    };
    layout("Configuration", &body)
}

fn top_table(out: &mut String, title: &str, column: &str, mut rows: Vec<(String, usize)>) {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = write!(
        out,
        "<h2>{}</h2><table><thead><tr><th>{}</th><th>Count</th></tr></thead><tbody>",
        escape(title),
        escape(column)
    );
    for (name, n) in rows.into_iter().take(TOP_N) {
        let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", escape(&name));
    }
    out.push_str("</tbody></table>");
}

pub(super) async fn tsdb(s: web::Data<AppState>) -> HttpResponse {
    let db = s.db.clone();
    // The footprint is one pass over every series: off the web worker, as the API does it.
    match actix_web::rt::task::spawn_blocking(move || tsdb_body(&db)).await {
        Ok(body) => layout("TSDB Status", &body),
        Err(e) => layout(
            "TSDB Status",
            &format!(
                "<h1>TSDB Status</h1><p class=\"alert-error\">cannot compute tsdb statistics: {}</p>",
                escape(&e.to_string())
            ),
        ),
    }
}

fn tsdb_body(db: &crate::storage::Db) -> String {
    let head = db.head();
    let stats = head.stats();
    let foot = head.footprint();
    let disk = db.disk_stats();
    let by_label = head.label_cardinality();
    let pairs: usize = by_label.iter().map(|(_, values, _)| values).sum();
    let ms_time = |ms: i64| -> String {
        if stats.samples == 0 {
            return "no samples".to_string();
        }
        let t = if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms as u64)
        } else {
            UNIX_EPOCH
        };
        format!("{} ({ms})", time_text(t))
    };
    let per = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
    let mut body = String::from("<h1>TSDB Status</h1><h2>Head Stats</h2>");
    kv_table(
        &mut body,
        &[
            ("Number of series", stats.series.to_string()),
            ("Number of chunks", foot.chunks.to_string()),
            ("Number of samples", stats.samples.to_string()),
            ("Number of label pairs", pairs.to_string()),
            ("Current min time", escape(&ms_time(stats.min_time))),
            ("Current max time", escape(&ms_time(stats.max_time))),
        ],
    );
    body.push_str("<h2>Storage</h2>");
    kv_table(
        &mut body,
        &[
            ("Head chunk bytes", foot.chunk_bytes.to_string()),
            (
                "Head chunk bytes per sample",
                format!("{:.2}", per(foot.chunk_bytes as f64, foot.samples)),
            ),
            ("Head estimated bytes", foot.estimated_bytes.to_string()),
            ("Blocks", disk.blocks.to_string()),
            ("Block bytes", disk.block_bytes.to_string()),
            ("Block samples", disk.block_samples.to_string()),
            ("WAL bytes", disk.wal_bytes.to_string()),
        ],
    );
    top_table(
        &mut body,
        "Top 10 series count by metric names",
        "Name",
        head.series_per_metric(),
    );
    top_table(
        &mut body,
        "Top 10 label names with value count",
        "Name",
        by_label.iter().map(|(n, v, _)| (n.clone(), *v)).collect(),
    );
    top_table(
        &mut body,
        "Top 10 label names with high memory usage",
        "Name",
        head.label_value_bytes(),
    );
    top_table(
        &mut body,
        "Top 10 series count by label value pairs",
        "Name",
        head.label_pair_counts(),
    );
    body
}
