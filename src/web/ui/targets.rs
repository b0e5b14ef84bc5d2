//! Status → Targets: targets grouped by scrape pool (collapsible, with up/total counts), with
//! filters by state and by text in the endpoint or labels.
//!
//! Server-rendered so it needs no script and costs one pass over the shared registry. To stay
//! usable with ten thousand targets, each pool shows its first [`ROWS_PER_POOL`] matching
//! targets and a "show more" link that raises that pool's limit, and pools past the first
//! [`PAGE_ROWS`] rows of the page are folded to their header with a link that lists them.

use super::{escape, layout};
use crate::model::Labels;
use crate::scrape::{HealthState, TargetStatus};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Rows shown per pool before "show more": a page of 10,000 rows takes seconds to lay out
/// in a browser, a few hundred do not.
const ROWS_PER_POOL: usize = 100;
/// How many more rows each "show more" adds.
const MORE_STEP: usize = 500;
/// Rows on the whole page before further pools are folded to their header (many small
/// pools add up to the same slow page as one big one).
const PAGE_ROWS: usize = 1000;

/// The page's query parameters: `state=unhealthy`, `search=…`, and `expand=<pool>&limit=N`
/// for a pool whose "show more" link was followed.
struct Filter {
    unhealthy_only: bool,
    search: String,
    expand: Option<String>,
    limit: usize,
}

impl Filter {
    fn from_query(query: &str) -> Filter {
        let q: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let get = |name: &str| q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        Filter {
            unhealthy_only: get("state") == Some("unhealthy"),
            search: get("search").unwrap_or("").trim().to_lowercase(),
            expand: get("expand").map(str::to_string),
            limit: get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(ROWS_PER_POOL),
        }
    }

    fn limit_for(&self, pool: &str) -> usize {
        match &self.expand {
            Some(p) if p == pool => self.limit.max(ROWS_PER_POOL),
            _ => ROWS_PER_POOL,
        }
    }

    /// A link to this page with the same filters and `extra` parameters.
    fn href(&self, extra: &[(&str, &str)]) -> String {
        let mut params: Vec<(&str, &str)> = Vec::new();
        if self.unhealthy_only {
            params.push(("state", "unhealthy"));
        }
        if !self.search.is_empty() {
            params.push(("search", &self.search));
        }
        params.extend_from_slice(extra);
        match serde_urlencoded::to_string(&params) {
            Ok(q) if !q.is_empty() => format!("/targets?{q}"),
            _ => "/targets".to_string(),
        }
    }

    fn keeps(&self, t: &TargetStatus) -> bool {
        (!self.unhealthy_only || t.health.read().state != HealthState::Up)
            && (self.search.is_empty() || matches_search(t, &self.search))
    }
}

pub(super) async fn page(s: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let f = Filter::from_query(req.query_string());
    let mut pools: BTreeMap<String, Vec<Arc<TargetStatus>>> = BTreeMap::new();
    for t in s.registry.active() {
        pools.entry(t.scrape_pool.clone()).or_default().push(t);
    }
    let mut body = String::from("<h1>Targets</h1>");
    controls(&mut body, &f);
    let now = SystemTime::now();
    let mut shown_pools = 0;
    let mut budget = PAGE_ROWS;
    for (pool, targets) in &pools {
        let up = targets
            .iter()
            .filter(|t| t.health.read().state == HealthState::Up)
            .count();
        let matching: Vec<&Arc<TargetStatus>> = targets.iter().filter(|t| f.keeps(t)).collect();
        if matching.is_empty() && (f.unhealthy_only || !f.search.is_empty()) {
            continue;
        }
        shown_pools += 1;
        let expanded = f.expand.as_deref() == Some(pool.as_str());
        if budget == 0 && !expanded {
            folded_pool(&mut body, &f, pool, up, targets.len(), matching.len());
            continue;
        }
        let limit = f.limit_for(pool);
        budget = budget.saturating_sub(limit.min(matching.len()));
        let _ = write!(
            body,
            "<details class=\"pool\" open id=\"pool-{0}\"><summary><b>{0}</b> ({up}/{1} up)</summary>\
<table><thead><tr><th>Endpoint</th><th>State</th><th>Labels</th><th>Last Scrape</th><th>Scrape Duration</th><th>Error</th></tr></thead><tbody>",
            escape(pool),
            targets.len()
        );
        for t in matching.iter().take(limit) {
            target_row(&mut body, t, now);
        }
        body.push_str("</tbody></table>");
        if matching.len() > limit {
            let next = (limit + MORE_STEP).to_string();
            let _ = write!(
                body,
                "<p class=\"more\">Showing {limit} of {} targets. <a href=\"{}#pool-{}\">Show {} more</a></p>",
                matching.len(),
                escape(&f.href(&[("expand", pool), ("limit", &next)])),
                escape(pool),
                MORE_STEP.min(matching.len() - limit)
            );
        }
        body.push_str("</details>");
    }
    if pools.is_empty() {
        body.push_str("<p>No targets configured.</p>");
    } else if shown_pools == 0 {
        body.push_str("<p>No targets match the filter.</p>");
    }
    layout("Targets", &body)
}

/// A pool past the page's row budget: its header and a link that lists its targets.
fn folded_pool(out: &mut String, f: &Filter, pool: &str, up: usize, total: usize, matching: usize) {
    let _ = write!(
        out,
        "<details class=\"pool\" id=\"pool-{0}\"><summary><b>{0}</b> ({up}/{total} up)</summary>\
<p class=\"more\">{matching} targets not listed, to keep this page fast. <a href=\"{1}#pool-{0}\">List them</a></p></details>",
        escape(pool),
        escape(&f.href(&[("expand", pool)])),
    );
}

fn controls(out: &mut String, f: &Filter) {
    let all_href = Filter {
        unhealthy_only: false,
        search: f.search.clone(),
        expand: None,
        limit: ROWS_PER_POOL,
    }
    .href(&[]);
    let unhealthy_href = Filter {
        unhealthy_only: true,
        search: f.search.clone(),
        expand: None,
        limit: ROWS_PER_POOL,
    }
    .href(&[]);
    let _ = write!(
        out,
        "<form class=\"controls\" method=\"get\" action=\"/targets\">\
<a href=\"{}\"{}>All</a><a href=\"{}\"{}>Unhealthy</a>",
        escape(&all_href),
        if f.unhealthy_only {
            ""
        } else {
            " class=\"on\""
        },
        escape(&unhealthy_href),
        if f.unhealthy_only {
            " class=\"on\""
        } else {
            ""
        },
    );
    if f.unhealthy_only {
        out.push_str("<input type=\"hidden\" name=\"state\" value=\"unhealthy\">");
    }
    let _ = write!(
        out,
        "<input type=\"search\" name=\"search\" placeholder=\"Filter by endpoint or labels\" value=\"{}\">\
<button type=\"submit\" class=\"small\">Filter</button></form>",
        escape(&f.search)
    );
}

fn matches_search(t: &TargetStatus, needle: &str) -> bool {
    t.scrape_url.to_lowercase().contains(needle)
        || t.labels.iter().any(|l| {
            format!("{}=\"{}\"", l.name, l.value)
                .to_lowercase()
                .contains(needle)
        })
}

/// "4.213s ago", "3m 12s ago", "2h 5m ago": short enough to scan down a long column.
fn ago(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.3}s ago", d.as_secs_f64())
    } else if s < 3600 {
        format!("{}m {}s ago", s / 60, s % 60)
    } else {
        format!("{}h {}m ago", s / 3600, (s % 3600) / 60)
    }
}

fn label_badges(out: &mut String, labels: &Labels) {
    for l in labels.iter() {
        let _ = write!(
            out,
            "<span class=\"badge label\">{}=\"{}\"</span>",
            escape(&l.name),
            escape(&l.value)
        );
    }
}

fn target_row(out: &mut String, t: &TargetStatus, now: SystemTime) {
    let h = t.health.read().clone();
    let last = match h.last_scrape {
        Some(at) => ago(now.duration_since(at).unwrap_or_default()),
        None => "never".to_string(),
    };
    let discovered: Vec<String> = t
        .discovered_labels
        .iter()
        .map(|l| format!("{}=\"{}\"", l.name, l.value))
        .collect();
    let _ = write!(
        out,
        "<tr class=\"target\"><td><a href=\"{0}\">{0}</a></td><td><span class=\"badge state-{1}\">{2}</span></td>\
<td title=\"Before relabeling: {3}\">",
        escape(&t.scrape_url),
        h.state.as_str(),
        h.state.as_str().to_uppercase(),
        escape(&discovered.join(", ")),
    );
    label_badges(out, &t.labels);
    let _ = write!(
        out,
        "</td><td>{last}</td><td>{:.3}ms</td><td class=\"error\">{}",
        h.last_duration.as_secs_f64() * 1000.0,
        escape(&h.last_error)
    );
    if h.rejected_samples > 0 {
        let _ = write!(
            out,
            " ({} samples rejected: out of order or duplicate timestamp)",
            h.rejected_samples
        );
    }
    out.push_str("</td></tr>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_is_short_at_every_scale() {
        let cases = [
            (Duration::from_millis(4213), "4.213s ago"),
            (Duration::from_secs(192), "3m 12s ago"),
            (Duration::from_secs(7500), "2h 5m ago"),
        ];
        for (d, want) in cases {
            assert_eq!(ago(d), want);
        }
    }

    #[test]
    fn filter_links_keep_state_and_search() {
        let f = Filter::from_query("state=unhealthy&search=a%26b&expand=node&limit=600");
        assert!(f.unhealthy_only);
        assert_eq!(f.search, "a&b");
        assert_eq!(f.limit_for("node"), 600);
        assert_eq!(f.limit_for("other"), ROWS_PER_POOL);
        assert_eq!(
            f.href(&[("expand", "x y")]),
            "/targets?state=unhealthy&search=a%26b&expand=x+y"
        );
    }
}
