//! Status → Service Discovery: per job, every discovered target with its labels before and
//! after relabeling (dropped ones marked), and the failures of the job's discovery providers.

use super::{escape, layout};
use crate::model::Labels;
use crate::web::AppState;
use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One discovered target: its discovered labels and, unless dropped, its final labels.
struct Row {
    discovered: Labels,
    labels: Option<Labels>,
}

pub(super) async fn page(s: web::Data<AppState>) -> HttpResponse {
    let mut jobs: BTreeMap<String, Vec<Row>> = s
        .config
        .read()
        .scrape_configs
        .iter()
        .map(|c| (c.job_name.clone(), Vec::new()))
        .collect();
    for t in s.registry.active() {
        jobs.entry(t.scrape_pool.clone()).or_default().push(Row {
            discovered: t.discovered_labels.clone(),
            labels: Some(t.labels.clone()),
        });
    }
    for d in s.registry.dropped() {
        jobs.entry(d.scrape_pool).or_default().push(Row {
            discovered: d.discovered_labels,
            labels: None,
        });
    }

    let mut body = String::from("<h1>Service Discovery</h1><ul>");
    for (job, rows) in &jobs {
        let active = rows.iter().filter(|r| r.labels.is_some()).count();
        let _ = write!(
            body,
            "<li><a href=\"#job-{0}\">{0}</a> ({active} / {1} active targets)</li>",
            escape(job),
            rows.len()
        );
    }
    body.push_str("</ul>");
    for (job, rows) in &jobs {
        let _ = write!(
            body,
            "<details open id=\"job-{0}\"><summary><b>{0}</b></summary>",
            escape(job)
        );
        for (source, error) in s.registry.sd.errors(job) {
            let _ = write!(
                body,
                "<p class=\"error sd-error\">Discovery of <code>{}</code> failed: {}</p>",
                escape(&source),
                escape(&error)
            );
        }
        body.push_str(
            "<table><thead><tr><th>Discovered Labels</th><th>Target Labels</th></tr></thead><tbody>",
        );
        for r in rows {
            let target = match &r.labels {
                Some(l) => badges(l),
                None => "<span class=\"badge state-down\">Dropped</span>".to_string(),
            };
            let class = if r.labels.is_some() {
                "active"
            } else {
                "dropped"
            };
            let _ = write!(
                body,
                "<tr class=\"{class}\"><td>{}</td><td>{target}</td></tr>",
                badges(&r.discovered)
            );
        }
        if rows.is_empty() {
            body.push_str("<tr><td colspan=\"2\">No targets discovered.</td></tr>");
        }
        body.push_str("</tbody></table></details>");
    }
    layout("Service Discovery", &body)
}

fn badges(labels: &Labels) -> String {
    labels
        .iter()
        .map(|l| {
            format!(
                "<span class=\"badge\">{}=\"{}\"</span>",
                escape(&l.name),
                escape(&l.value)
            )
        })
        .collect()
}
