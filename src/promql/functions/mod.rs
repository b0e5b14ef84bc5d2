//! PromQL functions. This file dispatches calls and holds the instant-vector functions
//! (math, clamping, dates, sorting, labels); `range.rs` holds the functions over range
//! vectors and `histogram.rs` the classic-histogram functions. Semantics follow
//! Prometheus 3.x `promql/functions.go`.

mod elementwise;
mod extended;
mod histogram;
mod info;
mod range;

pub(crate) use extended::extend_floats;
pub(crate) use histogram::quantile;
pub(crate) use range::kahan_inc;

use super::engine::Evaluator;
use super::parser::{Expr, FuncDef};
use super::selectors::{go_max, go_min};
use super::value::{Elem, QueryError, Series};
use crate::model::{Labels, LabelsBuilder, MatchOp, Sample, METRIC_NAME};
use chrono::{Datelike, TimeZone, Timelike, Utc};
use regex::Regex;
use std::cmp::Ordering;

pub(crate) fn eval_call(
    ev: &mut Evaluator,
    func: &'static FuncDef,
    args: &[Expr],
) -> Result<Vec<Series>, QueryError> {
    let name = func.name;
    match name {
        "time" => return Ok(per_step(ev, |t| t as f64 / 1000.0)),
        "pi" => return Ok(ev.constant(std::f64::consts::PI)),
        "start" => return Ok(ev.constant(ev.query_start as f64 / 1000.0)),
        "end" => return Ok(ev.constant(ev.query_end as f64 / 1000.0)),
        "range" => return Ok(ev.constant((ev.query_end - ev.query_start) as f64 / 1000.0)),
        "step" => return Ok(ev.constant(ev.query_step as f64 / 1000.0)),
        "label_replace" => return label_replace(ev, args),
        "label_join" => return label_join(ev, args),
        "info" => return info::eval(ev, args),
        "timestamp" => {
            if let Some(Expr::Vector(sel)) = args.first() {
                let mut m = ev.vector_selector(sel, true)?;
                m.iter_mut().for_each(|s| s.drop_name = true);
                return Ok(m);
            }
        }
        _ => {}
    }
    if name.starts_with("sort") && ev.start != ev.end {
        ev.warn(
            "sort is ineffective for range queries since results are always ordered by labels"
                .into(),
        );
    }
    if elementwise::applies(name, args) {
        return elementwise::eval(ev, name, args);
    }
    if let Some(i) = func
        .args
        .iter()
        .position(|t| *t == super::ValueType::Matrix)
    {
        return range::eval(ev, name, args, i);
    }
    let mut mats = Vec::with_capacity(args.len());
    let mut strings = Vec::new();
    for a in args {
        if a.value_type() == super::ValueType::String {
            strings.push(ev.eval_string(a)?);
            mats.push(Vec::new());
        } else {
            mats.push(ev.eval_matrix(a)?);
        }
    }
    let absent_labels = if name == "absent" {
        args.first().map(absent_labels).unwrap_or_default()
    } else {
        Labels::empty()
    };
    ev.range_eval(&mats, |ev, vecs, t| {
        instant_fn(ev, name, vecs, &strings, t, &absent_labels)
    })
}

/// A scalar computed from the step time.
fn per_step(ev: &Evaluator, f: impl Fn(i64) -> f64) -> Vec<Series> {
    vec![Series {
        labels: Labels::empty(),
        points: ev.steps().map(|t| Sample { t, v: f(t) }).collect(),
        drop_name: false,
    }]
}

fn scalar_arg(vecs: &[Vec<Elem>], i: usize) -> f64 {
    vecs.get(i)
        .and_then(|v| v.first())
        .map_or(f64::NAN, |e| e.v)
}

fn instant_fn(
    ev: &mut Evaluator,
    name: &str,
    vecs: &[Vec<Elem>],
    strings: &[String],
    t: i64,
    absent_labels: &Labels,
) -> Result<Vec<Elem>, QueryError> {
    let empty = Vec::new();
    let v = vecs.first().unwrap_or(&empty);
    let out = match name {
        "scalar" => vec![Elem::new(
            Labels::empty(),
            if v.len() == 1 { v[0].v } else { f64::NAN },
        )],
        "vector" => vec![Elem::new(Labels::empty(), scalar_arg(vecs, 0))],
        "min_of" => vec![Elem::new(
            Labels::empty(),
            go_min(scalar_arg(vecs, 0), scalar_arg(vecs, 1)),
        )],
        "max_of" => vec![Elem::new(
            Labels::empty(),
            go_max(scalar_arg(vecs, 0), scalar_arg(vecs, 1)),
        )],
        "absent" => {
            if v.is_empty() {
                vec![Elem::new(absent_labels.clone(), 1.0)]
            } else {
                Vec::new()
            }
        }
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute"
        | "month" | "year" => vec![Elem::new(
            Labels::empty(),
            date_field(name, t as f64 / 1000.0),
        )],
        "sort" => sorted(v, |a, b| cmp_nan_last(a.v, b.v)),
        "sort_desc" => sorted(v, |a, b| cmp_nan_last(-a.v, -b.v)),
        "sort_by_label" => sorted(v, |a, b| by_labels(a, b, strings)),
        "sort_by_label_desc" => sorted(v, |a, b| by_labels(b, a, strings)),
        "histogram_quantile" => {
            let q = scalar_arg(vecs, 0);
            if let Some(w) = quantile_warning(q) {
                ev.warn(w);
            }
            histogram::histogram_quantile(ev, q, &vecs[1])
        }
        "histogram_quantiles" => {
            let mut out = Vec::new();
            let label = strings.first().cloned().unwrap_or_default();
            for i in 2..vecs.len() {
                let q = scalar_arg(vecs, i);
                if let Some(w) = quantile_warning(q) {
                    ev.warn(w);
                }
                for mut e in histogram::histogram_quantile(ev, q, &vecs[0]) {
                    let mut b = e.labels.builder();
                    b.set(&label, &openmetrics_float(q));
                    e.labels = b.build();
                    out.push(e);
                }
            }
            out
        }
        "histogram_fraction" => {
            histogram::histogram_fraction(ev, scalar_arg(vecs, 0), scalar_arg(vecs, 1), &vecs[2])
        }
        // The native-histogram functions see no native histograms in a float-only store.
        "histogram_avg" | "histogram_count" | "histogram_sum" | "histogram_stddev"
        | "histogram_stdvar" => Vec::new(),
        other => {
            return Err(QueryError::exec(format!(
                "function {other:?} is not supported"
            )))
        }
    };
    Ok(out)
}

/// A float as OpenMetrics writes label values: integers keep a `.0`.
fn openmetrics_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The warning for a quantile outside [0, 1], if `q` is one.
pub(crate) fn quantile_warning(q: f64) -> Option<String> {
    (q.is_nan() || !(0.0..=1.0).contains(&q))
        .then(|| format!("quantile value should be between 0 and 1, got {}", fmt_g(q)))
}

/// Formats a float as Go's `%g` does: shortest digits, exponent form below 1e-4 or from 1e6.
pub(crate) fn fmt_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if v != 0.0 && !(-4..6).contains(&exp) {
        let s = format!("{v:e}");
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{v}")
}

fn cmp_nan_last(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn sorted(v: &[Elem], cmp: impl Fn(&Elem, &Elem) -> Ordering) -> Vec<Elem> {
    let mut out = v.to_vec();
    out.sort_by(cmp);
    out
}

fn by_labels(a: &Elem, b: &Elem, names: &[String]) -> Ordering {
    for n in names {
        let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
        if x != y {
            return natural_cmp(x, y);
        }
    }
    a.labels.cmp(&b.labels)
}

/// Compares strings with runs of digits ordered by their numeric value.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then(na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

/// A calendar field of a Unix time in seconds, in UTC (seconds are truncated, as in Go).
pub(super) fn date_field(name: &str, secs: f64) -> f64 {
    if !secs.is_finite() {
        return f64::NAN;
    }
    let Some(d) = Utc.timestamp_opt(secs as i64, 0).single() else {
        return f64::NAN;
    };
    match name {
        "day_of_month" => d.day() as f64,
        "day_of_week" => d.weekday().num_days_from_sunday() as f64,
        "day_of_year" => d.ordinal() as f64,
        "hour" => d.hour() as f64,
        "minute" => d.minute() as f64,
        "month" => d.month() as f64,
        "year" => d.year() as f64,
        _ => days_in_month(d.year(), d.month()) as f64,
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1);
    let next = chrono::NaiveDate::from_ymd_opt(ny, nm, 1);
    match (first, next) {
        (Some(a), Some(b)) => (b - a).num_days() as u32,
        _ => 30,
    }
}

/// The labels `absent()` gives its one output: the equality matchers of a plain selector.
fn absent_labels(e: &Expr) -> Labels {
    let matchers = match e {
        Expr::Vector(sel) | Expr::Matrix { sel, .. } => &sel.matchers,
        _ => return Labels::empty(),
    };
    let mut b = LabelsBuilder::new();
    let mut seen = std::collections::HashSet::new();
    for m in matchers.iter().filter(|m| m.name != METRIC_NAME) {
        if m.op == MatchOp::Equal && seen.insert(m.name.as_str()) {
            b.set(&m.name, &m.value);
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}

/// Any non-empty UTF-8 name is valid (Prometheus 3.x); U+FFFD marks bytes that were not
/// UTF-8 in the query's string literal.
pub(crate) fn is_valid_label_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('\u{FFFD}')
}

fn string_arg(ev: &mut Evaluator, args: &[Expr], i: usize) -> Result<String, QueryError> {
    match args.get(i) {
        Some(a) => ev.eval_string(a),
        None => Err(QueryError::exec(format!("missing argument {i}"))),
    }
}

fn label_replace(ev: &mut Evaluator, args: &[Expr]) -> Result<Vec<Series>, QueryError> {
    let dst = string_arg(ev, args, 1)?;
    let repl = string_arg(ev, args, 2)?;
    let src = string_arg(ev, args, 3)?;
    let re_src = string_arg(ev, args, 4)?;
    let re = Regex::new(&format!("^(?s:{re_src})$")).map_err(|_| {
        QueryError::exec(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ))
    })?;
    if !is_valid_label_name(&dst) {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut m = ev.eval_matrix(&args[0])?;
    for s in &mut m {
        let val = s.labels.get(&src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&val) {
            let mut out = String::new();
            caps.expand(&repl, &mut out);
            let mut b = s.labels.builder();
            b.set(&dst, &out);
            s.labels = b.build();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    merge_same_labels(m)
}

fn label_join(ev: &mut Evaluator, args: &[Expr]) -> Result<Vec<Series>, QueryError> {
    let dst = string_arg(ev, args, 1)?;
    let sep = string_arg(ev, args, 2)?;
    let mut srcs = Vec::new();
    for i in 3..args.len() {
        srcs.push(string_arg(ev, args, i)?);
    }
    if !is_valid_label_name(&dst) {
        return Err(QueryError::exec(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut m = ev.eval_matrix(&args[0])?;
    for s in &mut m {
        let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
        let joined = joined.join(&sep);
        let mut b = s.labels.builder();
        b.set(&dst, &joined);
        s.labels = b.build();
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    merge_same_labels(m)
}

/// Series that ended up with the same labels are merged when their points do not collide.
fn merge_same_labels(m: Vec<Series>) -> Result<Vec<Series>, QueryError> {
    let mut out: Vec<Series> = Vec::with_capacity(m.len());
    let mut index: std::collections::HashMap<Labels, usize> = Default::default();
    for s in m {
        match index.get(&s.labels) {
            Some(&i) => {
                let base = &mut out[i];
                base.points.extend(s.points);
                base.points.sort_by_key(|p| p.t);
                if base.points.windows(2).any(|w| w[0].t == w[1].t) {
                    return Err(QueryError::exec(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}
