//! Aggregation operators (`sum`, `avg`, `topk`, `count_values`, ...) with `by`/`without`,
//! per step, as Prometheus 3.x `rangeEvalAgg` defines them.

use super::engine::Evaluator;
use super::functions::kahan_inc;
use super::functions::quantile;
use super::parser::{AggOp, Expr};
use super::value::{Elem, QueryError, Series};
use crate::model::{Labels, LabelsBuilder, Sample, METRIC_NAME};
use std::collections::HashMap;

pub(crate) fn eval(
    ev: &mut Evaluator,
    op: AggOp,
    expr: &Expr,
    param: Option<&Expr>,
    grouping: &[String],
    without: bool,
) -> Result<Vec<Series>, QueryError> {
    let mut grouping: Vec<String> = grouping.to_vec();
    grouping.sort();
    if op == AggOp::CountValues {
        let label = match param {
            Some(p) => ev.eval_string(p)?,
            None => String::new(),
        };
        if !super::functions::is_valid_label_name(&label) {
            return Err(QueryError::exec(format!("invalid label name {label:?}")));
        }
        let input = ev.eval_matrix(expr)?;
        return ev.range_eval(&[input], |_, vecs, _| {
            Ok(count_values(&vecs[0], &grouping, without, &label))
        });
    }
    let params = match param {
        Some(p) if op != AggOp::CountValues => Some(ev.eval_scalar(p)?),
        _ => None,
    };
    let input = ev.eval_matrix(expr)?;
    if let Some(ps) = &params {
        match op {
            AggOp::Topk | AggOp::Bottomk | AggOp::Limitk => {
                if ps.iter().any(|p| p.is_nan()) {
                    return Err(QueryError::exec("Parameter value is NaN"));
                }
                if let Some(p) = ps.iter().find(|p| **p <= i64::MIN as f64) {
                    return Err(QueryError::exec(format!(
                        "Scalar value {p} underflows int64"
                    )));
                }
                if let Some(p) = ps.iter().find(|p| **p >= i64::MAX as f64) {
                    return Err(QueryError::exec(format!(
                        "Scalar value {p} overflows int64"
                    )));
                }
            }
            AggOp::LimitRatio if ps.iter().any(|p| p.is_nan()) => {
                return Err(QueryError::exec("Ratio value is NaN"));
            }
            AggOp::Quantile => {
                if let Some(w) = ps
                    .iter()
                    .find_map(|q| super::functions::quantile_warning(*q))
                {
                    ev.warn(w);
                }
            }
            _ => {}
        }
    }
    let start = ev.start;
    let interval = ev.interval.max(1);
    let param_at = |t: i64| {
        params
            .as_ref()
            .and_then(|ps| ps.get(((t - start) / interval) as usize).copied())
            .unwrap_or(f64::NAN)
    };
    if matches!(
        op,
        AggOp::Topk | AggOp::Bottomk | AggOp::Limitk | AggOp::LimitRatio
    ) {
        return ev.range_eval(&[input], |_, vecs, t| {
            Ok(select_k(op, &vecs[0], &grouping, without, param_at(t)))
        });
    }
    // Groups are worked out once per series, not once per step.
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Series> = Vec::new();
    let group_of: Vec<usize> = input
        .iter()
        .map(|s| {
            let key = group_labels(&s.labels, &grouping, without);
            *index.entry(key.clone()).or_insert_with(|| {
                out.push(Series {
                    labels: key,
                    points: Vec::new(),
                    drop_name: false,
                });
                out.len() - 1
            })
        })
        .collect();
    let mut cursors = vec![0usize; input.len()];
    let mut accs: Vec<Option<Acc>> = (0..out.len()).map(|_| None).collect();
    let steps: Vec<i64> = ev.steps().collect();
    for t in steps {
        ev.check_deadline()?;
        for (si, s) in input.iter().enumerate() {
            let c = &mut cursors[si];
            while *c < s.points.len() && s.points[*c].t < t {
                *c += 1;
            }
            let Some(p) = s.points.get(*c).filter(|p| p.t == t) else {
                continue;
            };
            match &mut accs[group_of[si]] {
                Some(a) => a.add(op, p.v, s.drop_name),
                slot => *slot = Some(Acc::new(op, p.v, s.drop_name)),
            }
        }
        let q = param_at(t);
        let mut produced = 0;
        for (g, acc) in accs.iter_mut().enumerate() {
            if let Some(mut a) = acc.take() {
                out[g].points.push(Sample {
                    t,
                    v: a.finish(op, q),
                });
                out[g].drop_name = a.drop_name;
                produced += 1;
            }
        }
        ev.add_samples(produced)?;
    }
    out.retain(|s| !s.points.is_empty());
    Ok(out)
}

/// The labels that identify a sample's group.
fn group_labels(l: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        let mut b = l.builder();
        b.retain(|n| n != METRIC_NAME && !grouping.iter().any(|g| g == n));
        b.build()
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        let mut b = LabelsBuilder::with_capacity(grouping.len());
        for lab in l.iter() {
            if grouping.iter().any(|g| **g == *lab.name) {
                b.set_shared(lab.name.clone(), lab.value.clone());
            }
        }
        b.build()
    }
}

/// Running state of one group at one step.
struct Acc {
    value: f64,
    kahan: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    drop_name: bool,
    values: Vec<f64>,
}

impl Acc {
    fn new(op: AggOp, f: f64, drop_name: bool) -> Self {
        let value = match op {
            AggOp::Stddev | AggOp::Stdvar if f.is_nan() || f.is_infinite() => f64::NAN,
            AggOp::Stddev | AggOp::Stdvar => 0.0,
            AggOp::Group => 1.0,
            _ => f,
        };
        Acc {
            value,
            kahan: 0.0,
            mean: f,
            count: 1.0,
            incremental: false,
            drop_name,
            values: if op == AggOp::Quantile {
                vec![f]
            } else {
                Vec::new()
            },
        }
    }

    fn add(&mut self, op: AggOp, f: f64, drop_name: bool) {
        self.drop_name |= drop_name;
        match op {
            AggOp::Sum => (self.value, self.kahan) = kahan_inc(f, self.value, self.kahan),
            AggOp::Avg => {
                self.count += 1.0;
                if !self.incremental {
                    let (nv, nc) = kahan_inc(f, self.value, self.kahan);
                    if !nv.is_infinite() {
                        (self.value, self.kahan) = (nv, nc);
                        return;
                    }
                    // The sum would overflow: continue with an incremental mean.
                    self.incremental = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.kahan /= self.count - 1.0;
                }
                let q = (self.count - 1.0) / self.count;
                (self.mean, self.kahan) = kahan_inc(f / self.count, q * self.mean, q * self.kahan);
            }
            AggOp::Max if self.value < f || self.value.is_nan() => self.value = f,
            AggOp::Min if self.value > f || self.value.is_nan() => self.value = f,
            AggOp::Count => self.count += 1.0,
            AggOp::Stddev | AggOp::Stdvar => {
                self.count += 1.0;
                let delta = f - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (f - self.mean);
            }
            AggOp::Quantile => self.values.push(f),
            _ => {}
        }
    }

    fn finish(&mut self, op: AggOp, param: f64) -> f64 {
        match op {
            AggOp::Avg if self.incremental => self.mean + self.kahan,
            AggOp::Avg => self.value / self.count + self.kahan / self.count,
            AggOp::Count => self.count,
            AggOp::Stdvar => self.value / self.count,
            AggOp::Stddev => (self.value / self.count).sqrt(),
            AggOp::Quantile => quantile(param, &mut self.values),
            AggOp::Sum => self.value + self.kahan,
            _ => self.value,
        }
    }
}

/// `topk`, `bottomk`, `limitk` and `limit_ratio`: keep some input samples of each group.
fn select_k(op: AggOp, v: &[Elem], grouping: &[String], without: bool, param: f64) -> Vec<Elem> {
    let k = if op == AggOp::LimitRatio {
        0
    } else {
        (param as i64).min(v.len() as i64)
    };
    if op != AggOp::LimitRatio && k < 1 {
        return Vec::new();
    }
    if op == AggOp::LimitRatio && param == 0.0 {
        return Vec::new();
    }
    let ratio = param.clamp(-1.0, 1.0);
    // Group members by index; only the chosen samples are copied.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for (n, e) in v.iter().enumerate() {
        let key = group_labels(&e.labels, grouping, without);
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(n);
    }
    let k = k as usize;
    let mut out = Vec::new();
    for mut g in groups {
        match op {
            AggOp::Topk | AggOp::Bottomk => {
                let sign = if op == AggOp::Topk { 1.0 } else { -1.0 };
                // Best first, NaN last; ties keep input order (the index breaks them).
                let cmp = |a: &usize, b: &usize| {
                    desc_nan_last(sign * v[*a].v, sign * v[*b].v).then(a.cmp(b))
                };
                if k < g.len() {
                    g.select_nth_unstable_by(k, cmp);
                    g.truncate(k);
                }
                g.sort_by(cmp);
            }
            AggOp::Limitk => g.truncate(k),
            _ => g.retain(|&n| ratio_keeps(ratio, &v[n].labels)),
        }
        out.extend(g.into_iter().map(|n| v[n].clone()));
    }
    out
}

fn desc_nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
    }
}

/// Whether `limit_ratio` keeps a series: its label hash, as a fraction of the hash space,
/// falls below the ratio (or, for a negative ratio, in the complementary part).
fn ratio_keeps(ratio: f64, l: &Labels) -> bool {
    let offset = l.stable_hash() as f64 / u64::MAX as f64;
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}

fn count_values(v: &[Elem], grouping: &[String], without: bool, label: &str) -> Vec<Elem> {
    let mut out: Vec<Elem> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for e in v {
        let mut b = e.labels.builder();
        b.set(label, &crate::model::ValueText(e.v).to_string());
        let with_value = b.build();
        // The value label is set first, so `without` may remove it again, as in Prometheus.
        let g = if without {
            group_labels(&with_value, grouping, true)
        } else {
            let mut names: Vec<String> = grouping.to_vec();
            names.push(label.to_string());
            group_labels(&with_value, &names, false)
        };
        match index.get(&g) {
            Some(&i) => out[i].v += 1.0,
            None => {
                index.insert(g.clone(), out.len());
                out.push(Elem::new(g, 1.0));
            }
        }
    }
    out
}
