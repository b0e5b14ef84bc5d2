//! Functions that map each sample of their vector argument on its own (math, clamping,
//! rounding, calendar fields). They run series by series, without building a vector per
//! step, and mark the metric name for removal.

use super::super::engine::Evaluator;
use super::super::parser::Expr;
use super::super::value::{QueryError, Series};
use super::date_field;
use crate::model::Sample;

const MATH: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "exp",
    "sqrt",
    "ln",
    "log2",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "rad",
    "deg",
    "sgn",
    "timestamp",
    "clamp",
    "clamp_max",
    "clamp_min",
    "round",
];

const DATES: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
];

/// Whether a call maps samples one by one (calendar functions only with an argument).
pub(super) fn applies(name: &str, args: &[Expr]) -> bool {
    MATH.contains(&name) || (DATES.contains(&name) && !args.is_empty())
}

pub(super) fn eval(
    ev: &mut Evaluator,
    name: &str,
    args: &[Expr],
) -> Result<Vec<Series>, QueryError> {
    let mut params = Vec::with_capacity(args.len().saturating_sub(1));
    for a in args.iter().skip(1) {
        params.push(ev.eval_scalar(a)?);
    }
    let input = ev.eval_matrix(&args[0])?;
    let (start, interval) = (ev.start, ev.interval.max(1));
    let mut out = Vec::with_capacity(input.len());
    let mut p: Vec<f64> = Vec::with_capacity(params.len());
    for s in input {
        let mut points = Vec::with_capacity(s.points.len());
        for pt in &s.points {
            let k = ((pt.t - start) / interval) as usize;
            p.clear();
            p.extend(params.iter().map(|v| v.get(k).copied().unwrap_or(f64::NAN)));
            if let Some(v) = apply(name, pt.v, &p, pt.t) {
                points.push(Sample { t: pt.t, v });
            }
        }
        if !points.is_empty() {
            out.push(Series {
                labels: s.labels,
                points,
                drop_name: true,
            });
        }
    }
    Ok(out)
}

/// The function's value for one sample `x` at step `t`; `None` drops the sample.
fn apply(name: &str, x: f64, p: &[f64], t: i64) -> Option<f64> {
    let arg = |i: usize| p.get(i).copied().unwrap_or(f64::NAN);
    Some(match name {
        "abs" => x.abs(),
        "ceil" => x.ceil(),
        "floor" => x.floor(),
        "exp" => x.exp(),
        "sqrt" => x.sqrt(),
        "ln" => x.ln(),
        "log2" => x.log2(),
        "log10" => x.log10(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "asin" => x.asin(),
        "acos" => x.acos(),
        "atan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "tanh" => x.tanh(),
        "asinh" => x.asinh(),
        "acosh" => x.acosh(),
        "atanh" => x.atanh(),
        "rad" => x.to_radians(),
        "deg" => x.to_degrees(),
        "sgn" if x > 0.0 => 1.0,
        "sgn" if x < 0.0 => -1.0,
        "sgn" => x,
        // Outside a plain selector, a sample's timestamp is the step it was evaluated at.
        "timestamp" => t as f64 / 1000.0,
        "clamp" if arg(1) < arg(0) => return None,
        "clamp" => x.max(arg(0)).min(arg(1)),
        "clamp_max" => x.min(arg(0)),
        "clamp_min" => x.max(arg(0)),
        "round" => {
            // Half up, to a multiple of the optional argument; the inverse is used as
            // Prometheus does, for fewer rounding surprises.
            let inv = 1.0 / if p.is_empty() { 1.0 } else { arg(0) };
            (x * inv + 0.5).floor() / inv
        }
        date => date_field(date, x),
    })
}
