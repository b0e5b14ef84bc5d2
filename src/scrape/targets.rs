//! From discovered target groups to scrape targets, as Prometheus populates target labels.
//!
//! The discovered labels of a target are its own labels over its group's, plus the job's
//! defaults (`job`, `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
//! `__scrape_timeout__`, `__param_<name>`). `relabel_configs` run on them; what survives gives
//! the scrape URL and settings, `instance` defaults to `__address__`, and the labels starting
//! with `__` are removed.

use super::http::FetchSettings;
use super::ingest::IngestSettings;
use super::registry::DroppedTarget;
use super::target::TargetSpec;
use crate::config::{parse_duration, ScrapeConfig};
use crate::discovery::{TargetGroup, ADDRESS_LABEL};
use crate::model::{Labels, LabelsBuilder};
use crate::relabel::relabel;
use std::fmt::Write;

/// A target ready to be scraped, with what the API shows about it.
#[derive(Debug, Clone)]
pub struct BuiltTarget {
    pub spec: TargetSpec,
    pub discovered_labels: Labels,
    pub labels: Labels,
    pub scrape_url: String,
}

/// Builds the job's targets; targets dropped by relabeling (or unusable) are returned apart.
pub fn build_targets(
    cfg: &ScrapeConfig,
    groups: &[TargetGroup],
) -> (Vec<BuiltTarget>, Vec<DroppedTarget>) {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    for g in groups {
        for t in &g.targets {
            let discovered = discovered_labels(cfg, g, t);
            match populate(cfg, &discovered) {
                Some(bt) => active.push(bt),
                None => dropped.push(DroppedTarget {
                    scrape_pool: cfg.job_name.clone(),
                    discovered_labels: discovered,
                }),
            }
        }
    }
    // The same target listed twice is scraped once.
    active.sort_by_key(|t| t.spec.key);
    active.dedup_by_key(|t| t.spec.key);
    (active, dropped)
}

fn discovered_labels(cfg: &ScrapeConfig, g: &TargetGroup, t: &Labels) -> Labels {
    let mut b = LabelsBuilder::new();
    for l in &g.labels {
        b.set_shared(l.name.clone(), l.value.clone());
    }
    for l in t {
        b.set_shared(l.name.clone(), l.value.clone());
    }
    let defaults: [(&str, String); 5] = [
        ("job", cfg.job_name.clone()),
        ("__scheme__", cfg.scheme.clone()),
        ("__metrics_path__", cfg.metrics_path.clone()),
        (
            "__scrape_interval__",
            crate::config::format_duration(cfg.scrape_interval),
        ),
        (
            "__scrape_timeout__",
            crate::config::format_duration(cfg.scrape_timeout),
        ),
    ];
    for (n, v) in defaults {
        if b.get(n).is_none() {
            b.set(n, &v);
        }
    }
    for (name, values) in &cfg.params {
        let n = format!("__param_{name}");
        if let (None, Some(first)) = (b.get(&n), values.first()) {
            b.set(&n, first);
        }
    }
    b.build()
}

/// Applies relabeling and turns the result into a target; None if dropped or unusable.
fn populate(cfg: &ScrapeConfig, discovered: &Labels) -> Option<BuiltTarget> {
    let relabeled = if cfg.relabel_configs.is_empty() {
        discovered.clone()
    } else {
        relabel(discovered, &cfg.relabel_configs)?
    };
    let address = relabeled.get(ADDRESS_LABEL)?.to_string();
    if address.is_empty() {
        return None;
    }
    let scheme = relabeled.get("__scheme__").unwrap_or("http").to_string();
    let path = relabeled
        .get("__metrics_path__")
        .unwrap_or("/metrics")
        .to_string();
    let interval = relabeled
        .get("__scrape_interval__")
        .and_then(|v| parse_duration(v).ok())
        .unwrap_or(cfg.scrape_interval);
    let timeout = relabeled
        .get("__scrape_timeout__")
        .and_then(|v| parse_duration(v).ok())
        .unwrap_or(cfg.scrape_timeout)
        .min(interval);
    if interval.is_zero() {
        return None;
    }
    let scrape_url = scrape_url(cfg, &relabeled, &scheme, &address, &path);

    let mut b = relabeled.builder();
    if relabeled.get("instance").is_none() {
        b.set("instance", &address);
    }
    b.retain(|n| !n.starts_with("__"));
    let labels = b.build();

    let key = {
        let mut k = labels.builder();
        k.set("__url__", &scrape_url);
        k.build().stable_hash()
    };
    let spec = TargetSpec {
        key,
        interval,
        fetch: FetchSettings {
            url: scrape_url.clone(),
            timeout,
            body_size_limit: cfg.body_size_limit,
            basic_auth: cfg.basic_auth.clone(),
            authorization: cfg.authorization.clone(),
            tls: cfg.tls_config.clone(),
        },
        ingest: IngestSettings {
            target_labels: labels.clone(),
            honor_labels: cfg.honor_labels,
            honor_timestamps: cfg.honor_timestamps,
            sample_limit: cfg.sample_limit as usize,
            label_limit: cfg.label_limit as usize,
            label_name_length_limit: cfg.label_name_length_limit as usize,
            label_value_length_limit: cfg.label_value_length_limit as usize,
            metric_relabel_configs: cfg.metric_relabel_configs.clone(),
        },
    };
    Some(BuiltTarget {
        spec,
        discovered_labels: discovered.clone(),
        labels,
        scrape_url,
    })
}

fn scrape_url(
    cfg: &ScrapeConfig,
    labels: &Labels,
    scheme: &str,
    address: &str,
    path: &str,
) -> String {
    let mut url = format!("{scheme}://{address}{path}");
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, values) in &cfg.params {
        let from_label = labels.get(&format!("__param_{name}"));
        for (i, v) in values.iter().enumerate() {
            // A relabeled __param_<name> replaces the first value, as in Prometheus.
            let v = if i == 0 { from_label.unwrap_or(v) } else { v };
            params.push((name.clone(), v.to_string()));
        }
    }
    for l in labels {
        if let Some(name) = l.name.strip_prefix("__param_") {
            if !cfg.params.contains_key(name) {
                params.push((name.to_string(), l.value.to_string()));
            }
        }
    }
    for (i, (k, v)) in params.iter().enumerate() {
        let _ = write!(
            url,
            "{}{}={}",
            if i == 0 { '?' } else { '&' },
            query_escape(k),
            query_escape(v)
        );
    }
    url
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escape_encodes_reserved_bytes() {
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
