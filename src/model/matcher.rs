//! Label matchers: `=`, `!=`, `=~`, `!~`, with Prometheus's fully anchored RE2-style regexes.

use regex::Regex;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    RegexMatch,
    NotRegexMatch,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::NotRegexMatch => "!~",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?} in matcher: {source}")]
pub struct MatcherError {
    pattern: String,
    #[source]
    source: regex::Error,
}

/// A matcher on one label. A missing label matches as the empty string, as in Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = match op {
            MatchOp::RegexMatch | MatchOp::NotRegexMatch => Some(
                // Anchored at both ends; (?s) so that `.` matches newlines as Prometheus does.
                Regex::new(&format!("^(?s:{value})$")).map_err(|source| MatcherError {
                    pattern: value.clone(),
                    source,
                })?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            re,
        })
    }

    /// Shorthand for an equality matcher, which cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::RegexMatch => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegexMatch => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether the matcher accepts the empty string, i.e. series lacking the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        let cases = [
            (MatchOp::Equal, "a", "a", true),
            (MatchOp::Equal, "a", "b", false),
            (MatchOp::NotEqual, "a", "b", true),
            (MatchOp::RegexMatch, "a.*", "abc", true),
            (MatchOp::RegexMatch, "b", "abc", false), // anchored
            (MatchOp::NotRegexMatch, "a|b", "c", true),
            (MatchOp::RegexMatch, "", "", true),
            (MatchOp::RegexMatch, "a.c", "a\nc", true),
        ];
        for (op, pat, v, want) in cases {
            let m = Matcher::new(op, "l", pat).unwrap();
            assert_eq!(m.matches(v), want, "{m} on {v:?}");
        }
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(Matcher::new(MatchOp::RegexMatch, "l", "(").is_err());
    }
}
