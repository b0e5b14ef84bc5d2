//! Functions over range vectors: `rate` and friends with Prometheus's extrapolation, and the
//! `*_over_time` family. Each window is the samples in (t - range, t] of one series.

use super::super::engine::Evaluator;
use super::super::parser::{EdgeMode, Expr};
use super::super::selectors::window;
use super::super::value::{QueryError, Series};
use super::quantile;
use crate::model::Sample;

/// Neumaier-compensated summation step, as Prometheus's `kahansum.Inc`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

pub(super) fn eval(
    ev: &mut Evaluator,
    name: &str,
    args: &[Expr],
    matrix_idx: usize,
) -> Result<Vec<Series>, QueryError> {
    let mut scalars = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != matrix_idx {
            scalars.push(ev.eval_scalar(a)?);
        }
    }
    if name == "quantile_over_time" {
        let qs = scalars.first().cloned().unwrap_or_default();
        if let Some(w) = qs.iter().find_map(|q| super::quantile_warning(*q)) {
            ev.warn(w);
        }
    }
    let ws = ev.windows(&args[matrix_idx])?;
    super::extended::check_allowed(name, ws.edge)?;
    let (before, after) = ws.extension();
    let keep_name = name == "last_over_time" || name == "first_over_time";
    let steps: Vec<i64> = ev.steps().collect();
    let mut out = Vec::new();
    if name == "absent_over_time" {
        let mut present = vec![false; steps.len()];
        for s in &ws.series {
            for (k, &t) in steps.iter().enumerate() {
                let end = ws.eff_time(t);
                if !window(&s.points, end - ws.range, end).is_empty() {
                    present[k] = true;
                }
            }
        }
        let labels = super::absent_labels(&args[matrix_idx]);
        let points: Vec<Sample> = steps
            .iter()
            .zip(present)
            .filter(|(_, p)| !p)
            .map(|(&t, _)| Sample { t, v: 1.0 })
            .collect();
        if !points.is_empty() {
            out.push(Series {
                labels,
                points,
                drop_name: false,
            });
        }
        return Ok(out);
    }
    let mut params: Vec<f64> = Vec::with_capacity(scalars.len());
    for s in &ws.series {
        ev.check_deadline()?;
        let mut points = Vec::new();
        for (k, &t) in steps.iter().enumerate() {
            let end = ws.eff_time(t);
            let start = end - ws.range;
            if ws.edge != EdgeMode::Plain {
                let data = window(&s.points, start - before, end + after);
                if let Some(v) =
                    super::extended::range_fn(name, data, start, end, ws.range, ws.edge)
                {
                    points.push(Sample { t, v });
                }
                continue;
            }
            let w = window(&s.points, start, end);
            if w.is_empty() {
                continue;
            }
            params.clear();
            params.extend(scalars.iter().map(|v| v[k]));
            let ctx = Window {
                points: w,
                start,
                end,
                range: ws.range,
                t,
            };
            if let Some(v) = range_fn(name, &ctx, &params)? {
                points.push(Sample { t, v });
            }
        }
        if ws.charged {
            ev.release_samples(s.points.len().min(1 + ws.range as usize));
        }
        if !points.is_empty() {
            ev.add_samples(points.len())?;
            out.push(Series {
                labels: s.labels.clone(),
                points,
                drop_name: s.drop_name || !keep_name,
            });
        }
    }
    Ok(out)
}

struct Window<'a> {
    points: &'a [Sample],
    start: i64,
    end: i64,
    range: i64,
    /// The output step's time.
    t: i64,
}

fn range_fn(name: &str, w: &Window, params: &[f64]) -> Result<Option<f64>, QueryError> {
    let p = w.points;
    let first = p[0];
    let last = p[p.len() - 1];
    Ok(match name {
        "rate" => extrapolated_rate(w, true, true),
        "increase" => extrapolated_rate(w, true, false),
        "delta" => extrapolated_rate(w, false, false),
        "irate" => instant_value(p, true),
        "idelta" => instant_value(p, false),
        "changes" => Some(
            p.windows(2)
                .filter(|x| x[1].v != x[0].v && !(x[1].v.is_nan() && x[0].v.is_nan()))
                .count() as f64,
        ),
        "resets" => Some(p.windows(2).filter(|x| x[1].v < x[0].v).count() as f64),
        "count_over_time" => Some(p.len() as f64),
        "present_over_time" => Some(1.0),
        "last_over_time" => Some(last.v),
        "first_over_time" => Some(first.v),
        "ts_of_last_over_time" => Some(last.t as f64 / 1000.0),
        "ts_of_first_over_time" => Some(first.t as f64 / 1000.0),
        "max_over_time" => Some(extreme(p, |cur, best| cur > best || best.is_nan()).v),
        "min_over_time" => Some(extreme(p, |cur, best| cur < best || best.is_nan()).v),
        "ts_of_max_over_time" => {
            Some(extreme(p, |cur, best| cur >= best || best.is_nan()).t as f64 / 1000.0)
        }
        "ts_of_min_over_time" => {
            Some(extreme(p, |cur, best| cur <= best || best.is_nan()).t as f64 / 1000.0)
        }
        "sum_over_time" => {
            let (mut sum, mut c) = (0.0, 0.0);
            for s in p {
                (sum, c) = kahan_inc(s.v, sum, c);
            }
            Some(if sum.is_infinite() { sum } else { sum + c })
        }
        "avg_over_time" => Some(avg(p)),
        "stddev_over_time" => Some(variance(p).sqrt()),
        "stdvar_over_time" => Some(variance(p)),
        "quantile_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|s| s.v).collect();
            Some(quantile(
                params.first().copied().unwrap_or(f64::NAN),
                &mut vals,
            ))
        }
        "mad_over_time" => {
            if p.iter().any(|s| s.v.is_nan()) {
                return Ok(Some(f64::NAN));
            }
            let mut vals: Vec<f64> = p.iter().map(|s| s.v).collect();
            let median = quantile(0.5, &mut vals);
            let mut dev: Vec<f64> = vals.iter().map(|v| (v - median).abs()).collect();
            Some(quantile(0.5, &mut dev))
        }
        "deriv" => {
            if p.len() < 2 {
                return Ok(None);
            }
            Some(linear_regression(p, first.t).0)
        }
        "predict_linear" => {
            if p.len() < 2 {
                return Ok(None);
            }
            let (slope, intercept) = linear_regression(p, w.t);
            Some(slope * params.first().copied().unwrap_or(f64::NAN) + intercept)
        }
        "double_exponential_smoothing" | "holt_winters" => {
            let sf = params.first().copied().unwrap_or(f64::NAN);
            let tf = params.get(1).copied().unwrap_or(f64::NAN);
            if !(sf > 0.0 && sf < 1.0) {
                return Err(QueryError::exec(format!(
                    "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                )));
            }
            if !(tf > 0.0 && tf < 1.0) {
                return Err(QueryError::exec(format!(
                    "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                )));
            }
            smoothing(p, sf, tf)
        }
        other => {
            return Err(QueryError::exec(format!(
                "function {other:?} is not supported"
            )))
        }
    })
}

fn extreme(p: &[Sample], better: impl Fn(f64, f64) -> bool) -> Sample {
    let mut best = p[0];
    for s in p {
        if better(s.v, best.v) {
            best = *s;
        }
    }
    best
}

/// `rate`, `increase` and `delta`: the change over the window, corrected for counter resets
/// and extrapolated towards the window's edges (but not beyond where the counter would
/// reach zero, and not more than half an average sample interval past the data).
fn extrapolated_rate(w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    let p = w.points;
    if p.len() < 2 {
        return None;
    }
    let (first, last) = (p[0], p[p.len() - 1]);
    let mut result = last.v - first.v;
    if is_counter {
        for x in p.windows(2) {
            if x[1].v < x[0].v {
                result += x[0].v;
            }
        }
    }
    let mut to_start = (first.t - w.start) as f64 / 1000.0;
    let mut to_end = (w.end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_between = sampled / (p.len() - 1) as f64;
    let threshold = avg_between * 1.1;
    if to_start >= threshold {
        to_start = avg_between / 2.0;
    }
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg_between / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= w.range as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` and `idelta`: from the last two samples only.
fn instant_value(p: &[Sample], is_rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    let mut v = if is_rate && b.v < a.v { b.v } else { b.v - a.v };
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

fn avg(p: &[Sample]) -> f64 {
    let (mut sum, mut count) = (p[0].v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, s) in p[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(s.v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(s.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

fn variance(p: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in p {
        count += 1.0;
        let delta = s.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (s.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Least-squares fit of value over time (seconds from `intercept_t`): (slope, intercept).
pub(crate) fn linear_regression(p: &[Sample], intercept_t: i64) -> (f64, f64) {
    let n = p.len() as f64;
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = p[0].v;
    let const_y = p.iter().all(|s| s.v == init_y);
    for s in p {
        let x = (s.t - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(s.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * s.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// Holt's double exponential smoothing; the last smoothed value.
fn smoothing(p: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, p[0].v);
    let mut b = p[1].v - p[0].v;
    for (i, s) in p.iter().enumerate().skip(1) {
        let x = sf * s.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}
