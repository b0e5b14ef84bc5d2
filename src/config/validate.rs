//! Small checks shared by the config sections: label names, label sets, target addresses.

use serde::Deserializer;
use std::collections::BTreeMap;

use super::de::checked_string_map;

/// Whether `name` is a valid label name under Prometheus's classic rule
/// `[a-zA-Z_][a-zA-Z0-9_]*` (the rule `promtool` 2.x applies to configs).
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return false,
    }
    bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Checks a target address the way Prometheus does at load time: it is `host:port` (or a
/// bare host), so a `/` means a scheme or a path was written into it.
pub fn check_target_address(addr: &str) -> Result<(), String> {
    if addr.is_empty() {
        return Err("empty target address: write host:port".into());
    }
    if addr.contains('/') {
        return Err(format!(
            "{addr:?} is not a valid target address: write host:port only, and put the \
             scheme in 'scheme' and the path in 'metrics_path'"
        ));
    }
    Ok(())
}

/// Deserializes a label set (`labels:`, `external_labels:`), rejecting invalid names.
pub(crate) fn deserialize_label_set<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    checked_string_map(d, check_label_name)
}

/// [`is_valid_label_name`] as a check with a message.
pub(crate) fn check_label_name(name: &str) -> Result<(), String> {
    if is_valid_label_name(name) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid label name: use letters, digits and '_', not starting with a digit"
        ))
    }
}
