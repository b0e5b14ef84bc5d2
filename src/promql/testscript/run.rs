//! Reading and running scripts: commands are executed as they are read, so a `load` is
//! visible to the evals after it.

use super::compare::{check_output_annotations, check_sorted, compare};
use super::series::{parse_labels, parse_number, parse_values, split_series, SeqValue};
use super::store::MemStore;
use super::ScriptError;
use crate::model::{Labels, Sample};
use crate::promql::parser::{parse, parse_duration, At, Expr};
use crate::promql::{Engine, EngineOpts, QueryError, Value};
use regex::Regex;
use std::collections::BTreeMap;
use std::time::Duration;

/// The outcome of one eval.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalOutcome {
    Passed,
    Failed(String),
    /// The eval involves native histograms, which the engine does not support yet.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct EvalRecord {
    pub line: usize,
    pub expr: String,
    pub outcome: EvalOutcome,
}

/// What running a script gave: one record per eval, and the error that stopped the script
/// early, if any.
#[derive(Debug, Default)]
pub struct ScriptReport {
    pub evals: Vec<EvalRecord>,
    pub error: Option<ScriptError>,
}

impl ScriptReport {
    fn count(&self, f: impl Fn(&EvalOutcome) -> bool) -> usize {
        self.evals.iter().filter(|e| f(&e.outcome)).count()
    }
    pub fn passed(&self) -> usize {
        self.count(|o| *o == EvalOutcome::Passed)
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, EvalOutcome::Failed(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| *o == EvalOutcome::Skipped)
    }
    /// The first failed eval, as `line N: expr: reason`.
    pub fn first_failure(&self) -> Option<String> {
        self.evals.iter().find_map(|e| match &e.outcome {
            EvalOutcome::Failed(msg) => Some(format!("line {}: {}: {msg}", e.line, e.expr)),
            _ => None,
        })
    }
}

/// Engine settings the upstream scripts assume: 5m lookback, 10000 samples, 100s timeout.
fn script_engine() -> Engine {
    Engine::new(EngineOpts {
        lookback_delta: Duration::from_secs(300),
        timeout: Duration::from_secs(100),
        max_samples: 10_000,
    })
}

struct Patterns {
    load: Regex,
    instant: Regex,
    range: Regex,
    expect: Regex,
    expect_range: Regex,
    context_funcs: Regex,
}

impl Patterns {
    fn new() -> Result<Self, regex::Error> {
        Ok(Patterns {
            load: Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$")?,
            instant: Regex::new(
                r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$",
            )?,
            range: Regex::new(
                r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
            )?,
            expect: Regex::new(
                r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$",
            )?,
            expect_range: Regex::new(
                r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$",
            )?,
            context_funcs: Regex::new(r"(start|end|range|step)\(\)")?,
        })
    }
}

/// One `eval` command.
#[derive(Default)]
pub(super) struct Eval {
    pub(super) expr: String,
    pub(super) range: bool,
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) step: i64,
    pub(super) fail: bool,
    pub(super) fail_msg: Option<String>,
    pub(super) fail_regex: Option<Regex>,
    pub(super) ordered: bool,
    /// `expect warn ...` lines (`None` matches any warning), and `expect no_warn`.
    pub(super) warn_lines: Vec<Option<Regex>>,
    pub(super) no_warn: bool,
    pub(super) info_lines: Vec<Option<Regex>>,
    pub(super) no_info: bool,
    pub(super) range_vector: bool,
    pub(super) expected_string: Option<String>,
    pub(super) scalar: Option<f64>,
    pub(super) series: Vec<(Labels, Vec<SeqValue>)>,
}

fn dur(s: &str, line: usize) -> Result<i64, ScriptError> {
    parse_duration(s.trim()).ok_or_else(|| ScriptError::new(line, format!("bad duration {s:?}")))
}

/// Runs a whole script and reports every eval.
pub fn run_script(text: &str) -> ScriptReport {
    let mut report = ScriptReport::default();
    if let Err(e) = run_inner(text, &mut report) {
        report.error = Some(e);
    }
    report
}

fn run_inner(text: &str, report: &mut ScriptReport) -> Result<(), ScriptError> {
    let pats = Patterns::new().map_err(|e| ScriptError::new(0, e.to_string()))?;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect();
    let engine = script_engine();
    let mut store = MemStore::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        let lineno = i + 1;
        if l.is_empty() {
            i += 1;
            continue;
        }
        let block_end = (i + 1..lines.len())
            .find(|&j| lines[j].is_empty())
            .unwrap_or(lines.len());
        let body = &lines[i + 1..block_end];
        if l == "clear" {
            store.clear();
            i += 1;
            continue;
        }
        if let Some(c) = pats.load.captures(l) {
            let interval = dur(&c[2], lineno)?;
            load(&mut store, body, interval, c.get(1).is_some(), lineno + 1)?;
        } else if l.starts_with("eval") {
            let ev = parse_eval(&pats, l, body, lineno)?;
            let outcome = run_eval(&engine, &store, &ev, &pats);
            report.evals.push(EvalRecord {
                line: lineno,
                expr: ev.expr.clone(),
                outcome,
            });
        } else {
            return Err(ScriptError::new(lineno, format!("unknown command {l:?}")));
        }
        i = block_end;
    }
    Ok(())
}

fn load(
    store: &mut MemStore,
    body: &[String],
    interval: i64,
    with_nhcb: bool,
    first_line: usize,
) -> Result<(), ScriptError> {
    let mut block: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    for (k, l) in body.iter().enumerate() {
        let line = first_line + k;
        let (desc, vals) = split_series(l);
        if desc.ends_with("@st") || vals.starts_with("@st") {
            continue;
        }
        let labels = parse_labels(desc, line)?;
        let vals = parse_values(vals, line)?;
        let mut samples = Vec::new();
        for (n, v) in vals.iter().enumerate() {
            match v {
                SeqValue::Float(f) => samples.push(Sample {
                    t: n as i64 * interval,
                    v: *f,
                }),
                SeqValue::Histogram => store.mark_histogram(labels.clone()),
                SeqValue::Omitted => {}
            }
        }
        if with_nhcb {
            if let Some(base) = labels.metric_name().and_then(|n| n.strip_suffix("_bucket")) {
                let mut b = labels.builder();
                b.del("le");
                b.set(crate::model::METRIC_NAME, base);
                store.mark_histogram(b.build());
            }
        }
        block.insert(labels, samples);
    }
    for (labels, samples) in block {
        store.add(labels, samples);
    }
    Ok(())
}

fn parse_eval(
    pats: &Patterns,
    header: &str,
    body: &[String],
    line: usize,
) -> Result<Eval, ScriptError> {
    let mut ev = Eval::default();
    let modifier;
    if let Some(c) = pats.instant.captures(header) {
        modifier = c.get(1).map(|m| m.as_str().to_string());
        ev.start = match c.get(2) {
            Some(at) => dur(at.as_str(), line)?,
            None => 0,
        };
        ev.end = ev.start;
        ev.expr = c[3].to_string();
    } else if let Some(c) = pats.range.captures(header) {
        modifier = c.get(1).map(|m| m.as_str().to_string());
        ev.range = true;
        ev.start = dur(&c[2], line)?;
        ev.end = dur(&c[3], line)?;
        ev.step = dur(&c[4], line)?;
        ev.expr = c[5].to_string();
    } else {
        return Err(ScriptError::new(
            line,
            format!("bad eval command {header:?}"),
        ));
    }
    match modifier.as_deref() {
        Some("fail") => ev.fail = true,
        Some("ordered") => ev.ordered = true,
        Some("warn") => ev.warn_lines.push(None),
        Some("info") => ev.info_lines.push(None),
        _ => {}
    }
    for (k, l) in body.iter().enumerate() {
        let lineno = line + 1 + k;
        // The older spelling of `expect fail msg:`/`regex:` after `eval_fail`.
        if ev.fail {
            if let Some(m) = l.strip_prefix("expected_fail_message") {
                ev.fail_msg = Some(m.trim().to_string());
                break;
            }
            if let Some(re) = l.strip_prefix("expected_fail_regexp") {
                let re = re.trim();
                ev.fail_regex = Some(
                    Regex::new(re)
                        .map_err(|e| ScriptError::new(lineno, format!("bad regex {re:?}: {e}")))?,
                );
                break;
            }
        }
        if let Some(c) = pats.expect_range.captures(l) {
            ev.range_vector = true;
            ev.start = dur(&c[1], lineno)?;
            ev.end = dur(&c[2], lineno)?;
            ev.step = dur(&c[3], lineno)?;
            continue;
        }
        if let Some(rest) = l.strip_prefix("expect string") {
            match parse(rest.trim()) {
                Ok(Expr::String(s)) => ev.expected_string = Some(s),
                _ => return Err(ScriptError::new(lineno, format!("bad string {rest:?}"))),
            }
            continue;
        }
        if l.split(' ').next() == Some("expect") {
            let c = pats
                .expect
                .captures(l)
                .ok_or_else(|| ScriptError::new(lineno, format!("bad expect line {l:?}")))?;
            let text = c.get(3).map(|m| m.as_str().trim().to_string());
            match &c[1] {
                "ordered" => ev.ordered = true,
                "fail" => {
                    ev.fail = true;
                    match c.get(2).map(|m| m.as_str()) {
                        Some("msg") => ev.fail_msg = text,
                        Some(_) => {
                            let re = text.unwrap_or_default();
                            ev.fail_regex = Some(Regex::new(&re).map_err(|e| {
                                ScriptError::new(lineno, format!("bad regex {re:?}: {e}"))
                            })?);
                        }
                        None => {}
                    }
                }
                kind @ ("warn" | "info") => {
                    let m = match (c.get(2).map(|m| m.as_str()), text) {
                        (Some("msg"), Some(t)) => Some(
                            Regex::new(&format!("^{}$", regex::escape(&t)))
                                .map_err(|e| ScriptError::new(lineno, e.to_string()))?,
                        ),
                        (Some(_), Some(t)) => Some(
                            Regex::new(&t).map_err(|e| ScriptError::new(lineno, e.to_string()))?,
                        ),
                        _ => None,
                    };
                    if kind == "warn" {
                        ev.warn_lines.push(m);
                    } else {
                        ev.info_lines.push(m);
                    }
                }
                "no_warn" => ev.no_warn = true,
                "no_info" => ev.no_info = true,
                _ => {}
            }
            continue;
        }
        if let Some(v) = parse_number(l) {
            ev.scalar = Some(v);
            break;
        }
        let (desc, vals) = split_series(l);
        let labels = if desc == "{}" {
            Labels::empty()
        } else {
            parse_labels(desc, lineno)?
        };
        ev.series.push((labels, parse_values(vals, lineno)?));
    }
    Ok(ev)
}

/// Whether an eval's expected result holds native histograms.
fn expects_histograms(ev: &Eval) -> bool {
    ev.series
        .iter()
        .any(|(_, v)| v.contains(&SeqValue::Histogram))
}

/// Whether a selector of the expression matches a series with native-histogram samples.
fn touches_histograms(store: &MemStore, expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| match e {
        Expr::Vector(sel) | Expr::Matrix { sel, .. } => {
            found |= store.histogram_matches(&sel.matchers);
        }
        _ => {}
    });
    found
}

fn run_eval(engine: &Engine, store: &MemStore, ev: &Eval, pats: &Patterns) -> EvalOutcome {
    if expects_histograms(ev) {
        return EvalOutcome::Skipped;
    }
    let expr = match parse(&ev.expr) {
        Ok(e) => e,
        Err(e) => return check_failure(ev, &QueryError::Parse(e)),
    };
    if touches_histograms(store, &expr) {
        return EvalOutcome::Skipped;
    }
    let res = if ev.range {
        run_range(engine, store, ev, &expr)
    } else {
        run_instant(engine, store, ev, &expr, pats)
    };
    match res {
        Ok(()) => EvalOutcome::Passed,
        Err(msg) => EvalOutcome::Failed(msg),
    }
}

fn check_failure(ev: &Eval, err: &QueryError) -> EvalOutcome {
    if !ev.fail {
        return EvalOutcome::Failed(format!("unexpected error: {err}"));
    }
    let text = err.to_string();
    if let Some(m) = &ev.fail_msg {
        if *m != text {
            return EvalOutcome::Failed(format!("expected error {m:?}, got {text:?}"));
        }
    }
    if let Some(re) = &ev.fail_regex {
        if !re.is_match(&text) {
            return EvalOutcome::Failed(format!("expected error matching {re}, got {text:?}"));
        }
    }
    EvalOutcome::Passed
}

fn expect_result<T>(ev: &Eval, res: Result<T, QueryError>) -> Result<Option<T>, String> {
    match res {
        Err(e) => match check_failure(ev, &e) {
            EvalOutcome::Passed => Ok(None),
            EvalOutcome::Failed(m) => Err(m),
            EvalOutcome::Skipped => Ok(None),
        },
        Ok(_) if ev.fail => Err("expected an error, got a result".into()),
        Ok(v) => Ok(Some(v)),
    }
}

fn run_range(engine: &Engine, store: &MemStore, ev: &Eval, expr: &Expr) -> Result<(), String> {
    let res = engine.range_query_expr(store, expr, ev.start, ev.end, ev.step);
    match expect_result(ev, res)? {
        Some(out) => {
            check_output_annotations(ev, &out)?;
            compare(ev, &out.value, ev.start)
        }
        None => Ok(()),
    }
}

/// Functions whose results depend on the evaluation time itself, so pinning selectors with
/// `@` would change them (Prometheus's `AtModifierUnsafeFunctions`).
const AT_UNSAFE: &[&str] = &[
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
    "start",
    "end",
    "range",
    "step",
];

/// Pins every selector and subquery that has no fixed `@` time to `t`, leaving the inside
/// of subqueries that already have one alone.
fn pin_at(e: &mut Expr, t: i64) {
    match e {
        Expr::Vector(sel) | Expr::Matrix { sel, .. } => {
            if !matches!(sel.at, Some(At::Time(_))) {
                sel.at = Some(At::Time(t));
            }
        }
        Expr::Subquery { at, .. } => {
            if matches!(at, Some(At::Time(_))) {
                return;
            }
            // Selectors inside now belong to a subquery with a fixed time: left alone.
            *at = Some(At::Time(t));
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(|a| pin_at(a, t)),
        Expr::Aggregate { expr, param, .. } => {
            if let Some(p) = param {
                pin_at(p, t);
            }
            pin_at(expr, t);
        }
        Expr::Binary { lhs, rhs, .. } => {
            pin_at(lhs, t);
            pin_at(rhs, t);
        }
        Expr::Unary { expr, .. } | Expr::Paren(expr) => pin_at(expr, t),
        Expr::Number(_) | Expr::String(_) => {}
    }
}

fn run_instant(
    engine: &Engine,
    store: &MemStore,
    ev: &Eval,
    expr: &Expr,
    pats: &Patterns,
) -> Result<(), String> {
    let t = ev.end;
    let mut cases = vec![(expr.clone(), t)];
    let mut unsafe_fn = false;
    expr.walk(&mut |e| {
        if let Expr::Call { func, .. } = e {
            unsafe_fn |= AT_UNSAFE.contains(&func.name);
        }
    });
    if !unsafe_fn {
        let mut pinned = expr.clone();
        pin_at(&mut pinned, t);
        let times = if t == 0 {
            vec![-1000, 0, 1000]
        } else {
            vec![-10 * t, 0, t / 5, t, 10 * t]
        };
        cases.extend(times.into_iter().map(|et| (pinned.clone(), et)));
    }
    for (e, at) in cases {
        let text = e.to_string();
        let res = engine.instant_query_expr(store, &e, at);
        let Some(out) =
            expect_result(ev, res).map_err(|m| format!("{m} (query {text} at {at})"))?
        else {
            return Ok(());
        };
        check_output_annotations(ev, &out).map_err(|m| format!("{m} (query {text} at {at})"))?;
        compare(ev, &out.value, ev.start).map_err(|m| format!("{m} (query {text} at {at})"))?;
        if ev.range_vector || ev.expected_string.is_some() || pats.context_funcs.is_match(&ev.expr)
        {
            continue;
        }
        let rv = engine
            .range_query_expr(store, &e, at - 60_000, at + 60_000, 60_000)
            .map_err(|err| format!("range mode failed: {err} (query {text} at {at})"))?;
        if ev.ordered {
            continue;
        }
        let Value::Matrix(m) = rv.value else {
            return Err("range mode did not return a matrix".into());
        };
        check_sorted(&m)?;
        let mut vec = Vec::new();
        for s in &m {
            if let Some(p) = s.samples.iter().find(|p| p.t == at) {
                vec.push(crate::promql::VectorSample {
                    labels: s.labels.clone(),
                    t: at,
                    v: p.v,
                });
            }
        }
        let as_value = if ev.scalar.is_some() {
            Value::Scalar {
                t: at,
                v: vec.first().map_or(f64::NAN, |s| s.v),
            }
        } else {
            Value::Vector(vec)
        };
        compare(ev, &as_value, ev.start)
            .map_err(|m| format!("range mode: {m} (query {text} at {at})"))?;
    }
    Ok(())
}
