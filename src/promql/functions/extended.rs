//! Range functions over `anchored` and `smoothed` windows (Prometheus 3.x experimental
//! modifiers): the value at each window edge is the last sample before it (anchored) or is
//! interpolated between the samples around it (smoothed), so no extrapolation is needed.

use super::super::parser::EdgeMode;
use super::super::selectors::interpolate;
use super::super::value::QueryError;
use crate::model::Sample;

const ANCHORED_SAFE: &[&str] = &["changes", "delta", "increase", "rate", "resets"];
const SMOOTHED_SAFE: &[&str] = &["delta", "increase", "rate"];

/// Rejects functions that cannot take a window with samples outside its bounds.
pub(super) fn check_allowed(name: &str, edge: EdgeMode) -> Result<(), QueryError> {
    let (word, allowed) = match edge {
        EdgeMode::Plain => return Ok(()),
        EdgeMode::Anchored => ("anchored", ANCHORED_SAFE),
        EdgeMode::Smoothed => ("smoothed", SMOOTHED_SAFE),
    };
    if allowed.contains(&name) {
        return Ok(());
    }
    Err(QueryError::exec(format!(
        "{word} modifier can only be used with: {} - not with {name}",
        allowed.join(", ")
    )))
}

/// Index of the first sample in `f[..n]` for which `pred` holds, or `n` (Go's `sort.Search`).
fn search(f: &[Sample], n: usize, pred: impl Fn(&Sample) -> bool) -> usize {
    f[..n].partition_point(|p| !pred(p))
}

/// `f` holds the samples in (start - lookback, end] (and up to end + lookback if smoothed).
pub(super) fn range_fn(
    name: &str,
    f: &[Sample],
    start: i64,
    end: i64,
    range: i64,
    edge: EdgeMode,
) -> Option<f64> {
    if f.is_empty() {
        return None;
    }
    match name {
        "rate" => extended_rate(f, start, end, range, edge, true, true),
        "increase" => extended_rate(f, start, end, range, edge, true, false),
        "delta" => extended_rate(f, start, end, range, edge, false, false),
        _ => {
            // changes/resets: start from the last sample at or before the window's start.
            let le = f.partition_point(|p| p.t <= start);
            if le >= f.len() {
                return None;
            }
            let p = &f[le.saturating_sub(1)..];
            let n = if name == "changes" {
                p.windows(2)
                    .filter(|x| x[1].v != x[0].v && !(x[1].v.is_nan() && x[0].v.is_nan()))
                    .count()
            } else {
                p.windows(2).filter(|x| x[1].v < x[0].v).count()
            };
            Some(n as f64)
        }
    }
}

fn extended_rate(
    f: &[Sample],
    start: i64,
    end: i64,
    range: i64,
    edge: EdgeMode,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let smoothed = edge == EdgeMode::Smoothed;
    let mut last = f.len() - 1;
    let mut first = search(f, last, |p| p.t > start).saturating_sub(1);
    if smoothed {
        last = search(f, last, |p| p.t >= end);
    }
    if f[last].t <= start || (smoothed && f[first].t > end) {
        return None;
    }
    let left = if smoothed && f[first].t < start {
        interpolate(f[first], f[first + 1], start, is_counter)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > end {
        interpolate(f[last - 1], f[last], end, is_counter)
    } else {
        f[last].v
    };
    let mut result = right - left;
    if is_counter {
        if f[first].t <= start {
            first += 1;
        }
        let inner_end = if f[last].t >= end { last } else { last + 1 };
        let inner = f.get(first..inner_end.max(first)).unwrap_or(&[]);
        let mut prev = left;
        for p in inner {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
        if right < prev {
            result += prev;
        }
    }
    if is_rate {
        result /= range as f64 / 1000.0;
    }
    Some(result)
}

/// A range selector's samples with values placed at both window edges, for `anchored` or
/// `smoothed` range vectors returned as query results.
pub(crate) fn extend_floats(f: &[Sample], start: i64, end: i64, smoothed: bool) -> Vec<Sample> {
    if f.is_empty() {
        return Vec::new();
    }
    let mut last = f.len() - 1;
    let mut first = search(f, last, |p| p.t > start).saturating_sub(1);
    if smoothed {
        last = search(f, last, |p| p.t >= end);
    }
    if f[last].t <= start {
        return Vec::new();
    }
    let left = if smoothed && f[first].t < start {
        interpolate(f[first], f[first + 1], start, false)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > end {
        interpolate(f[last - 1], f[last], end, false)
    } else {
        f[last].v
    };
    if f[first].t <= start {
        first += 1;
    }
    let inner_end = if f[last].t >= end { last } else { last + 1 };
    let mut out = vec![Sample { t: start, v: left }];
    out.extend_from_slice(f.get(first..inner_end.max(first)).unwrap_or(&[]));
    out.push(Sample { t: end, v: right });
    out
}
