//! Status → Targets: targets grouped by scrape pool with state, labels, last scrape and error.

use super::{escape, layout};
use crate::scrape::{HealthState, TargetStatus};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::SystemTime;

pub(super) async fn page(s: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let q: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let unhealthy_only = q.iter().any(|(k, v)| k == "state" && v == "unhealthy");
    let search = q
        .iter()
        .find(|(k, _)| k == "search")
        .map(|(_, v)| v.to_lowercase())
        .unwrap_or_default();

    let mut pools: BTreeMap<String, Vec<Arc<TargetStatus>>> = BTreeMap::new();
    for t in s.registry.active() {
        pools.entry(t.scrape_pool.clone()).or_default().push(t);
    }
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Targets</h1><form class=\"controls\" method=\"get\"><a href=\"/targets\">All</a> | <a href=\"/targets?state=unhealthy\">Unhealthy</a> \
<input type=\"search\" name=\"search\" placeholder=\"Filter by endpoint or labels\" value=\"{}\"></form>",
        escape(&search)
    );
    let now = SystemTime::now();
    for (pool, targets) in &pools {
        let up = targets
            .iter()
            .filter(|t| t.health.read().state == HealthState::Up)
            .count();
        let shown: Vec<&Arc<TargetStatus>> = targets
            .iter()
            .filter(|t| !unhealthy_only || t.health.read().state != HealthState::Up)
            .filter(|t| search.is_empty() || matches_search(t, &search))
            .collect();
        if shown.is_empty() && (unhealthy_only || !search.is_empty()) {
            continue;
        }
        let _ = write!(
            body,
            "<details open id=\"pool-{0}\"><summary><b>{0}</b> ({up}/{1} up)</summary><table><thead><tr><th>Endpoint</th><th>State</th><th>Labels</th><th>Last Scrape</th><th>Scrape Duration</th><th>Error</th></tr></thead><tbody>",
            escape(pool),
            targets.len()
        );
        for t in shown {
            target_row(&mut body, t, now);
        }
        body.push_str("</tbody></table></details>");
    }
    if pools.is_empty() {
        body.push_str("<p>No targets configured.</p>");
    }
    layout("Targets", &body)
}

fn matches_search(t: &TargetStatus, needle: &str) -> bool {
    t.scrape_url.to_lowercase().contains(needle)
        || t.labels.iter().any(|l| {
            format!("{}=\"{}\"", l.name, l.value)
                .to_lowercase()
                .contains(needle)
        })
}

fn target_row(out: &mut String, t: &TargetStatus, now: SystemTime) {
    let h = t.health.read().clone();
    let state = h.state.as_str().to_uppercase();
    let last = match h.last_scrape {
        Some(at) => {
            let ago = now.duration_since(at).unwrap_or_default();
            format!("{:.3}s ago", ago.as_secs_f64())
        }
        None => "never".to_string(),
    };
    let labels: String = t
        .labels
        .iter()
        .map(|l| {
            format!(
                "<span class=\"badge\">{}=\"{}\"</span>",
                escape(&l.name),
                escape(&l.value)
            )
        })
        .collect();
    let mut error = escape(&h.last_error);
    if h.rejected_samples > 0 {
        let _ = write!(
            error,
            " ({} samples rejected: out of order or duplicate timestamp)",
            h.rejected_samples
        );
    }
    let _ = write!(
        out,
        "<tr class=\"target\"><td><a href=\"{0}\">{0}</a></td><td><span class=\"badge state-{1}\">{2}</span></td><td>{labels}</td><td>{last}</td><td>{3:.3}ms</td><td class=\"error\">{error}</td></tr>",
        escape(&t.scrape_url),
        h.state.as_str(),
        state,
        h.last_duration.as_secs_f64() * 1000.0,
    );
}
