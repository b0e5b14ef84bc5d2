//! The `relabel_configs` / `metric_relabel_configs` / `write_relabel_configs` entries: their
//! fields, defaults and the consistency rules Prometheus enforces when loading them
//! (`model/relabel` of Prometheus 2.x). Applying them to label sets is `crate::relabel`.

use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use super::de::{checked_strings, parse_str, CheckedList};
use super::validate::{check_label_name, is_valid_label_name};

/// What a relabel rule does with the label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    #[default]
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

impl Action {
    const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The name written in `action:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name; like Prometheus, the case of the name does not matter.
    pub fn parse(s: &str) -> Option<Action> {
        let lower = s.to_ascii_lowercase();
        Action::ALL.into_iter().find(|a| a.as_str() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, |s| {
            Action::parse(s).ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                format!(
                    "unknown relabel action {s:?}, expected one of {}",
                    names.join(", ")
                )
            })
        })
    }
}

/// A relabel regular expression. It always matches the whole string (Prometheus anchors it
/// as `^(?:...)$`); the text as written is kept for equality and for writing it back.
#[derive(Clone)]
pub struct RelabelRegex {
    source: String,
    anchored: regex::Regex,
}

impl RelabelRegex {
    /// The default regex `(.*)`, which matches anything and captures all of it.
    pub const DEFAULT: &'static str = "(.*)";

    pub fn new(source: &str) -> Result<Self, regex::Error> {
        let anchored = regex::Regex::new(&format!("^(?:{source})$"))?;
        Ok(RelabelRegex {
            source: source.to_string(),
            anchored,
        })
    }

    /// The expression as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled, fully anchored expression.
    pub fn regex(&self) -> &regex::Regex {
        &self.anchored
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        // The default pattern is a constant known to compile.
        RelabelRegex::new(Self::DEFAULT).unwrap_or_else(|_| unreachable!())
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for RelabelRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelabelRegex({:?})", self.source)
    }
}

impl Serialize for RelabelRegex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for RelabelRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_str(d, |s| {
            RelabelRegex::new(s).map_err(|e| format!("invalid regex {s:?}: {e}"))
        })
    }
}

/// Prometheus's default `separator` and `replacement`.
const DEFAULT_SEPARATOR: &str = ";";
const DEFAULT_REPLACEMENT: &str = "$1";

fn default_separator() -> String {
    DEFAULT_SEPARATOR.to_string()
}

fn default_replacement() -> String {
    DEFAULT_REPLACEMENT.to_string()
}

fn deserialize_label_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    checked_strings(d, check_label_name)
}

/// One relabel rule. Defaults are Prometheus's: separator `;`, regex `(.*)`,
/// replacement `$1`, action `replace`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    #[serde(
        default,
        deserialize_with = "deserialize_label_names",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source_labels: Vec<String>,
    #[serde(default = "default_separator")]
    pub separator: String,
    #[serde(default)]
    pub regex: RelabelRegex,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub modulus: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    #[serde(default = "default_replacement")]
    pub replacement: String,
    #[serde(default)]
    pub action: Action,
}

/// Reads a list of relabel rules, checking each at its own position in the file.
pub(crate) fn deserialize_relabel_configs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<RelabelConfig>, D::Error> {
    CheckedList::new(|rc: &mut RelabelConfig| rc.validate()).deserialize(d)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: default_separator(),
            regex: RelabelRegex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: default_replacement(),
            action: Action::Replace,
        }
    }
}

impl RelabelConfig {
    /// Checks the combination of fields the way Prometheus does when loading a config;
    /// the message names the action and the field to fix.
    pub fn validate(&self) -> Result<(), String> {
        let a = self.action;
        if a == Action::HashMod && self.modulus == 0 {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        // A replace target may be a template such as `${1}`; it is checked once expanded.
        let target_is_template = a == Action::Replace && self.target_label.contains('$');
        if needs_target && !target_is_template && !is_valid_label_name(&self.target_label) {
            return Err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ));
        }
        let no_replacement = matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if no_replacement && self.replacement != DEFAULT_REPLACEMENT {
            return Err(format!("'replacement' can not be set for {a} action"));
        }
        if a == Action::LabelMap && !is_valid_label_template(&self.replacement) {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if matches!(a, Action::KeepEqual | Action::DropEqual)
            && (self.regex.as_str() != RelabelRegex::DEFAULT
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR)
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and 'target_label', and no other fields"
            ));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// Whether `s` is a label name possibly built from `$1` / `${name}` references, the form a
/// `labelmap` replacement must have.
fn is_valid_label_template(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        if b[i] == b'$' {
            if b.get(i + 1) == Some(&b'{') {
                let len = b[i + 2..].iter().take_while(|c| word(**c)).count();
                if len == 0 || b.get(i + 2 + len) != Some(&b'}') {
                    return false;
                }
                i += len + 3;
            } else {
                let len = b[i + 1..].iter().take_while(|c| word(**c)).count();
                if len == 0 {
                    return false;
                }
                i += len + 1;
            }
        } else if first && b[i].is_ascii_digit() {
            return false;
        } else if word(b[i]) {
            i += 1;
        } else {
            return false;
        }
        first = false;
    }
    true
}
