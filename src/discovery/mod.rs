//! Service discovery: where targets come from.
//!
//! Input: a scrape config's discovery sections. Output: target groups, each a list of targets
//! (label sets holding at least `__address__`) and labels common to the group, as Prometheus
//! models them. Only `static_configs` exist so far; file and HTTP providers send the same
//! groups to the job actor when they change.

use crate::config::StaticConfig;
use crate::model::{Labels, LabelsBuilder};

/// The label that holds a target's `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";

/// A group of targets from one source, with labels shared by all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group inside its provider (e.g. file path and index).
    pub source: String,
    pub targets: Vec<Labels>,
    pub labels: Labels,
}

/// The groups of a job's `static_configs`, one per entry.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let mut labels = LabelsBuilder::new();
            for (k, v) in &sc.labels {
                labels.set(k, v);
            }
            TargetGroup {
                source: i.to_string(),
                targets: sc
                    .targets
                    .iter()
                    .map(|t| Labels::from_pairs(&[(ADDRESS_LABEL, t.as_str())]))
                    .collect(),
                labels: labels.build(),
            }
        })
        .collect()
}
