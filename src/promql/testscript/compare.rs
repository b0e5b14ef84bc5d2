//! Comparing a query's result and annotations with what an eval expects, with the
//! tolerances of Prometheus's test runner.

use super::run::Eval;
use super::series::SeqValue;
use crate::model::{is_stale_nan, Sample};
use crate::promql::{QueryOutput, Value};
use crate::storage::SeriesData;
use regex::Regex;

/// Checks one kind of annotation against the `expect` lines for it.
fn check_annotations(
    kind: &str,
    lines: &[Option<Regex>],
    none: bool,
    got: &[String],
) -> Result<(), String> {
    if none && !got.is_empty() {
        return Err(format!("expected no {kind}, got {got:?}"));
    }
    for line in lines {
        let ok = match line {
            None => !got.is_empty(),
            Some(re) => got.iter().any(|g| re.is_match(g)),
        };
        if !ok {
            let want = line.as_ref().map_or("any".to_string(), |r| r.to_string());
            return Err(format!("expected {kind} matching {want}, got {got:?}"));
        }
    }
    if lines.iter().any(Option::is_some) {
        if let Some(g) = got.iter().find(|g| {
            !lines
                .iter()
                .any(|l| l.as_ref().is_none_or(|re| re.is_match(g)))
        }) {
            return Err(format!("unexpected {kind} {g:?}"));
        }
    }
    Ok(())
}

pub(super) fn check_output_annotations(ev: &Eval, out: &QueryOutput) -> Result<(), String> {
    check_annotations("warning", &ev.warn_lines, ev.no_warn, &out.warnings)?;
    check_annotations("info", &ev.info_lines, ev.no_info, &out.infos)
}

/// Equality with relative tolerance 1e-6, NaN equal to NaN, stale only equal to stale.
fn almost_equal(a: f64, b: f64) -> bool {
    const EPS: f64 = 1e-6;
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < EPS * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < EPS
}

pub(super) fn check_sorted(m: &[SeriesData]) -> Result<(), String> {
    match m.windows(2).find(|w| w[0].labels > w[1].labels) {
        Some(w) => Err(format!(
            "matrix is not sorted: {} before {}",
            w[0].labels, w[1].labels
        )),
        None => Ok(()),
    }
}

pub(super) fn compare(ev: &Eval, v: &Value, start: i64) -> Result<(), String> {
    match v {
        Value::String { v, .. } => match &ev.expected_string {
            Some(want) if want == v => Ok(()),
            want => Err(format!("expected string {want:?}, got {v:?}")),
        },
        Value::Scalar { v, .. } => match ev.scalar {
            Some(want) if almost_equal(want, *v) => Ok(()),
            Some(want) => Err(format!("expected scalar {want}, got {v}")),
            None => Err(format!("expected a vector or matrix, got scalar {v}")),
        },
        Value::Vector(vec) => {
            if let Some(s) = ev.scalar {
                return Err(format!("expected scalar {s}, got a vector"));
            }
            let mut seen = vec![false; ev.series.len()];
            for (pos, s) in vec.iter().enumerate() {
                let Some(i) = ev.series.iter().position(|(l, _)| *l == s.labels) else {
                    return Err(format!("unexpected series {} = {}", s.labels, s.v));
                };
                if ev.ordered && i != pos {
                    return Err(format!(
                        "expected {} at position {}, found at {}",
                        s.labels,
                        i + 1,
                        pos + 1
                    ));
                }
                let want = match ev.series[i].1.first() {
                    Some(SeqValue::Float(f)) => *f,
                    _ => return Err(format!("no expected value for {}", s.labels)),
                };
                if !almost_equal(want, s.v) {
                    return Err(format!("expected {want} for {}, got {}", s.labels, s.v));
                }
                seen[i] = true;
            }
            match seen.iter().position(|s| !s) {
                Some(i) => Err(format!("expected series {} is missing", ev.series[i].0)),
                None => Ok(()),
            }
        }
        Value::Matrix(m) => {
            if ev.ordered {
                return Err("expected an ordered vector, got a matrix".into());
            }
            if ev.scalar.is_some() {
                return Err("expected a scalar, got a matrix".into());
            }
            check_sorted(m)?;
            let mut seen = vec![false; ev.series.len()];
            for s in m {
                let Some(i) = ev.series.iter().position(|(l, _)| *l == s.labels) else {
                    return Err(format!(
                        "unexpected series {} with {} points",
                        s.labels,
                        s.samples.len()
                    ));
                };
                seen[i] = true;
                let mut want = Vec::new();
                for (k, v) in ev.series[i].1.iter().enumerate() {
                    let t = start + k as i64 * ev.step;
                    if t > ev.end {
                        return Err(format!("too many expected points for {}", s.labels));
                    }
                    if let SeqValue::Float(f) = v {
                        want.push(Sample { t, v: *f });
                    }
                }
                let got = &s.samples;
                let same = want.len() == got.len()
                    && want
                        .iter()
                        .zip(got)
                        .all(|(w, g)| w.t == g.t && almost_equal(w.v, g.v));
                if !same {
                    let fmt = |v: &[Sample]| {
                        v.iter()
                            .map(|p| format!("{}@{}", p.v, p.t))
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    return Err(format!(
                        "series {}: expected [{}], got [{}]",
                        s.labels,
                        fmt(&want),
                        fmt(got)
                    ));
                }
            }
            match seen.iter().position(|s| !s) {
                Some(i) => Err(format!("expected series {} is missing", ev.series[i].0)),
                None => Ok(()),
            }
        }
    }
}
