//! The evaluator. Every expression is evaluated over all steps of the query at once
//! (an instant query is a range query with one step), as Prometheus does: a node yields
//! a list of series with one point per step where it has a value. Selectors read storage
//! through a querier made for exactly the time span they need.

use super::parser::{parse, EdgeMode, Expr, ValueType};
use super::selectors::window;
use super::value::{final_labels, Elem, QueryError, Series, Value, VectorSample};
use super::{aggregate, binary, functions};
use crate::model::{Labels, Sample};
use crate::storage::{Queryable, SeriesData};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Most steps a range query may have, as Prometheus's HTTP API allows.
const MAX_POINTS_PER_SERIES: i64 = 11_000;

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
        if end_ms.saturating_sub(start_ms) / step_ms >= MAX_POINTS_PER_SERIES {
            return Err(QueryError::BadQuery(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
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
    // A selector's output (names kept, labels strictly ascending) cannot collide: skip the
    // hash map, which cost a quarter of a plain selector query.
    if m.iter().all(|s| !s.drop_name) && m.windows(2).all(|w| w[0].labels < w[1].labels) {
        return Ok(m
            .into_iter()
            .map(|s| SeriesData {
                labels: s.labels,
                samples: s.points,
            })
            .collect());
    }
    let mut out: Vec<SeriesData> = Vec::with_capacity(m.len());
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(m.len());
    for s in m {
        let labels = if s.drop_name {
            final_labels(&s.labels, true)
        } else {
            s.labels
        };
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
    pub(super) q: &'q dyn Queryable,
    pub start: i64,
    pub end: i64,
    pub interval: i64,
    /// The outermost query's start and end, for `@ start()`/`@ end()`, and step, for `step()`.
    pub query_start: i64,
    pub query_end: i64,
    pub query_step: i64,
    pub(super) lookback: i64,
    pub(super) max_samples: usize,
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
        if Instant::now() >= self.deadline {
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

    /// Gives back `n` samples no longer held (consumed raw data).
    pub fn release_samples(&mut self, n: usize) {
        self.samples = self.samples.saturating_sub(n);
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
                let eff = ws.eff_time(self.start);
                let range = ws.range;
                let edge = ws.edge;
                let (before, after) = ws.extension();
                let out = ws
                    .series
                    .into_iter()
                    .filter_map(|s| {
                        let pts = match edge {
                            EdgeMode::Plain => window(&s.points, eff - range, eff).to_vec(),
                            _ => functions::extend_floats(
                                window(&s.points, eff - range - before, eff + after),
                                eff - range,
                                eff,
                                edge == EdgeMode::Smoothed,
                            ),
                        };
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
