//! Durations in Prometheus's notation (`1h30m`, `15s`, `100ms`), as used throughout
//! `prometheus.yml`, and the serde glue that reads and writes them in that notation.
//!
//! The grammar follows `model.ParseDuration` of `prometheus/common` (Prometheus 2.x/3.x):
//! integer amounts, units `y w d h m s ms` each at most once and in descending order,
//! `y` = 365 days, `w` = 7 days, and a bare `0` for zero.

use std::time::Duration;

/// Units from largest to smallest with their length in milliseconds; the order is the
/// order in which they must appear in a duration string.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 60 * 60 * 1000),
    ("w", 7 * 24 * 60 * 60 * 1000),
    ("d", 24 * 60 * 60 * 1000),
    ("h", 60 * 60 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("not a valid duration string: {0:?} (expected a number with a unit ms, s, m, h, d, w or y, e.g. \"15s\" or \"1m30s\")")]
    Invalid(String),
    #[error("duration {0:?} is too large")]
    Overflow(String),
}

/// Parses a Prometheus duration such as `1m30s`.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(DurationError::Invalid(s.to_string()));
    }
    let invalid = || DurationError::Invalid(s.to_string());
    let mut rest = s.as_bytes();
    let mut total: u64 = 0;
    // Index into UNITS of the next unit allowed: units only ever get smaller.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(invalid());
        }
        let mut amount: u64 = 0;
        for &b in &rest[..digits] {
            amount = amount
                .checked_mul(10)
                .and_then(|a| a.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
        }
        rest = &rest[digits..];
        let unit_len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| name.as_bytes() == unit)
            .ok_or_else(invalid)?;
        let (_, millis) = UNITS[next_unit + pos];
        next_unit += pos + 1;
        total = amount
            .checked_mul(millis)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
    }
    // Prometheus keeps durations as int64 nanoseconds; stay within that range.
    if total > (i64::MAX as u64) / 1_000_000 {
        return Err(DurationError::Overflow(s.to_string()));
    }
    Ok(Duration::from_millis(total))
}

/// Formats a duration the way Prometheus prints it: every non-zero unit from `y` down to
/// `ms`, so 90 seconds is `1m30s` and zero is `0s`. Sub-millisecond parts are dropped,
/// as the notation cannot express them.
pub fn format_duration(d: Duration) -> String {
    let mut millis = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, len) in UNITS {
        let n = millis / len;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(name);
            millis -= n * len;
        }
    }
    out
}

/// Serde glue for `Duration` fields written in Prometheus notation.
pub(crate) mod serde_duration {
    use serde::{Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        crate::config::de::parse_str(d, |s| super::parse_duration(s).map_err(|e| e.to_string()))
    }
}

/// Serde glue for optional `Duration` fields.
pub(crate) mod serde_opt_duration {
    use serde::{Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        // A present key always holds a duration; absence is handled by `#[serde(default)]`.
        super::serde_duration::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_table() {
        // (input, milliseconds, canonical form)
        let cases: &[(&str, u64, &str)] = &[
            ("0", 0, "0s"),
            ("0s", 0, "0s"),
            ("15s", 15_000, "15s"),
            ("90s", 90_000, "1m30s"),
            ("1m30s", 90_000, "1m30s"),
            ("60m", 3_600_000, "1h"),
            ("1h", 3_600_000, "1h"),
            ("24h", 86_400_000, "1d"),
            ("1d", 86_400_000, "1d"),
            ("7d", 604_800_000, "1w"),
            ("1w", 604_800_000, "1w"),
            ("365d", 31_536_000_000, "1y"),
            ("1y", 31_536_000_000, "1y"),
            ("100ms", 100, "100ms"),
            ("1500ms", 1500, "1s500ms"),
            (
                "1y2w3d4h5m6s7ms",
                31_536_000_000
                    + 2 * 604_800_000
                    + 3 * 86_400_000
                    + 4 * 3_600_000
                    + 5 * 60_000
                    + 6_000
                    + 7,
                "1y2w3d4h5m6s7ms",
            ),
        ];
        for &(input, ms, canonical) in cases {
            let d = parse_duration(input).unwrap();
            assert_eq!(d, Duration::from_millis(ms), "parse {input}");
            assert_eq!(format_duration(d), canonical, "format {input}");
            assert_eq!(parse_duration(canonical).unwrap(), d, "round trip {input}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        for input in [
            "",
            "15",
            "s",
            "1.5s",
            "-1s",
            "1s1m",
            "1m1m",
            "1 s",
            " 1s",
            "1S",
            "1sec",
            "1mss",
            "1µs",
            "1h 30m",
            "99999999999999999999y",
            "1000000y",
        ] {
            assert!(
                parse_duration(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }
}
