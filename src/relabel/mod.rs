//! Relabeling: rewriting a label set by a list of rules, as Prometheus does for targets
//! (`relabel_configs`), scraped series (`metric_relabel_configs`), alerts and remote writes.
//!
//! Input: a [`Labels`] set and the rules parsed by `crate::config`. Output: the rewritten
//! set, or `None` when a `keep`/`drop`-style rule drops it. The semantics are those of
//! `model/relabel.Process` in Prometheus 2.x/3.x, with classic label-name validation.

mod expand;

#[cfg(test)]
mod tests;

use md5::{Digest, Md5};

use crate::config::is_valid_label_name;
use crate::config::{Action, RelabelConfig};
use crate::model::{Labels, LabelsBuilder};

pub use expand::expand_template;

/// Applies `configs` in order to `labels`; `None` means the set was dropped.
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    // The set is copied into a builder only once a rule edits it, so rule lists that
    // only keep or drop (the common `metric_relabel_configs`) never copy it.
    let mut edited: Option<LabelsBuilder> = None;
    let mut joined = String::new();
    for cfg in configs {
        if !apply(labels, &mut edited, cfg, &mut joined) {
            return None;
        }
    }
    Some(edited.map_or_else(|| labels.clone(), LabelsBuilder::build))
}

/// Applies one rule to `labels` as edited so far by `edited`; false means "drop".
/// `joined` is scratch space for the joined source values, reused across rules.
fn apply(
    labels: &Labels,
    edited: &mut Option<LabelsBuilder>,
    cfg: &RelabelConfig,
    joined: &mut String,
) -> bool {
    joined.clear();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            joined.push_str(&cfg.separator);
        }
        joined.push_str(current(labels, edited, name));
    }
    let val = joined.as_str();
    let re = cfg.regex.regex();
    match cfg.action {
        Action::Drop => return !re.is_match(val),
        Action::Keep => return re.is_match(val),
        Action::DropEqual => return current(labels, edited, &cfg.target_label) != val,
        Action::KeepEqual => return current(labels, edited, &cfg.target_label) == val,
        _ => {}
    }
    let lb = edited.get_or_insert_with(|| labels.builder());
    match cfg.action {
        Action::Replace => {
            // No match: nothing to replace.
            if let Some(caps) = re.captures(val) {
                let target = expand_template(&cfg.target_label, re, &caps);
                // A template target can expand to something that is not a label name;
                // Prometheus then leaves the set unchanged.
                if is_valid_label_name(&target) {
                    let value = expand_template(&cfg.replacement, re, &caps);
                    // An empty value removes the label.
                    lb.set(&target, &value);
                }
            }
        }
        Action::Lowercase => {
            lb.set(&cfg.target_label, &val.to_lowercase());
        }
        Action::Uppercase => {
            lb.set(&cfg.target_label, &val.to_uppercase());
        }
        Action::HashMod => {
            // A modulus of zero is rejected when the config is loaded; a rule built in
            // code with one leaves the set unchanged rather than dividing by zero.
            if cfg.modulus > 0 {
                lb.set(&cfg.target_label, &(hash_of(val) % cfg.modulus).to_string());
            }
        }
        Action::LabelMap => {
            // Names are matched against the set as it was before this rule.
            let snapshot = std::mem::take(lb).build();
            *lb = snapshot.builder();
            for l in &snapshot {
                if let Some(caps) = re.captures(&l.name) {
                    let name = expand_template(&cfg.replacement, re, &caps);
                    if !name.is_empty() {
                        lb.set_shared(name.as_str().into(), l.value.clone());
                    }
                }
            }
        }
        Action::LabelDrop => {
            lb.retain(|name| !re.is_match(name));
        }
        Action::LabelKeep => {
            lb.retain(|name| re.is_match(name));
        }
        Action::Drop | Action::Keep | Action::DropEqual | Action::KeepEqual => {}
    }
    true
}

/// The value of label `name` in the set as edited so far; "" when absent.
fn current<'a>(labels: &'a Labels, edited: &'a Option<LabelsBuilder>, name: &str) -> &'a str {
    match edited {
        Some(b) => b.get(name),
        None => labels.get(name),
    }
    .unwrap_or("")
}

/// The number `hashmod` reduces: the last 8 bytes of the MD5 digest of the joined source
/// values, read big-endian — Prometheus's definition, so that sharding by `hashmod` puts
/// each target in the same shard as a Prometheus server would.
fn hash_of(val: &str) -> u64 {
    let digest = Md5::digest(val.as_bytes());
    let mut last = [0u8; 8];
    last.copy_from_slice(&digest[8..16]);
    u64::from_be_bytes(last)
}
