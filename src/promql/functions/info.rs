//! `info(v, {selector})` (Prometheus 3.x, experimental): adds the labels of matching info
//! series (by default `target_info`), joined on `instance` and `job`, to each sample of `v`.

use super::super::engine::Evaluator;
use super::super::parser::{At, Expr, VectorSelector};
use super::super::value::{Elem, QueryError, Series};
use crate::model::{Labels, MatchOp, Matcher, METRIC_NAME};
use std::collections::{BTreeMap, HashMap};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// The name matchers that decide which series are info series: the given ones if one of
/// them selects positively, else `.+_info` narrowed by them, else `target_info`.
fn effective_name_matchers(ms: &[Matcher]) -> Vec<Matcher> {
    if ms
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::RegexMatch))
    {
        return ms.to_vec();
    }
    if !ms.is_empty() {
        let mut out = Vec::with_capacity(ms.len() + 1);
        if let Ok(m) = Matcher::new(MatchOp::RegexMatch, METRIC_NAME, ".+_info") {
            out.push(m);
        }
        out.extend(ms.iter().cloned());
        return out;
    }
    vec![Matcher::equal(METRIC_NAME, TARGET_INFO)]
}

/// The `@` time and offset of the first selector in `e`, with the offsets of enclosing
/// subqueries (and their `@`, when the selector has none).
fn first_selector_time(ev: &Evaluator, e: &Expr) -> Result<(Option<At>, i64), QueryError> {
    fn find<'a>(e: &'a Expr, path: &mut Vec<&'a Expr>) -> Option<&'a VectorSelector> {
        match e {
            Expr::Vector(sel) | Expr::Matrix { sel, .. } => Some(sel),
            Expr::Subquery { expr, .. } | Expr::Unary { expr, .. } | Expr::Paren(expr) => {
                path.push(e);
                find(expr, path)
            }
            Expr::Call { args, .. } => args.iter().find_map(|a| find(a, path)),
            Expr::Aggregate { expr, param, .. } => param
                .as_deref()
                .and_then(|p| find(p, path))
                .or_else(|| find(expr, path)),
            Expr::Binary { lhs, rhs, .. } => find(lhs, path).or_else(|| find(rhs, path)),
            _ => None,
        }
    }
    let mut path = Vec::new();
    let Some(sel) = find(e, &mut path) else {
        return Ok((None, 0));
    };
    let mut at = sel.at;
    let mut offset = match &sel.offset {
        Some(d) => ev.duration(d, true)?,
        None => 0,
    };
    for node in path.iter().rev() {
        if at.is_some() {
            break;
        }
        if let Expr::Subquery {
            offset: o, at: a, ..
        } = node
        {
            if let Some(d) = o {
                offset += ev.duration(d, true)?;
            }
            at = *a;
        }
    }
    Ok((at, offset))
}

pub(super) fn eval(ev: &mut Evaluator, args: &[Expr]) -> Result<Vec<Series>, QueryError> {
    let (at, offset) = first_selector_time(ev, &args[0])?;
    let base = ev.eval_matrix(&args[0])?;
    let mut data: BTreeMap<String, Vec<Matcher>> = BTreeMap::new();
    let mut name_matchers = Vec::new();
    match args.get(1) {
        Some(Expr::Vector(sel)) => {
            for m in &sel.matchers {
                data.entry(m.name.clone()).or_default().push(m.clone());
                if m.name == METRIC_NAME {
                    name_matchers.push(m.clone());
                }
            }
        }
        Some(other) => {
            return Err(QueryError::exec(format!(
                "expected a label selector as the second argument of info(), got {other}"
            )))
        }
        None => name_matchers.push(Matcher::equal(METRIC_NAME, TARGET_INFO)),
    }
    let effective = effective_name_matchers(&name_matchers);
    let is_info = |l: &Labels| {
        let name = l.metric_name().unwrap_or("");
        effective.iter().all(|m| m.matches(name))
    };
    // Which identifying label values the non-info base series carry.
    let mut id_values: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in base.iter().filter(|s| !is_info(&s.labels)) {
        for l in IDENTIFYING {
            if let Some(v) = s.labels.get(l) {
                let vals = id_values.entry(l).or_default();
                if !vals.iter().any(|x| x == v) {
                    vals.push(v.to_string());
                }
            }
        }
    }
    let data_names: Vec<Matcher> = data
        .values()
        .flatten()
        .filter(|m| m.name == METRIC_NAME)
        .cloned()
        .collect();
    data.remove(METRIC_NAME);
    let info = if id_values.is_empty() {
        Vec::new()
    } else {
        let mut ms = Vec::new();
        for (name, vals) in &id_values {
            let re: Vec<String> = vals.iter().map(|v| regex::escape(v)).collect();
            ms.push(
                Matcher::new(MatchOp::RegexMatch, *name, re.join("|"))
                    .map_err(|e| QueryError::exec(e.to_string()))?,
            );
        }
        ms.extend(data.values().flatten().cloned());
        ms.extend(effective_name_matchers(&data_names));
        let sel = VectorSelector {
            name: None,
            matchers: ms,
            offset: None,
            at: None,
            edge: Default::default(),
        };
        ev.info_series(&sel, at, offset)?
    };
    let info_names: Vec<String> = {
        let mut v: Vec<String> = info
            .iter()
            .filter_map(|s| s.labels.metric_name().map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let all_match_empty = data.values().flatten().all(|m| m.matches_empty());
    let is_info_ref = &is_info;
    ev.range_eval(&[base, info], |_, vecs, _| {
        combine(
            &vecs[0],
            &vecs[1],
            is_info_ref,
            &info_names,
            &data,
            all_match_empty,
        )
    })
}

/// The join key of a series with an info metric: the info metric's name and the series'
/// identifying labels.
type InfoKey = (String, Vec<(String, String)>);

fn signature(name: &str, l: &Labels) -> InfoKey {
    let ids = IDENTIFYING
        .iter()
        .filter_map(|n| l.get(n).map(|v| (n.to_string(), v.to_string())))
        .collect();
    (name.to_string(), ids)
}

fn combine(
    base: &[Elem],
    info: &[Elem],
    is_info: &dyn Fn(&Labels) -> bool,
    info_names: &[String],
    data: &BTreeMap<String, Vec<Matcher>>,
    all_match_empty: bool,
) -> Result<Vec<Elem>, QueryError> {
    if base.is_empty() {
        return Ok(Vec::new());
    }
    // The newest info sample per key; the value holds the sample's original timestamp.
    let mut latest: HashMap<InfoKey, &Elem> = HashMap::new();
    for s in info {
        let key = signature(s.labels.metric_name().unwrap_or(""), &s.labels);
        match latest.get(&key) {
            Some(prev) if (prev.v as i64) > (s.v as i64) => {}
            Some(prev) if (prev.v as i64) == (s.v as i64) => {
                return Err(QueryError::exec(format!(
                    "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                    prev.labels, prev.v as i64, s.labels, s.v as i64
                )))
            }
            _ => {
                latest.insert(key, s);
            }
        }
    }
    let mut out = Vec::with_capacity(base.len());
    for bs in base {
        if is_info(&bs.labels) {
            out.push(bs.clone());
            continue;
        }
        let mut added: BTreeMap<String, String> = BTreeMap::new();
        let mut seen = 0;
        for name in info_names {
            let Some(is) = latest.get(&signature(name, &bs.labels)) else {
                continue;
            };
            for l in is.labels.iter() {
                if &*l.name == METRIC_NAME || (!data.is_empty() && !data.contains_key(&*l.name)) {
                    continue;
                }
                if let Some(v) = added.get(&*l.name) {
                    if v.as_str() != &*l.value {
                        return Err(QueryError::exec(format!("conflicting label: {}", l.name)));
                    }
                }
                if bs.labels.get(&l.name).is_some() {
                    continue;
                }
                added.insert(l.name.to_string(), l.value.to_string());
            }
            seen += 1;
        }
        if seen == 0 && !all_match_empty {
            continue;
        }
        let mut b = bs.labels.builder();
        for (n, v) in &added {
            b.set(n, v);
        }
        out.push(Elem {
            labels: b.build(),
            v: bs.v,
            drop_name: bs.drop_name,
        });
    }
    Ok(out)
}
