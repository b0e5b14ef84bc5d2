//! Reading storage: instant selectors with lookback and staleness, and the series behind
//! range-vector arguments (matrix selectors and subqueries), with `offset` and `@` applied.

use super::engine::Evaluator;
use super::parser::{At, DurExpr, EdgeMode, Expr, VectorSelector};
use super::value::{QueryError, Series};
use crate::model::{is_stale_nan, Sample};

/// Step of a subquery written without one (`x[5m:]`): Prometheus uses the global evaluation
/// interval, whose default is one minute.
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Largest duration accepted, in seconds (2^62 ms), so that adding durations to
/// timestamps cannot overflow.
const MAX_DURATION_SECS: f64 = (1u64 << 62) as f64 / 1000.0;

impl Evaluator<'_> {
    /// Resolves a duration expression to milliseconds (`step()` and `range()` refer to the
    /// outermost query).
    pub fn duration(&self, d: &DurExpr, allow_negative: bool) -> Result<i64, QueryError> {
        // Literals are exact; only computed durations go through float seconds (and are
        // truncated to milliseconds, as in Prometheus).
        let secs = match d {
            DurExpr::Dur(ms) => *ms as f64 / 1000.0,
            DurExpr::Num(n) => (n * 1000.0).round() / 1000.0,
            _ => self.dur_secs(d)?,
        };
        if let DurExpr::Dur(ms) = d {
            if secs.abs() > MAX_DURATION_SECS {
                return Err(QueryError::exec(format!("duration {d} is out of range")));
            }
            if *ms <= 0 && !allow_negative {
                return Err(QueryError::exec(format!(
                    "duration {d} must be greater than 0"
                )));
            }
            return Ok(*ms);
        }
        if !secs.is_finite() {
            return Err(QueryError::exec(format!("duration {d} is NaN or infinite")));
        }
        if secs <= 0.0 && !allow_negative {
            return Err(QueryError::exec(format!(
                "duration {d} must be greater than 0"
            )));
        }
        // Keep time arithmetic far from overflow: about 146 million years either way.
        if secs.abs() > MAX_DURATION_SECS {
            return Err(QueryError::exec(format!("duration {d} is out of range")));
        }
        Ok((secs * 1000.0) as i64)
    }

    fn dur_secs(&self, d: &DurExpr) -> Result<f64, QueryError> {
        Ok(match d {
            DurExpr::Dur(ms) => *ms as f64 / 1000.0,
            DurExpr::Num(n) => *n,
            DurExpr::Step => self.query_step as f64 / 1000.0,
            DurExpr::Range => (self.query_end - self.query_start) as f64 / 1000.0,
            DurExpr::Neg(e) => -self.dur_secs(e)?,
            DurExpr::Pos(e) | DurExpr::Paren(e) => self.dur_secs(e)?,
            DurExpr::MinOf(a, b) => go_min(self.dur_secs(a)?, self.dur_secs(b)?),
            DurExpr::MaxOf(a, b) => go_max(self.dur_secs(a)?, self.dur_secs(b)?),
            DurExpr::Bin(op, a, b) => {
                let (x, y) = (self.dur_secs(a)?, self.dur_secs(b)?);
                use super::parser::BinOp::*;
                match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div if y == 0.0 => {
                        return Err(QueryError::exec(format!(
                            "division by zero in duration {d}"
                        )))
                    }
                    Div => x / y,
                    Mod if y == 0.0 => {
                        return Err(QueryError::exec(format!("modulo by zero in duration {d}")))
                    }
                    Mod => x % y,
                    Pow => x.powf(y),
                    _ => return Err(QueryError::exec(format!("bad duration expression {d}"))),
                }
            }
        })
    }

    fn at_time(&self, at: &Option<At>) -> Option<i64> {
        match at {
            Some(At::Time(t)) => Some(*t),
            Some(At::Start) => Some(self.query_start),
            Some(At::End) => Some(self.query_end),
            None => None,
        }
    }

    /// Evaluates an instant selector: the latest sample within the lookback window at each
    /// step, unless it is a staleness marker. With `want_time`, the value is the sample's
    /// timestamp in seconds (for `timestamp()`).
    pub fn vector_selector(
        &mut self,
        sel: &VectorSelector,
        want_time: bool,
    ) -> Result<Vec<Series>, QueryError> {
        let offset = match &sel.offset {
            Some(d) => self.duration(d, true)?,
            None => 0,
        };
        let at = self.at_time(&sel.at);
        let eff = |t: i64| at.unwrap_or(t) - offset;
        let (lo, hi) = (eff(self.start), eff(self.end));
        let smoothed = sel.edge == EdgeMode::Smoothed;
        let ahead = if smoothed { self.lookback } else { 0 };
        let querier = self
            .q
            .querier(lo.min(hi) - self.lookback + 1, lo.max(hi) + ahead);
        // One step without look-ahead needs only the newest sample at or before it.
        let selected = if self.start == self.end && !smoothed {
            querier.select_latest(&sel.matchers)
        } else {
            querier.select(&sel.matchers)
        };
        let mut out = Vec::with_capacity(selected.len());
        for s in selected {
            self.check_deadline()?;
            let mut points = Vec::new();
            for t in self.steps() {
                let ref_t = eff(t);
                if smoothed {
                    if let Some(v) = smoothed_value(&s.samples, ref_t, self.lookback) {
                        points.push(Sample { t, v });
                    }
                    continue;
                }
                let idx = s.samples.partition_point(|p| p.t <= ref_t);
                if idx == 0 {
                    continue;
                }
                let p = s.samples[idx - 1];
                if p.t <= ref_t - self.lookback || is_stale_nan(p.v) {
                    continue;
                }
                let v = if want_time { p.t as f64 / 1000.0 } else { p.v };
                points.push(Sample { t, v });
            }
            if !points.is_empty() {
                self.add_samples(points.len())?;
                out.push(Series {
                    labels: s.labels,
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// Info series for `info()`: per step, the latest sample within the lookback at the
    /// step (or at `at`) minus `offset`, valued with that sample's timestamp in ms.
    pub fn info_series(
        &mut self,
        sel: &VectorSelector,
        at: Option<At>,
        offset: i64,
    ) -> Result<Vec<Series>, QueryError> {
        let at = self.at_time(&at);
        let eff = |t: i64| at.unwrap_or(t) - offset;
        let (lo, hi) = (eff(self.start), eff(self.end));
        let querier = self.q.querier(lo.min(hi) - self.lookback + 1, lo.max(hi));
        let mut out = Vec::new();
        for s in querier.select(&sel.matchers) {
            let mut points = Vec::new();
            for t in self.steps() {
                let ref_t = eff(t);
                let idx = s.samples.partition_point(|p| p.t <= ref_t);
                if idx == 0 {
                    continue;
                }
                let p = s.samples[idx - 1];
                if p.t > ref_t - self.lookback && !is_stale_nan(p.v) {
                    points.push(Sample { t, v: p.t as f64 });
                }
            }
            if !points.is_empty() {
                self.add_samples(points.len())?;
                out.push(Series {
                    labels: s.labels,
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// The raw material of a range-vector argument (a matrix selector or a subquery): each
    /// series with every sample that any step's window may need.
    pub fn windows(&mut self, e: &Expr) -> Result<Windows, QueryError> {
        match e {
            Expr::Paren(inner) => self.windows(inner),
            Expr::Matrix { sel, range } => {
                let range = self.duration(range, false)?;
                let offset = match &sel.offset {
                    Some(d) => self.duration(d, true)?,
                    None => 0,
                };
                let at = self.at_time(&sel.at);
                let w = Windows {
                    series: Vec::new(),
                    charged: true,
                    range,
                    offset,
                    at,
                    edge: sel.edge,
                    lookback: self.lookback,
                };
                let (lo, hi) = (w.eff_time(self.start), w.eff_time(self.end));
                let (before, after) = w.extension();
                let querier = self
                    .q
                    .querier(lo.min(hi) - range - before + 1, lo.max(hi) + after);
                let mut series = Vec::new();
                for s in querier.select(&sel.matchers) {
                    let points: Vec<Sample> = s
                        .samples
                        .into_iter()
                        .filter(|p| !is_stale_nan(p.v))
                        .collect();
                    self.add_samples(points.len().min(1 + range as usize))?;
                    series.push(Series {
                        labels: s.labels,
                        points,
                        drop_name: false,
                    });
                }
                Ok(Windows { series, ..w })
            }
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
            } => {
                let range = self.duration(range, false)?;
                let step = match step {
                    Some(d) => self.duration(d, false)?,
                    None => DEFAULT_SUBQUERY_STEP_MS,
                };
                let offset = match offset {
                    Some(d) => self.duration(d, true)?,
                    None => 0,
                };
                let at = self.at_time(at);
                let w = Windows {
                    series: Vec::new(),
                    charged: false,
                    range,
                    offset,
                    at,
                    edge: EdgeMode::Plain,
                    lookback: self.lookback,
                };
                let (lo, hi) = (w.eff_time(self.start), w.eff_time(self.end));
                let (lo, hi) = (lo.min(hi), lo.max(hi));
                // The first step-aligned time after the earliest window's start; Go's
                // truncating division is kept so negative times align as in Prometheus.
                let from = lo - range;
                let mut sub_start = step * (from / step);
                if sub_start <= from {
                    sub_start += step;
                }
                // Each inner step holds at least one sample per series: refuse ranges that
                // could never fit the sample limit before allocating for them.
                if (hi.saturating_sub(sub_start)) / step >= self.max_samples as i64 {
                    return Err(QueryError::TooManySamples("query execution"));
                }
                let saved = (self.start, self.end, self.interval);
                self.start = sub_start;
                self.end = hi;
                self.interval = step;
                let res = self.eval_matrix(expr);
                (self.start, self.end, self.interval) = saved;
                Ok(Windows { series: res?, ..w })
            }
            other => Err(QueryError::exec(format!(
                "expected a range vector, got {other}"
            ))),
        }
    }
}

/// The smaller value, NaN if either is NaN (Go's `math.Min`).
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// The larger value, NaN if either is NaN (Go's `math.Max`).
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Series feeding a range function, with how to place each step's window.
pub(crate) struct Windows {
    pub series: Vec<Series>,
    /// The series' raw samples were charged to the query's sample count when loaded (a
    /// matrix selector); a range function releases them once it has consumed a series, so
    /// the count follows what is held at a time, as Prometheus's does.
    pub charged: bool,
    pub range: i64,
    offset: i64,
    at: Option<i64>,
    pub edge: EdgeMode,
    lookback: i64,
}

impl Windows {
    /// How much data beyond (start, end] the window's edge mode needs: one lookback before
    /// for `anchored`, and after as well for `smoothed`.
    pub fn extension(&self) -> (i64, i64) {
        match self.edge {
            EdgeMode::Plain => (0, 0),
            EdgeMode::Anchored => (self.lookback, 0),
            EdgeMode::Smoothed => (self.lookback, self.lookback),
        }
    }

    /// The end of the window for output step `t`.
    pub fn eff_time(&self, t: i64) -> i64 {
        self.at.unwrap_or(t) - self.offset
    }
}

/// The value of a `smoothed` instant selector at `t`: the sample at `t`, else interpolated
/// between the samples around it, else the last one before it (within the lookback).
fn smoothed_value(samples: &[Sample], t: i64, lookback: i64) -> Option<f64> {
    let w: Vec<Sample> = window(samples, t - lookback, t + lookback)
        .iter()
        .filter(|p| !is_stale_nan(p.v))
        .copied()
        .collect();
    let i = w.partition_point(|p| p.t < t);
    match (w.get(i), i) {
        (Some(p), _) if p.t == t => Some(p.v),
        (Some(next), i) if i > 0 => Some(interpolate(w[i - 1], *next, t, false)),
        (None, i) if i > 0 => Some(w[i - 1].v),
        _ => None,
    }
}

/// The straight line between two samples at time `t`; for counters, a drop means the
/// counter restarted from zero.
pub(crate) fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.v < p1.v { 0.0 } else { p1.v };
    y1 + (p2.v - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// The samples with `from < t <= to` (windows are open on the left, as in Prometheus 3).
pub(crate) fn window(points: &[Sample], from: i64, to: i64) -> &[Sample] {
    let lo = points.partition_point(|p| p.t <= from);
    let hi = points.partition_point(|p| p.t <= to);
    &points[lo..hi.max(lo)]
}
