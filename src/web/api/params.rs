//! Parsing of the API's time and duration parameters, as Prometheus accepts them.

use super::ApiError;
use crate::config::parse_duration;

/// Repeated parameters (`match[]`) need the raw pairs; both the query string and a
/// form-encoded POST body are read, as Prometheus does.
pub(crate) fn pairs(query: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Ok(b) = std::str::from_utf8(body) {
        out.extend(serde_urlencoded::from_str::<Vec<(String, String)>>(b).unwrap_or_default());
    }
    out
}

pub(crate) fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn all<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A timestamp as Unix seconds (with fraction) or RFC 3339, in milliseconds.
pub(crate) fn parse_time(s: &str, param: &str) -> Result<i64, ApiError> {
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() {
            return Ok((f * 1000.0).round() as i64);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    Err(ApiError::BadData(format!(
        "invalid parameter \"{param}\": cannot parse \"{s}\" to a valid timestamp"
    )))
}

/// A duration as float seconds or in Prometheus's duration syntax, in milliseconds.
pub(crate) fn parse_duration_param(s: &str, param: &str) -> Result<i64, ApiError> {
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && f >= 0.0 {
            return Ok((f * 1000.0).round() as i64);
        }
    }
    parse_duration(s)
        .map(|d| d.as_millis() as i64)
        .map_err(|_| {
            ApiError::BadData(format!(
                "invalid parameter \"{param}\": cannot parse \"{s}\" to a valid duration"
            ))
        })
}

/// Prometheus's default "minimum" and "maximum" times for unset start/end parameters.
pub(crate) const MIN_TIME_MS: i64 = -9_223_372_036_854_775 + 1;
pub(crate) const MAX_TIME_MS: i64 = 9_223_372_036_854_775 - 1;

/// The matchers of a series selector such as `up{job="a"}` (a `match[]` parameter).
pub(crate) fn parse_matchers(s: &str) -> Result<Vec<crate::model::Matcher>, ApiError> {
    use crate::promql::parser::Expr;
    let expr = crate::promql::parse(s)
        .map_err(|e| ApiError::BadData(format!("invalid parameter \"match[]\": {e}")))?;
    let Expr::Vector(sel) = expr else {
        return Err(ApiError::BadData(format!(
            "invalid parameter \"match[]\": {s:?} is not a series selector"
        )));
    };
    if sel.matchers.iter().all(|m| m.matches_empty()) {
        return Err(ApiError::BadData(
            "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"
                .into(),
        ));
    }
    Ok(sel.matchers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000", "time").unwrap(), 1_700_000_000_000);
        assert_eq!(
            parse_time("1700000000.123", "time").unwrap(),
            1_700_000_000_123
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", "time").unwrap(),
            1_700_000_000_000
        );
        assert!(parse_time("yesterday", "time").is_err());
        assert_eq!(parse_duration_param("15", "step").unwrap(), 15_000);
        assert_eq!(parse_duration_param("1m", "step").unwrap(), 60_000);
        assert!(parse_duration_param("x", "step").is_err());
    }
}
