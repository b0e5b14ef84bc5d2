//! Binary operators: arithmetic, comparisons (filtering or `bool`), and the set operators,
//! between scalars and vectors, with `on`/`ignoring` and `group_left`/`group_right` vector
//! matching as Prometheus 3.x defines it.

use super::engine::Evaluator;
use super::parser::{BinOp, Cardinality, Expr, ValueType, VectorMatching};
use super::value::{Elem, QueryError, Series};
use crate::model::{Labels, LabelsBuilder, Sample, METRIC_NAME};
use std::collections::HashMap;

pub(crate) fn eval(
    ev: &mut Evaluator,
    op: BinOp,
    lhs: &Expr,
    rhs: &Expr,
    return_bool: bool,
    matching: Option<&VectorMatching>,
) -> Result<Vec<Series>, QueryError> {
    let (lt, rt) = (lhs.value_type(), rhs.value_type());
    let l = ev.eval_matrix(lhs)?;
    let r = ev.eval_matrix(rhs)?;
    if is_trim(op) && !l.is_empty() && !r.is_empty() {
        // Only native histograms have buckets; this store holds floats alone.
        ev.info(format!(
            "incompatible sample types encountered for binary operator {:?}: float {} float",
            op.as_str(),
            op.as_str()
        ));
    }
    match (lt, rt, matching) {
        (ValueType::Scalar, ValueType::Scalar, _) => ev.range_eval(&[l, r], |_, v, _| {
            let (a, b) = (first(&v[0]), first(&v[1]));
            Ok(vec![Elem::new(Labels::empty(), scalar_op(op, a, b))])
        }),
        (ValueType::Vector, ValueType::Vector, Some(m)) if op.is_set() => {
            set_op_series(ev, op, &l, &r, m)
        }
        (ValueType::Vector, ValueType::Vector, Some(m)) => {
            vector_op_series(ev, op, &l, &r, m, return_bool)
        }
        (ValueType::Vector, _, _) => Ok(vector_scalar_series(ev, op, l, &r, false, return_bool)),
        _ => Ok(vector_scalar_series(ev, op, r, &l, true, return_bool)),
    }
}

/// A vector against a scalar, series by series: each sample meets the scalar's value at its
/// own step. `swap` puts the scalar on the left.
fn vector_scalar_series(
    ev: &Evaluator,
    op: BinOp,
    vector: Vec<Series>,
    scalar: &[Series],
    swap: bool,
    return_bool: bool,
) -> Vec<Series> {
    let (start, interval) = (ev.start, ev.interval.max(1));
    let mut values = vec![f64::NAN; ev.num_steps()];
    for p in scalar.iter().flat_map(|s| &s.points) {
        if let Some(slot) = values.get_mut(((p.t - start) / interval) as usize) {
            *slot = p.v;
        }
    }
    let mut out = Vec::with_capacity(vector.len());
    for s in vector {
        let mut points = Vec::with_capacity(s.points.len());
        for p in &s.points {
            let sv = values
                .get(((p.t - start) / interval) as usize)
                .copied()
                .unwrap_or(f64::NAN);
            let (a, b) = if swap { (sv, p.v) } else { (p.v, sv) };
            let (mut val, mut keep) = elem_op(op, a, b);
            if op.is_comparison() && swap {
                val = b;
            }
            if return_bool {
                val = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            if keep {
                points.push(Sample { t: p.t, v: val });
            }
        }
        if !points.is_empty() {
            out.push(Series {
                labels: s.labels,
                points,
                drop_name: s.drop_name || is_arithmetic(op) || return_bool,
            });
        }
    }
    out
}

fn first(v: &[Elem]) -> f64 {
    v.first().map_or(f64::NAN, |e| e.v)
}

fn is_arithmetic(op: BinOp) -> bool {
    !op.is_comparison() && !op.is_set() && !is_trim(op)
}

fn is_trim(op: BinOp) -> bool {
    matches!(op, BinOp::TrimUpper | BinOp::TrimLower)
}

/// The result of `a op b` on floats: for comparisons, the left value and whether it passes.
fn elem_op(op: BinOp, a: f64, b: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (a + b, true),
        BinOp::Sub => (a - b, true),
        BinOp::Mul => (a * b, true),
        BinOp::Div => (a / b, true),
        BinOp::Pow => (a.powf(b), true),
        BinOp::Mod => (a % b, true),
        BinOp::Atan2 => (a.atan2(b), true),
        BinOp::Eql => (a, a == b),
        BinOp::Neq => (a, a != b),
        BinOp::Gtr => (a, a > b),
        BinOp::Lss => (a, a < b),
        BinOp::Gte => (a, a >= b),
        BinOp::Lte => (a, a <= b),
        BinOp::And | BinOp::Or | BinOp::Unless | BinOp::TrimUpper | BinOp::TrimLower => (a, false),
    }
}

fn scalar_op(op: BinOp, a: f64, b: f64) -> f64 {
    let (v, keep) = elem_op(op, a, b);
    if op.is_comparison() {
        if keep {
            1.0
        } else {
            0.0
        }
    } else {
        v
    }
}

/// The matching key of a series: the `on` labels, or all but the `ignoring` labels and the
/// metric name.
fn signature(l: &Labels, m: &VectorMatching) -> Labels {
    let mut b = LabelsBuilder::with_capacity(l.len());
    for lab in l.iter() {
        let listed = m.labels.iter().any(|n| **n == *lab.name);
        let keep = if m.on {
            listed
        } else {
            !listed && &*lab.name != METRIC_NAME
        };
        if keep {
            b.set_shared(lab.name.clone(), lab.value.clone());
        }
    }
    b.build()
}

/// Output series of a vector-vector operation, created on first use and filled step by
/// step; a second point for one output at one step is a collision.
struct Outputs {
    series: Vec<Series>,
    by_labels: HashMap<Labels, usize>,
    last_step: Vec<i64>,
}

impl Outputs {
    fn new() -> Self {
        Outputs {
            series: Vec::new(),
            by_labels: HashMap::new(),
            last_step: Vec::new(),
        }
    }

    fn slot(&mut self, labels: Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.by_labels.get(&labels) {
            return i;
        }
        self.by_labels.insert(labels.clone(), self.series.len());
        self.series.push(Series {
            labels,
            points: Vec::new(),
            drop_name,
        });
        self.last_step.push(i64::MIN);
        self.series.len() - 1
    }

    fn push(&mut self, i: usize, t: i64, v: f64) -> Result<(), QueryError> {
        if self.last_step[i] == t {
            return Err(QueryError::exec(
                "vector cannot contain metrics with the same labelset",
            ));
        }
        self.last_step[i] = t;
        self.series[i].points.push(Sample { t, v });
        Ok(())
    }

    fn finish(self) -> Vec<Series> {
        self.series
            .into_iter()
            .filter(|s| !s.points.is_empty())
            .collect()
    }
}

/// Walks series in step order: `at(i, t)` gives series i's value at step t, if any.
struct Cursors<'a> {
    series: &'a [Series],
    pos: Vec<usize>,
}

impl<'a> Cursors<'a> {
    fn new(series: &'a [Series]) -> Self {
        Cursors {
            series,
            pos: vec![0; series.len()],
        }
    }

    fn at(&mut self, i: usize, t: i64) -> Option<f64> {
        let pts = &self.series[i].points;
        let c = &mut self.pos[i];
        while *c < pts.len() && pts[*c].t < t {
            *c += 1;
        }
        pts.get(*c).filter(|p| p.t == t).map(|p| p.v)
    }
}

/// Numbers each distinct matching signature, so steps compare integers, not label sets.
fn signature_ids(sides: [&[Series]; 2], m: &VectorMatching) -> (Vec<Vec<usize>>, Vec<Labels>) {
    let mut ids: HashMap<Labels, usize> = HashMap::new();
    let mut sigs = Vec::new();
    let per_side = sides
        .iter()
        .map(|side| {
            side.iter()
                .map(|s| {
                    let sig = signature(&s.labels, m);
                    *ids.entry(sig.clone()).or_insert_with(|| {
                        sigs.push(sig);
                        sigs.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    (per_side, sigs)
}

fn set_op_series(
    ev: &Evaluator,
    op: BinOp,
    l: &[Series],
    r: &[Series],
    m: &VectorMatching,
) -> Result<Vec<Series>, QueryError> {
    let (ids, sigs) = signature_ids([l, r], m);
    let (mut lc, mut rc) = (Cursors::new(l), Cursors::new(r));
    let mut out = Outputs::new();
    let l_slots: Vec<usize> = l
        .iter()
        .map(|s| out.slot(s.labels.clone(), s.drop_name))
        .collect();
    let mut r_slots: Vec<Option<usize>> = vec![None; r.len()];
    // The step at which a signature was last seen on each side.
    let mut seen_l = vec![i64::MIN; sigs.len()];
    let mut seen_r = vec![i64::MIN; sigs.len()];
    for t in ev.steps() {
        ev.check_deadline()?;
        let mut right_vals = Vec::new();
        for j in 0..r.len() {
            if let Some(v) = rc.at(j, t) {
                seen_r[ids[1][j]] = t;
                right_vals.push((j, v));
            }
        }
        for i in 0..l.len() {
            let Some(v) = lc.at(i, t) else { continue };
            seen_l[ids[0][i]] = t;
            let matched = seen_r[ids[0][i]] == t;
            let keep = match op {
                BinOp::And => matched,
                BinOp::Unless => !matched,
                _ => true,
            };
            if keep {
                out.push(l_slots[i], t, v)?;
            }
        }
        if op == BinOp::Or {
            for (j, v) in right_vals {
                if seen_l[ids[1][j]] != t {
                    let slot = *r_slots[j]
                        .get_or_insert_with(|| out.slot(r[j].labels.clone(), r[j].drop_name));
                    out.push(slot, t, v)?;
                }
            }
        }
    }
    Ok(out.finish())
}

fn vector_op_series(
    ev: &Evaluator,
    op: BinOp,
    lhs: &[Series],
    rhs: &[Series],
    m: &VectorMatching,
    return_bool: bool,
) -> Result<Vec<Series>, QueryError> {
    let one_to_many = m.card == Cardinality::OneToMany;
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let (ids, sigs) = signature_ids([many, one], m);
    let (mut mc, mut oc) = (Cursors::new(many), Cursors::new(one));
    let mut out = Outputs::new();
    // Output slot per (many, one) pair; `usize::MAX` stands for a filled-in side.
    let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
    let mut one_at: Vec<(i64, usize)> = vec![(i64::MIN, 0); sigs.len()];
    let mut matched_at = vec![i64::MIN; sigs.len()];
    let has_fill = m.fill_left.is_some() || m.fill_right.is_some();
    let mut one_vals: Vec<(usize, f64)> = Vec::new();
    let mut many_vals: Vec<(usize, f64)> = Vec::new();
    for t in ev.steps() {
        ev.check_deadline()?;
        one_vals.clear();
        many_vals.clear();
        one_vals.extend((0..one.len()).filter_map(|j| oc.at(j, t).map(|v| (j, v))));
        many_vals.extend((0..many.len()).filter_map(|i| mc.at(i, t).map(|v| (i, v))));
        // Nothing can match (and duplicates do not matter) when a side is empty.
        if (many_vals.is_empty() && one_vals.is_empty())
            || ((many_vals.is_empty() || one_vals.is_empty()) && !has_fill)
        {
            continue;
        }
        for &(j, _) in &one_vals {
            let sig = ids[1][j];
            if one_at[sig].0 == t {
                let side = if one_to_many { "left" } else { "right" };
                let prev = &one[one_at[sig].1].labels;
                let (mut a, mut b) = (one[j].labels.to_string(), prev.to_string());
                if a > b {
                    std::mem::swap(&mut a, &mut b);
                }
                return Err(QueryError::exec(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side",
                    match_labels_string(&one[j].labels, m)
                )));
            }
            one_at[sig] = (t, j);
        }
        for &(i, lv) in &many_vals {
            let sig = ids[0][i];
            let (oi, rv) = if one_at[sig].0 == t {
                let j = one_at[sig].1;
                (j, oc.at(j, t).unwrap_or(f64::NAN))
            } else if let Some(fill) = m.fill_right {
                (usize::MAX, fill)
            } else {
                continue;
            };
            let (a, b) = if one_to_many { (rv, lv) } else { (lv, rv) };
            let (mut val, keep) = elem_op(op, a, b);
            if return_bool {
                val = if keep { 1.0 } else { 0.0 };
            }
            if m.card == Cardinality::OneToOne && matched_at[sig] == t {
                return Err(QueryError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            matched_at[sig] = t;
            let slot = *pairs.entry((i, oi)).or_insert_with(|| {
                let other = if oi == usize::MAX {
                    &sigs[sig]
                } else {
                    &one[oi].labels
                };
                out.slot(result_labels(&many[i].labels, other, op, m), return_bool)
            });
            if m.card != Cardinality::OneToOne && out.last_step[slot] == t {
                return Err(QueryError::exec(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
            if keep || return_bool {
                out.push(slot, t, val)?;
            } else {
                // Filtered out, but the slot still counts as used at this step.
                out.last_step[slot] = t;
            }
        }
        if let Some(fill) = m.fill_left {
            for &(j, rv) in &one_vals {
                let sig = ids[1][j];
                if matched_at[sig] == t {
                    continue;
                }
                let (a, b) = if one_to_many { (rv, fill) } else { (fill, rv) };
                let (mut val, keep) = elem_op(op, a, b);
                if return_bool {
                    val = if keep { 1.0 } else { 0.0 };
                }
                let slot = *pairs.entry((usize::MAX, j)).or_insert_with(|| {
                    out.slot(
                        result_labels(&sigs[sig], &one[j].labels, op, m),
                        return_bool,
                    )
                });
                if keep || return_bool {
                    out.push(slot, t, val)?;
                }
            }
        }
    }
    Ok(out.finish())
}

/// The labels of a vector-vector result: the "many" side's labels (without the metric name
/// for arithmetic), reduced to the matching labels for one-to-one, plus any `group_x` labels
/// copied from the "one" side.
fn result_labels(l: &Labels, r: &Labels, op: BinOp, m: &VectorMatching) -> Labels {
    let mut b = l.builder();
    if is_arithmetic(op) {
        b.del(METRIC_NAME);
        b.del("__type__");
        b.del("__unit__");
    }
    if m.card == Cardinality::OneToOne {
        if m.on {
            b.retain(|n| m.labels.iter().any(|x| x == n));
        } else {
            b.retain(|n| !m.labels.iter().any(|x| x == n));
        }
    }
    for n in &m.include {
        match r.get(n) {
            Some(v) => b.set(n, v),
            None => b.del(n),
        };
    }
    b.build()
}

/// `{a="1", b="2"}` for the labels the match group is keyed on.
fn match_labels_string(l: &Labels, m: &VectorMatching) -> String {
    let mut b = l.builder();
    if m.on {
        b.retain(|n| m.labels.iter().any(|x| x == n));
    } else {
        b.retain(|n| !m.labels.iter().any(|x| x == n) && n != METRIC_NAME);
    }
    let s = b.build();
    let mut out = String::from("{");
    for (i, lab) in s.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("{}={:?}", lab.name, &*lab.value));
    }
    out.push('}');
    out
}
