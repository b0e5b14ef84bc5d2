//! Target group lists in Prometheus's file and HTTP discovery format: a list of objects with
//! `targets` (a list of `host:port` strings) and `labels` (a map of label names to values).

use super::{TargetGroup, ADDRESS_LABEL};
use crate::model::{Labels, LabelsBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The encoding of a target group list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupFormat {
    Json,
    Yaml,
}

impl GroupFormat {
    /// The format a `file_sd_configs` file is read in, from its extension (any case), as
    /// Prometheus decides it: `.json` is JSON, everything else YAML.
    pub fn from_path(path: &str) -> GroupFormat {
        let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if ext.eq_ignore_ascii_case("json") {
            GroupFormat::Json
        } else {
            GroupFormat::Yaml
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GroupsError {
    #[error("invalid JSON target groups in {source_name}: {message}")]
    Json {
        source_name: String,
        message: String,
    },
    #[error("invalid YAML target groups in {source_name}: {message}")]
    Yaml {
        source_name: String,
        message: String,
    },
    #[error("empty label name in target group {index} of {source_name}")]
    EmptyLabelName { source_name: String, index: usize },
    #[error("target group {index} of {source_name} is null")]
    NullGroup { source_name: String, index: usize },
}

/// A group as written in JSON, where unknown fields are ignored (Go's JSON decoding).
#[derive(Deserialize)]
struct RawGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A group as written in YAML, where Prometheus decodes strictly: unknown fields are errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictGroup {
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

impl From<StrictGroup> for RawGroup {
    fn from(g: StrictGroup) -> Self {
        RawGroup {
            targets: g.targets,
            labels: g.labels,
        }
    }
}

/// Parses a target group list read from `source_name` (a file path or URL). Each group gets
/// the source `<source_name>:<index>` and the label `meta_label` = `source_name`
/// (`__meta_filepath` or `__meta_url`), as Prometheus's providers set them.
pub fn parse_groups(
    text: &str,
    format: GroupFormat,
    source_name: &str,
    meta_label: &str,
) -> Result<Vec<TargetGroup>, GroupsError> {
    let raw: Vec<Option<RawGroup>> = match format {
        GroupFormat::Json => serde_json::from_str(text).map_err(|e| GroupsError::Json {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?,
        // An empty YAML document is an empty list, as in Prometheus.
        GroupFormat::Yaml if text.trim().is_empty() => Vec::new(),
        GroupFormat::Yaml => serde_yaml::from_str::<Option<Vec<Option<StrictGroup>>>>(text)
            .map_err(|e| GroupsError::Yaml {
                source_name: source_name.to_string(),
                message: e.to_string(),
            })?
            .unwrap_or_default()
            .into_iter()
            .map(|g| g.map(RawGroup::from))
            .collect(),
    };
    let mut out = Vec::with_capacity(raw.len());
    for (index, g) in raw.into_iter().enumerate() {
        let g = g.ok_or_else(|| GroupsError::NullGroup {
            source_name: source_name.to_string(),
            index,
        })?;
        let mut labels = LabelsBuilder::new();
        for (k, v) in g.labels.unwrap_or_default() {
            if k.is_empty() {
                return Err(GroupsError::EmptyLabelName {
                    source_name: source_name.to_string(),
                    index,
                });
            }
            labels.set(&k, &v);
        }
        labels.set(meta_label, source_name);
        out.push(TargetGroup {
            source: format!("{source_name}:{index}"),
            targets: g
                .targets
                .unwrap_or_default()
                .iter()
                .map(|t| Labels::from_pairs(&[(ADDRESS_LABEL, t.as_str())]))
                .collect(),
            labels: labels.build(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_yaml_alike() {
        let json =
            r#"[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": ["c:3"]}]"#;
        let yaml = "- targets: ['a:1', 'b:2']\n  labels:\n    env: prod\n- targets: ['c:3']\n";
        for (text, format) in [(json, GroupFormat::Json), (yaml, GroupFormat::Yaml)] {
            let g = parse_groups(text, format, "/sd/x", "__meta_filepath").unwrap();
            assert_eq!(g.len(), 2);
            assert_eq!(g[0].source, "/sd/x:0");
            assert_eq!(g[1].source, "/sd/x:1");
            assert_eq!(g[0].targets.len(), 2);
            assert_eq!(g[0].targets[1].get(ADDRESS_LABEL), Some("b:2"));
            assert_eq!(g[0].labels.get("env"), Some("prod"));
            assert_eq!(g[1].labels.get("__meta_filepath"), Some("/sd/x"));
        }
    }

    #[test]
    fn rejects_broken_lists() {
        let cases = [
            ("", GroupFormat::Json, "invalid JSON"),
            (
                "[{\"targets\": [\"a:1\"]",
                GroupFormat::Json,
                "invalid JSON",
            ),
            ("{\"targets\": []}", GroupFormat::Json, "invalid JSON"),
            ("[null]", GroupFormat::Json, "is null"),
            (
                "[{\"labels\": {\"\": \"x\"}}]",
                GroupFormat::Json,
                "empty label",
            ),
            ("- targets: [a:1\n", GroupFormat::Yaml, "invalid YAML"),
            ("targets: ['a:1']\n", GroupFormat::Yaml, "invalid YAML"),
            (
                "- targets: ['a:1']\n  lables: {a: b}\n",
                GroupFormat::Yaml,
                "lables",
            ),
        ];
        for (text, format, want) in cases {
            let err = parse_groups(text, format, "f", "__meta_filepath")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn unknown_json_fields_are_ignored() {
        let g = parse_groups(
            r#"[{"targets": ["a:1"], "extra": 1}]"#,
            GroupFormat::Json,
            "f",
            "m",
        )
        .unwrap();
        assert_eq!(g[0].targets.len(), 1);
    }

    #[test]
    fn empty_yaml_is_no_groups() {
        for text in ["", "\n", "[]"] {
            assert!(parse_groups(text, GroupFormat::Yaml, "f", "m")
                .unwrap()
                .is_empty());
        }
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(GroupFormat::from_path("/a/b.JSON"), GroupFormat::Json);
        assert_eq!(GroupFormat::from_path("/a/b.yml"), GroupFormat::Yaml);
        assert_eq!(GroupFormat::from_path("/a.json/b.yaml"), GroupFormat::Yaml);
    }
}
