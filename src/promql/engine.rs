//! The evaluator. Every expression is evaluated over all steps of the query at once
//! (an instant query is a range query with one step), as Prometheus does: a node yields
//! a list of series with one point per step where it has a value. Selectors read storage
//! through a querier made for exactly the time span they need.

use super::parser::{parse, At, DurExpr, Expr, ValueType, VectorSelector};
use super::value::{final_labels, Elem, QueryError, Series, Value, VectorSample};
use super::{aggregate, binary, functions};
use crate::model::{is_stale_nan, Labels, Sample};
use crate::storage::{Queryable, SeriesData};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Step of a subquery written without one (`x[5m:]`): Prometheus uses the global evaluation
/// interval, whose default is one minute.
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Engine limits and defaults.
#[derive(Debug, Clone)]
pub struct EngineOpts {
    /// How far back an instant selector looks for the latest sample (Prometheus: 5m).
    pub lookback_delta: Duration,
    /// Wall-clock budget of one query (Prometheus's `--query.timeout`, 2m).
    pub timeout: Duration,
    /// Most samples one query may hold at once (Prometheus's `--query.max-samples`).
    pub max_samples: usize,
}

impl Default for EngineOpts {
    fn default() -> Self {
        EngineOpts {
            lookback_delta: Duration::from_secs(300),
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
        }
    }
}

/// Runs PromQL queries. Cheap to share; each query gets its own evaluator.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOpts,
}

impl Engine {
    pub fn new(opts: EngineOpts) -> Self {
        Engine { opts }
    }

    pub fn opts(&self) -> &EngineOpts {
        &self.opts
    }

    /// Evaluates `expr` at `t_ms`.
    pub fn instant_query(
        &self,
        q: &dyn Queryable,
        expr: &str,
        t_ms: i64,
    ) -> Result<Value, QueryError> {
        let e = parse(expr)?;
        Ok(self.instant_query_expr(q, &e, t_ms)?.value)
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms`.
    pub fn range_query(
        &self,
        q: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Value, QueryError> {
        let e = parse(expr)?;
        Ok(self
            .range_query_expr(q, &e, start_ms, end_ms, step_ms)?
            .value)
    }

    /// Evaluates an already parsed expression at one time, with its annotations.
    pub fn instant_query_expr(
        &self,
        q: &dyn Queryable,
        e: &Expr,
        t_ms: i64,
    ) -> Result<QueryOutput, QueryError> {
        let mut ev = Evaluator::new(q, &self.opts, t_ms, t_ms, 1, 0);
        let value = Self::instant_value(&mut ev, e, t_ms)?;
        Ok(ev.output(value))
    }

    fn instant_value(ev: &mut Evaluator, e: &Expr, t_ms: i64) -> Result<Value, QueryError> {
        match ev.eval(e)? {
            Val::String(s) => Ok(Value::String { t: t_ms, v: s }),
            Val::Matrix(m) if e.value_type() == ValueType::Scalar => {
                let v = m
                    .first()
                    .and_then(|s| s.points.first())
                    .map_or(f64::NAN, |p| p.v);
                Ok(Value::Scalar { t: t_ms, v })
            }
            Val::Matrix(m) if e.value_type() == ValueType::Matrix => {
                let mut out = cleanup(m, true)?;
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                Ok(Value::Matrix(out))
            }
            Val::Matrix(m) => {
                let out = cleanup(m, false)?;
                Ok(Value::Vector(
                    out.into_iter()
                        .filter_map(|s| {
                            s.samples.first().map(|p| VectorSample {
                                labels: s.labels,
                                t: p.t,
                                v: p.v,
                            })
                        })
                        .collect(),
                ))
            }
        }
    }

    /// Evaluates an already parsed expression over a range, with its annotations; the
    /// result is sorted by labels.
    pub fn range_query_expr(
        &self,
        q: &dyn Queryable,
        e: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryOutput, QueryError> {
        let t = e.value_type();
        if t != ValueType::Scalar && t != ValueType::Vector {
            return Err(QueryError::BadQuery(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                t.to_string()
            )));
        }
        if step_ms <= 0 {
            return Err(QueryError::BadQuery(
                "zero or negative query resolution step widths are not accepted".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(QueryError::BadQuery(
                "end timestamp must not be before start time".into(),
            ));
        }
        let mut ev = Evaluator::new(q, &self.opts, start_ms, end_ms, step_ms, step_ms);
        let Val::Matrix(m) = ev.eval(e)? else {
            return Ok(ev.output(Value::Matrix(Vec::new())));
        };
        let mut out = cleanup(m, true)?;
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(ev.output(Value::Matrix(out)))
    }
}

/// Applies delayed name removal. Series that end up with the same labels are an error in
/// an instant vector; in a matrix they are merged when their points do not collide, as
/// Prometheus's `cleanupMetricLabels` does.
fn cleanup(m: Vec<Series>, merge: bool) -> Result<Vec<SeriesData>, QueryError> {
    let dup = || QueryError::exec("vector cannot contain metrics with the same labelset");
    let mut out: Vec<SeriesData> = Vec::with_capacity(m.len());
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(m.len());
    for s in m {
        let labels = final_labels(&s.labels, s.drop_name);
        match index.get(&labels) {
            Some(&i) if merge => {
                let base = &mut out[i].samples;
                base.extend(s.points);
                base.sort_by_key(|p| p.t);
                if base.windows(2).any(|w| w[0].t == w[1].t) {
                    return Err(dup());
                }
            }
            Some(_) => return Err(dup()),
            None => {
                index.insert(labels.clone(), out.len());
                out.push(SeriesData {
                    labels,
                    samples: s.points,
                });
            }
        }
    }
    Ok(out)
}

/// A query's result with the annotations Prometheus would attach (`warnings` and `infos`
/// in the HTTP API), already prefixed `PromQL warning: `/`PromQL info: `.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// What a node evaluates to.
pub(crate) enum Val {
    /// Instant vectors and scalars (one point per step), or range vectors at the top level.
    Matrix(Vec<Series>),
    String(String),
}

/// The state of one query's evaluation.
pub(crate) struct Evaluator<'q> {
    q: &'q dyn Queryable,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
    /// The outermost query's start and end, for `@ start()`/`@ end()`, and step, for `step()`.
    pub query_start: i64,
    pub query_end: i64,
    pub query_step: i64,
    lookback: i64,
    max_samples: usize,
    samples: usize,
    deadline: Instant,
    warnings: Vec<String>,
    infos: Vec<String>,
}

impl<'q> Evaluator<'q> {
    fn new(
        q: &'q dyn Queryable,
        opts: &EngineOpts,
        start: i64,
        end: i64,
        interval: i64,
        step: i64,
    ) -> Self {
        Evaluator {
            q,
            start,
            end,
            interval,
            query_start: start,
            query_end: end,
            query_step: step,
            lookback: opts.lookback_delta.as_millis() as i64,
            max_samples: opts.max_samples,
            samples: 0,
            deadline: Instant::now() + opts.timeout,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    fn output(self, value: Value) -> QueryOutput {
        QueryOutput {
            value,
            warnings: self.warnings,
            infos: self.infos,
        }
    }

    /// Records a warning once.
    pub fn warn(&mut self, msg: String) {
        let msg = format!("PromQL warning: {msg}");
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    /// Records an informational annotation once.
    pub fn info(&mut self, msg: String) {
        let msg = format!("PromQL info: {msg}");
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    /// The evaluation steps of the current (sub)query.
    pub fn steps(&self) -> impl Iterator<Item = i64> {
        let (start, end, interval) = (self.start, self.end, self.interval.max(1));
        (0..)
            .map(move |k: i64| start + k * interval)
            .take_while(move |t| *t <= end)
    }

    pub fn num_steps(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        ((self.end - self.start) / self.interval.max(1) + 1) as usize
    }

    pub fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("expression evaluation"));
        }
        Ok(())
    }

    /// Accounts for `n` more samples held in memory.
    pub fn add_samples(&mut self, n: usize) -> Result<(), QueryError> {
        self.samples += n;
        if self.samples > self.max_samples {
            return Err(QueryError::TooManySamples("query execution"));
        }
        Ok(())
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Val, QueryError> {
        self.check_deadline()?;
        Ok(match e {
            Expr::Number(v) => Val::Matrix(self.constant(*v)),
            Expr::String(s) => Val::String(s.clone()),
            Expr::Paren(inner) => self.eval(inner)?,
            Expr::Unary { neg, expr } => {
                let mut m = self.eval_matrix(expr)?;
                if *neg {
                    for s in &mut m {
                        s.drop_name = true;
                        s.points.iter_mut().for_each(|p| p.v = -p.v);
                    }
                }
                Val::Matrix(m)
            }
            Expr::Vector(sel) => Val::Matrix(self.vector_selector(sel, false)?),
            Expr::Matrix { .. } | Expr::Subquery { .. } => {
                let ws = self.windows(e)?;
                let eff = ws.eff_time(self.start, self);
                let range = ws.range;
                let out = ws
                    .series
                    .into_iter()
                    .filter_map(|s| {
                        let pts = window(&s.points, eff - range, eff).to_vec();
                        (!pts.is_empty()).then_some(Series {
                            labels: s.labels,
                            points: pts,
                            drop_name: s.drop_name,
                        })
                    })
                    .collect();
                Val::Matrix(out)
            }
            Expr::Call { func, args } => Val::Matrix(functions::eval_call(self, func, args)?),
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                without,
            } => Val::Matrix(aggregate::eval(
                self,
                *op,
                expr,
                param.as_deref(),
                grouping,
                *without,
            )?),
            Expr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            } => Val::Matrix(binary::eval(
                self,
                *op,
                lhs,
                rhs,
                *return_bool,
                matching.as_ref(),
            )?),
        })
    }

    /// Evaluates an expression of scalar or instant-vector type.
    pub fn eval_matrix(&mut self, e: &Expr) -> Result<Vec<Series>, QueryError> {
        match self.eval(e)? {
            Val::Matrix(m) => Ok(m),
            Val::String(_) => Err(QueryError::exec(format!(
                "expected a vector or scalar, got a string in {e}"
            ))),
        }
    }

    /// Evaluates a scalar expression to one value per step.
    pub fn eval_scalar(&mut self, e: &Expr) -> Result<Vec<f64>, QueryError> {
        let m = self.eval_matrix(e)?;
        let mut out = vec![f64::NAN; self.num_steps()];
        if let Some(s) = m.first() {
            for p in &s.points {
                let i = ((p.t - self.start) / self.interval.max(1)) as usize;
                if let Some(slot) = out.get_mut(i) {
                    *slot = p.v;
                }
            }
        }
        Ok(out)
    }

    pub fn eval_string(&mut self, e: &Expr) -> Result<String, QueryError> {
        match self.eval(e)? {
            Val::String(s) => Ok(s),
            Val::Matrix(_) => Err(QueryError::exec(format!("expected a string, got {e}"))),
        }
    }

    /// A scalar value at every step.
    pub fn constant(&self, v: f64) -> Vec<Series> {
        vec![Series {
            labels: Labels::empty(),
            points: self.steps().map(|t| Sample { t, v }).collect(),
            drop_name: false,
        }]
    }

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
        let querier = self.q.querier(lo.min(hi) - self.lookback + 1, lo.max(hi));
        let selected = querier.select(&sel.matchers);
        let mut out = Vec::with_capacity(selected.len());
        for s in selected {
            self.check_deadline()?;
            let mut points = Vec::new();
            for t in self.steps() {
                let ref_t = eff(t);
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
                    range,
                    offset,
                    at,
                };
                let (lo, hi) = (w.eff_time(self.start, self), w.eff_time(self.end, self));
                let querier = self.q.querier(lo.min(hi) - range + 1, lo.max(hi));
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
                    range,
                    offset,
                    at,
                };
                let (lo, hi) = (w.eff_time(self.start, self), w.eff_time(self.end, self));
                let (lo, hi) = (lo.min(hi), lo.max(hi));
                // The first step-aligned time after the earliest window's start; Go's
                // truncating division is kept so negative times align as in Prometheus.
                let from = lo - range;
                let mut sub_start = step * (from / step);
                if sub_start <= from {
                    sub_start += step;
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

    /// Builds per-step output from per-step inputs: `f` receives, for each step, the vector
    /// of each argument at that step and returns the output vector. For an instant query the
    /// output order is kept; for a range query two outputs with the same labels at one step
    /// are an error, as in Prometheus.
    pub fn range_eval(
        &mut self,
        args: &[Vec<Series>],
        mut f: impl FnMut(&mut Self, &[Vec<Elem>], i64) -> Result<Vec<Elem>, QueryError>,
    ) -> Result<Vec<Series>, QueryError> {
        let mut cursors: Vec<Vec<usize>> = args.iter().map(|m| vec![0; m.len()]).collect();
        let instant = self.start == self.end;
        let mut order: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
        let steps: Vec<i64> = self.steps().collect();
        for t in steps {
            self.check_deadline()?;
            let mut vecs: Vec<Vec<Elem>> = Vec::with_capacity(args.len());
            for (m, cur) in args.iter().zip(cursors.iter_mut()) {
                let mut v = Vec::new();
                for (s, c) in m.iter().zip(cur.iter_mut()) {
                    while *c < s.points.len() && s.points[*c].t < t {
                        *c += 1;
                    }
                    if let Some(p) = s.points.get(*c).filter(|p| p.t == t) {
                        v.push(Elem {
                            labels: s.labels.clone(),
                            v: p.v,
                            drop_name: s.drop_name,
                        });
                    }
                }
                vecs.push(v);
            }
            let out = f(self, &vecs, t)?;
            self.add_samples(out.len())?;
            if instant {
                return Ok(out
                    .into_iter()
                    .map(|e| Series {
                        labels: e.labels,
                        points: vec![Sample { t, v: e.v }],
                        drop_name: e.drop_name,
                    })
                    .collect());
            }
            for e in out {
                match index.get_mut(&e.labels) {
                    Some((i, last)) => {
                        if *last == t {
                            return Err(QueryError::exec(
                                "vector cannot contain metrics with the same labelset",
                            ));
                        }
                        *last = t;
                        order[*i].points.push(Sample { t, v: e.v });
                    }
                    None => {
                        index.insert(e.labels.clone(), (order.len(), t));
                        order.push(Series {
                            labels: e.labels,
                            points: vec![Sample { t, v: e.v }],
                            drop_name: e.drop_name,
                        });
                    }
                }
            }
        }
        Ok(order)
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
    pub range: i64,
    offset: i64,
    at: Option<i64>,
}

impl Windows {
    /// The end of the window for output step `t`.
    pub fn eff_time(&self, t: i64, _ev: &Evaluator) -> i64 {
        self.at.unwrap_or(t) - self.offset
    }
}

/// The samples with `from < t <= to` (windows are open on the left, as in Prometheus 3).
pub(crate) fn window(points: &[Sample], from: i64, to: i64) -> &[Sample] {
    let lo = points.partition_point(|p| p.t <= from);
    let hi = points.partition_point(|p| p.t <= to);
    &points[lo..hi.max(lo)]
}
