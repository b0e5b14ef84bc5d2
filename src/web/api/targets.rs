//! `/api/v1/targets`, `/api/v1/targets/metadata` and `/api/v1/metadata`.

use super::{labels_json, params, success, ApiError};
use crate::scrape::TargetStatus;
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/targets", web::get().to(targets))
        .route("/api/v1/targets/metadata", web::get().to(targets_metadata))
        .route("/api/v1/metadata", web::get().to(metadata));
}

/// Prometheus's formatting of a never-set time (Go's zero `time.Time`).
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

pub(crate) fn rfc3339(t: Option<std::time::SystemTime>) -> String {
    match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(d) => chrono::DateTime::<chrono::Utc>::from(UNIX_EPOCH + d)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => ZERO_TIME.to_string(),
    }
}

fn target_json(t: &TargetStatus) -> Value {
    let h = t.health.read().clone();
    json!({
        "discoveredLabels": labels_json(&t.discovered_labels),
        "labels": labels_json(&t.labels),
        "scrapePool": t.scrape_pool,
        "scrapeUrl": t.scrape_url,
        "globalUrl": global_url(&t.scrape_url),
        "lastError": h.last_error,
        "lastScrape": rfc3339(h.last_scrape),
        "lastScrapeDuration": h.last_duration.as_secs_f64(),
        "health": h.state.as_str(),
        "scrapeInterval": crate::config::format_duration(t.interval),
        "scrapeTimeout": crate::config::format_duration(t.timeout),
    })
}

/// The scrape URL as seen from other machines: a loopback host becomes this host's name.
fn global_url(url: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    if host.is_empty() {
        return url.to_string();
    }
    for local in ["localhost", "127.0.0.1", "[::1]"] {
        if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
            if rest.starts_with(local) {
                return url.replacen(local, host, 1);
            }
        }
    }
    url.to_string()
}

async fn targets(s: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = params::pairs(req.query_string(), &[]);
    let state = params::get(&p, "state").unwrap_or("any").to_lowercase();
    let pool = params::get(&p, "scrapePool");
    let (show_active, show_dropped) = match state.as_str() {
        "active" => (true, false),
        "dropped" => (false, true),
        "any" | "" => (true, true),
        other => {
            return Err(ApiError::BadData(format!(
                "invalid state parameter {other:?}: expected active, dropped or any"
            )))
        }
    };
    let active: Vec<Value> = if show_active {
        s.registry
            .active()
            .iter()
            .filter(|t| pool.is_none_or(|p| p == t.scrape_pool))
            .map(|t| target_json(t))
            .collect()
    } else {
        Vec::new()
    };
    let dropped_all = s.registry.dropped();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in &dropped_all {
        *counts.entry(d.scrape_pool.clone()).or_default() += 1;
    }
    let dropped: Vec<Value> = if show_dropped {
        dropped_all
            .iter()
            .filter(|d| pool.is_none_or(|p| p == d.scrape_pool))
            .map(|d| json!({"discoveredLabels": labels_json(&d.discovered_labels)}))
            .collect()
    } else {
        Vec::new()
    };
    Ok(success(json!({
        "activeTargets": active,
        "droppedTargets": dropped,
        "droppedTargetCounts": counts,
    })))
}

async fn targets_metadata(
    s: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = params::pairs(req.query_string(), &[]);
    let metric = params::get(&p, "metric").filter(|m| !m.is_empty());
    let limit: usize = match params::get(&p, "limit") {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::BadData(format!("invalid limit {l:?}")))?,
        None => usize::MAX,
    };
    let matchers = match params::get(&p, "match_target") {
        Some(m) => params::parse_matchers(m)?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for t in s.registry.active() {
        if !matchers
            .iter()
            .all(|m| m.matches(t.labels.get(&m.name).unwrap_or("")))
        {
            continue;
        }
        let meta = t.metadata.read().clone();
        for (name, m) in meta.iter() {
            if metric.is_some_and(|want| want != name) {
                continue;
            }
            if out.len() >= limit {
                break;
            }
            out.push(json!({
                "target": labels_json(&t.labels),
                "metric": name,
                "type": if m.kind.is_empty() { "unknown" } else { &m.kind },
                "help": m.help,
                "unit": m.unit,
            }));
        }
    }
    Ok(success(out))
}

async fn metadata(s: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = params::pairs(req.query_string(), &[]);
    let metric = params::get(&p, "metric").filter(|m| !m.is_empty());
    let parse_limit = |name: &str| -> Result<usize, ApiError> {
        match params::get(&p, name) {
            Some(l) => l
                .parse::<i64>()
                .map(|v| if v <= 0 { usize::MAX } else { v as usize })
                .map_err(|_| ApiError::BadData(format!("invalid {name} {l:?}"))),
            None => Ok(usize::MAX),
        }
    };
    let limit = parse_limit("limit")?;
    let per_metric = parse_limit("limit_per_metric")?;
    let mut all: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for t in s.registry.active() {
        let meta = t.metadata.read().clone();
        for (name, m) in meta.iter() {
            if metric.is_some_and(|want| want != name) {
                continue;
            }
            let entry = json!({
                "type": if m.kind.is_empty() { "unknown" } else { &m.kind },
                "help": m.help,
                "unit": m.unit,
            });
            let list = all.entry(name.clone()).or_default();
            if !list.contains(&entry) && list.len() < per_metric {
                list.push(entry);
            }
        }
    }
    let out: serde_json::Map<String, Value> = all
        .into_iter()
        .take(limit)
        .map(|(k, v)| (k, Value::Array(v)))
        .collect();
    Ok(success(out))
}
