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
    let mut builder = labels.builder();
    let mut joined = String::new();
    for cfg in configs {
        builder = apply(builder, cfg, &mut joined)?;
    }
    Some(builder.build())
}

/// Applies one rule. `joined` is scratch space for the joined source values, reused
/// across rules.
fn apply(mut lb: LabelsBuilder, cfg: &RelabelConfig, joined: &mut String) -> Option<LabelsBuilder> {
    joined.clear();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            joined.push_str(&cfg.separator);
        }
        joined.push_str(lb.get(name).unwrap_or(""));
    }
    let val = joined.as_str();
    let re = cfg.regex.regex();
    match cfg.action {
        Action::Drop => {
            if re.is_match(val) {
                return None;
            }
        }
        Action::Keep => {
            if !re.is_match(val) {
                return None;
            }
        }
        Action::DropEqual => {
            if lb.get(&cfg.target_label).unwrap_or("") == val {
                return None;
            }
        }
        Action::KeepEqual => {
            if lb.get(&cfg.target_label).unwrap_or("") != val {
                return None;
            }
        }
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
            let snapshot = lb.build();
            lb = snapshot.builder();
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
    }
    Some(lb)
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
