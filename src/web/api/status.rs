//! `/api/v1/status/*`: config, flags, build and runtime information, TSDB statistics.

use super::{success, ApiError};
use crate::web::AppState;
use actix_web::ResponseError;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/status/config", web::get().to(config))
        .route("/api/v1/status/flags", web::get().to(flags))
        .route("/api/v1/status/buildinfo", web::get().to(buildinfo))
        .route("/api/v1/status/runtimeinfo", web::get().to(runtimeinfo))
        .route("/api/v1/status/tsdb", web::get().to(tsdb));
}

async fn config(s: web::Data<AppState>) -> HttpResponse {
    match s.config.read().to_yaml() {
        Ok(yaml) => success(json!({ "yaml": yaml })),
        Err(e) => ApiError::Internal(format!("cannot render the loaded configuration: {e}"))
            .error_response(),
    }
}

async fn flags(s: web::Data<AppState>) -> HttpResponse {
    let map: serde_json::Map<String, serde_json::Value> = s
        .flags
        .as_map()
        .into_iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
        .collect();
    success(map)
}

/// Build information in Prometheus's field names.
pub(crate) fn build_info() -> serde_json::Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": option_env!("PYROMETER_REVISION").unwrap_or("unknown"),
        "branch": "main",
        "buildUser": "",
        "buildDate": "",
        "goVersion": concat!("rust (pyrometer ", env!("CARGO_PKG_VERSION"), ")"),
    })
}

async fn buildinfo() -> HttpResponse {
    success(build_info())
}

async fn runtimeinfo(s: web::Data<AppState>) -> HttpResponse {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let reload_ok = s
        .metrics
        .config_reload_success
        .load(std::sync::atomic::Ordering::Relaxed)
        == 1;
    let reload_ts = s
        .metrics
        .config_reload_timestamp
        .load(std::sync::atomic::Ordering::Relaxed);
    success(json!({
        "startTime": super::targets::rfc3339(Some(s.start_time)),
        "CWD": cwd,
        "reloadConfigSuccess": reload_ok,
        "lastConfigTime": super::targets::rfc3339(Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(reload_ts))),
        "corruptionCount": 0,
        "goroutineCount": s.registry.len(),
        "GOMAXPROCS": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "GOMEMLIMIT": i64::MAX,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": s.flags.retention_time,
    }))
}

/// TSDB statistics in Prometheus's shape (`headStats` and four top-10 lists), plus a
/// `storage` object with what the compressed head and the block files cost.
async fn tsdb(s: web::Data<AppState>) -> HttpResponse {
    let db = s.db.clone();
    // One pass over every series: off the web worker.
    let body = actix_web::rt::task::spawn_blocking(move || tsdb_body(&db)).await;
    match body {
        Ok(v) => success(v),
        Err(e) => {
            ApiError::Internal(format!("cannot compute tsdb statistics: {e}")).error_response()
        }
    }
}

fn tsdb_body(db: &crate::storage::Db) -> serde_json::Value {
    let head = db.head();
    let stats = head.stats();
    let foot = head.footprint();
    let disk = db.disk_stats();
    let by_label = head.label_cardinality();
    let top = |mut v: Vec<(String, usize)>| -> Vec<serde_json::Value> {
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .take(10)
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    let per = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
    json!({
        "headStats": {
            "numSeries": stats.series,
            "numLabelPairs": by_label.iter().map(|(_, v, _)| v).sum::<usize>(),
            "chunkCount": foot.chunks,
            "minTime": stats.min_time,
            "maxTime": stats.max_time,
        },
        "seriesCountByMetricName": top(head.series_per_metric()),
        "labelValueCountByLabelName": top(by_label.iter().map(|(n, v, _)| (n.clone(), *v)).collect()),
        "memoryInBytesByLabelName": top(head.label_value_bytes()),
        "seriesCountByLabelValuePair": top(head.label_pair_counts()),
        "storage": {
            "headSamples": foot.samples,
            "headChunkBytes": foot.chunk_bytes,
            "headBytesPerSample": per(foot.chunk_bytes as f64, foot.samples),
            "headEstimatedBytes": foot.estimated_bytes,
            "headBytesPerSeries": per(foot.estimated_bytes as f64, stats.series),
            "blocks": disk.blocks,
            "blockBytes": disk.block_bytes,
            "blockSamples": disk.block_samples,
            "blockBytesPerSample": per(disk.block_bytes as f64, disk.block_samples as usize),
            "walBytes": disk.wal_bytes,
        },
    })
}
