//! Binary operators: arithmetic, comparisons (filtering or `bool`), and the set operators,
//! between scalars and vectors, with `on`/`ignoring` and `group_left`/`group_right` vector
//! matching as Prometheus 3.x defines it.

use super::engine::Evaluator;
use super::parser::{BinOp, Cardinality, Expr, ValueType, VectorMatching};
use super::value::{Elem, QueryError, Series};
use crate::model::{Labels, LabelsBuilder, METRIC_NAME};
use std::collections::{HashMap, HashSet};

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
    match (lt, rt, matching) {
        (ValueType::Scalar, ValueType::Scalar, _) => ev.range_eval(&[l, r], |_, v, _| {
            let (a, b) = (first(&v[0]), first(&v[1]));
            Ok(vec![Elem::new(Labels::empty(), scalar_op(op, a, b))])
        }),
        (ValueType::Vector, ValueType::Vector, Some(m)) => ev.range_eval(&[l, r], |_, v, _| {
            if op.is_set() {
                Ok(set_op(op, &v[0], &v[1], m))
            } else {
                vector_op(op, &v[0], &v[1], m, return_bool)
            }
        }),
        (ValueType::Vector, _, _) => ev.range_eval(&[l, r], |_, v, _| {
            Ok(vector_scalar(op, &v[0], first(&v[1]), false, return_bool))
        }),
        _ => ev.range_eval(&[l, r], |_, v, _| {
            Ok(vector_scalar(op, &v[1], first(&v[0]), true, return_bool))
        }),
    }
}

fn first(v: &[Elem]) -> f64 {
    v.first().map_or(f64::NAN, |e| e.v)
}

fn is_arithmetic(op: BinOp) -> bool {
    !op.is_comparison() && !op.is_set()
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
        BinOp::And | BinOp::Or | BinOp::Unless => (a, false),
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

fn vector_scalar(op: BinOp, v: &[Elem], s: f64, swap: bool, return_bool: bool) -> Vec<Elem> {
    let mut out = Vec::with_capacity(v.len());
    for e in v {
        let (a, b) = if swap { (s, e.v) } else { (e.v, s) };
        let (mut val, mut keep) = elem_op(op, a, b);
        if op.is_comparison() && swap {
            val = b;
        }
        if return_bool {
            val = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            out.push(Elem {
                labels: e.labels.clone(),
                v: val,
                drop_name: e.drop_name || is_arithmetic(op) || return_bool,
            });
        }
    }
    out
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

fn set_op(op: BinOp, l: &[Elem], r: &[Elem], m: &VectorMatching) -> Vec<Elem> {
    match op {
        BinOp::And => {
            let rs: HashSet<Labels> = r.iter().map(|e| signature(&e.labels, m)).collect();
            l.iter()
                .filter(|e| rs.contains(&signature(&e.labels, m)))
                .cloned()
                .collect()
        }
        BinOp::Unless => {
            let rs: HashSet<Labels> = r.iter().map(|e| signature(&e.labels, m)).collect();
            l.iter()
                .filter(|e| !rs.contains(&signature(&e.labels, m)))
                .cloned()
                .collect()
        }
        _ => {
            let ls: HashSet<Labels> = l.iter().map(|e| signature(&e.labels, m)).collect();
            let mut out = l.to_vec();
            out.extend(
                r.iter()
                    .filter(|e| !ls.contains(&signature(&e.labels, m)))
                    .cloned(),
            );
            out
        }
    }
}

fn vector_op(
    op: BinOp,
    lhs: &[Elem],
    rhs: &[Elem],
    m: &VectorMatching,
    return_bool: bool,
) -> Result<Vec<Elem>, QueryError> {
    let has_fill = m.fill_left.is_some() || m.fill_right.is_some();
    if (lhs.is_empty() && rhs.is_empty()) || ((lhs.is_empty() || rhs.is_empty()) && !has_fill) {
        return Ok(Vec::new());
    }
    let one_to_many = m.card == Cardinality::OneToMany;
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_sigs: HashMap<Labels, &Elem> = HashMap::with_capacity(one.len());
    for e in one {
        let sig = signature(&e.labels, m);
        if let Some(prev) = one_sigs.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            let (mut a, mut b) = (e.labels.to_string(), prev.labels.to_string());
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            return Err(QueryError::exec(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side",
                match_labels_string(&e.labels, m)
            )));
        }
        one_sigs.insert(sig, e);
    }
    let mut st = MatchState {
        op,
        m,
        one_to_many,
        return_bool,
        matched_one: HashSet::new(),
        matched_many: HashMap::new(),
        out: Vec::new(),
    };
    for ls in many {
        let sig = signature(&ls.labels, m);
        match one_sigs.get(&sig) {
            Some(rs) => st.apply(ls, rs, sig)?,
            None => {
                if let Some(fill) = m.fill_right {
                    let rs = Elem::new(sig.clone(), fill);
                    st.apply(ls, &rs, sig)?;
                }
            }
        }
    }
    if let Some(fill) = m.fill_left {
        for rs in one {
            let sig = signature(&rs.labels, m);
            let matched = if m.card == Cardinality::OneToOne {
                st.matched_one.contains(&sig)
            } else {
                st.matched_many.get(&sig).is_some_and(|s| !s.is_empty())
            };
            if !matched {
                let ls = Elem::new(sig.clone(), fill);
                st.apply(&ls, rs, sig)?;
            }
        }
    }
    Ok(st.out)
}

/// Output and duplicate tracking of one vector-vector operation at one step.
struct MatchState<'a> {
    op: BinOp,
    m: &'a VectorMatching,
    one_to_many: bool,
    return_bool: bool,
    matched_one: HashSet<Labels>,
    matched_many: HashMap<Labels, HashSet<Labels>>,
    out: Vec<Elem>,
}

impl MatchState<'_> {
    /// Applies the operator to a "many"-side sample and its "one"-side match.
    fn apply(&mut self, ls: &Elem, rs: &Elem, sig: Labels) -> Result<(), QueryError> {
        let (a, b) = if self.one_to_many {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let (mut val, keep) = elem_op(self.op, a, b);
        if self.return_bool {
            val = if keep { 1.0 } else { 0.0 };
        }
        let labels = result_labels(&ls.labels, &rs.labels, self.op, self.m);
        if self.m.card == Cardinality::OneToOne {
            if !self.matched_one.insert(sig) {
                return Err(QueryError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !self
            .matched_many
            .entry(sig)
            .or_default()
            .insert(labels.clone())
        {
            return Err(QueryError::exec(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if keep || self.return_bool {
            self.out.push(Elem {
                labels,
                v: val,
                drop_name: self.return_bool,
            });
        }
        Ok(())
    }
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
