//! Aggregation operators (`sum`, `avg`, `topk`, `count_values`, ...) with `by`/`without`,
//! per step, as Prometheus 3.x `rangeEvalAgg` defines them.

use super::engine::Evaluator;
use super::functions::kahan_inc;
use super::functions::quantile;
use super::parser::{AggOp, Expr};
use super::value::{Elem, QueryError, Series};
use crate::model::{Labels, LabelsBuilder, METRIC_NAME};
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
    ev.range_eval(&[input], |_, vecs, t| {
        let p = params
            .as_ref()
            .and_then(|ps| ps.get(((t - start) / interval) as usize).copied())
            .unwrap_or(f64::NAN);
        Ok(aggregate_step(op, &vecs[0], &grouping, without, p))
    })
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

/// Running state of one group.
struct Group {
    labels: Labels,
    value: f64,
    kahan: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    drop_name: bool,
    values: Vec<f64>,
}

fn aggregate_step(
    op: AggOp,
    v: &[Elem],
    grouping: &[String],
    without: bool,
    param: f64,
) -> Vec<Elem> {
    if matches!(
        op,
        AggOp::Topk | AggOp::Bottomk | AggOp::Limitk | AggOp::LimitRatio
    ) {
        return select_k(op, v, grouping, without, param);
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for e in v {
        let key = group_labels(&e.labels, grouping, without);
        let f = e.v;
        let Some(&i) = index.get(&key) else {
            index.insert(key.clone(), groups.len());
            let value = match op {
                AggOp::Stddev | AggOp::Stdvar if f.is_nan() || f.is_infinite() => f64::NAN,
                AggOp::Stddev | AggOp::Stdvar => 0.0,
                AggOp::Group => 1.0,
                _ => f,
            };
            groups.push(Group {
                labels: key,
                value,
                kahan: 0.0,
                mean: f,
                count: 1.0,
                incremental: false,
                drop_name: e.drop_name,
                values: vec![f],
            });
            continue;
        };
        let g = &mut groups[i];
        g.drop_name |= e.drop_name;
        match op {
            AggOp::Sum => (g.value, g.kahan) = kahan_inc(f, g.value, g.kahan),
            AggOp::Avg => {
                g.count += 1.0;
                if !g.incremental {
                    let (nv, nc) = kahan_inc(f, g.value, g.kahan);
                    if !nv.is_infinite() {
                        (g.value, g.kahan) = (nv, nc);
                        continue;
                    }
                    g.incremental = true;
                    g.mean = g.value / (g.count - 1.0);
                    g.kahan /= g.count - 1.0;
                }
                let q = (g.count - 1.0) / g.count;
                (g.mean, g.kahan) = kahan_inc(f / g.count, q * g.mean, q * g.kahan);
            }
            AggOp::Max if g.value < f || g.value.is_nan() => g.value = f,
            AggOp::Min if g.value > f || g.value.is_nan() => g.value = f,
            AggOp::Count => g.count += 1.0,
            AggOp::Stddev | AggOp::Stdvar => {
                g.count += 1.0;
                let delta = f - g.mean;
                g.mean += delta / g.count;
                g.value += delta * (f - g.mean);
            }
            AggOp::Quantile => g.values.push(f),
            _ => {}
        }
    }
    groups
        .into_iter()
        .map(|mut g| {
            let v = match op {
                AggOp::Avg if g.incremental => g.mean + g.kahan,
                AggOp::Avg => g.value / g.count + g.kahan / g.count,
                AggOp::Count => g.count,
                AggOp::Stdvar => g.value / g.count,
                AggOp::Stddev => (g.value / g.count).sqrt(),
                AggOp::Quantile => quantile(param, &mut g.values),
                AggOp::Sum => g.value + g.kahan,
                _ => g.value,
            };
            Elem {
                labels: g.labels,
                v,
                drop_name: g.drop_name,
            }
        })
        .collect()
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
    let mut groups: Vec<Vec<Elem>> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for e in v {
        let key = group_labels(&e.labels, grouping, without);
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(e.clone());
    }
    let mut out = Vec::new();
    for mut g in groups {
        match op {
            AggOp::Topk => {
                // Descending, NaN last; stable so ties keep input order.
                g.sort_by(|a, b| desc_nan_last(a.v, b.v));
                g.truncate(k as usize);
            }
            AggOp::Bottomk => {
                g.sort_by(|a, b| desc_nan_last(-a.v, -b.v));
                g.truncate(k as usize);
            }
            AggOp::Limitk => g.truncate(k as usize),
            _ => g.retain(|e| ratio_keeps(ratio, &e.labels)),
        }
        out.extend(g);
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
        b.set(label, &format_value(e.v));
        let with_value = b.build();
        let mut g = if without {
            group_labels(&with_value, grouping, true)
        } else {
            let mut names: Vec<String> = grouping.to_vec();
            names.push(label.to_string());
            group_labels(&with_value, &names, false)
        };
        if without {
            let mut b = g.builder();
            b.set(label, &format_value(e.v));
            g = b.build();
        }
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

/// Formats a value the way Go's `strconv.FormatFloat(v, 'f', -1, 64)` does.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}
