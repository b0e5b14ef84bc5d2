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

async fn tsdb(s: web::Data<AppState>) -> HttpResponse {
    let stats = s.head.stats();
    let mut by_metric = s.head.series_per_metric();
    let mut by_label = s.head.label_cardinality();
    by_metric.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = |v: Vec<(String, usize)>| -> Vec<serde_json::Value> {
        v.into_iter()
            .take(10)
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    let label_value_counts: Vec<(String, usize)> = {
        let mut v: Vec<(String, usize)> = by_label
            .iter()
            .map(|(n, values, _)| (n.clone(), *values))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    by_label.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let pairs: Vec<(String, usize)> = by_label.iter().map(|(n, _, p)| (n.clone(), *p)).collect();
    success(json!({
        "headStats": {
            "numSeries": stats.series,
            "numLabelPairs": by_label.iter().map(|(_, v, _)| v).sum::<usize>(),
            "chunkCount": 0,
            "minTime": stats.min_time,
            "maxTime": stats.max_time,
        },
        "seriesCountByMetricName": top(by_metric),
        "labelValueCountByLabelName": top(label_value_counts),
        "memoryInBytesByLabelName": [],
        "seriesCountByLabelValuePair": top(pairs),
    }))
}
