//! Runs the PromQL test scripts: our own (`tests/promql/*.test`, every eval must pass), and
//! Prometheus's core conformance files from the shared test data (the pass ratio must not
//! fall below the level the engine has reached).

use pyrometer::promql::testscript::{run_script, EvalOutcome};
use std::path::{Path, PathBuf};

fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    files
}

#[test]
fn own_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promql");
    let files = test_files(&dir);
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let mut failures = Vec::new();
    let mut evals = 0;
    for f in files {
        let report = run_script(&std::fs::read_to_string(&f).unwrap());
        if let Some(e) = &report.error {
            failures.push(format!("{}: {e}", f.display()));
        }
        for e in &report.evals {
            evals += 1;
            match &e.outcome {
                EvalOutcome::Passed => {}
                other => {
                    failures.push(format!("{}:{}: {}: {other:?}", f.display(), e.line, e.expr))
                }
            }
        }
    }
    assert!(evals > 100, "only {evals} evals found");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

/// The core conformance files (features Prometheus 3.x has on by default).
const CORE: &[&str] = &[
    "aggregators",
    "at_modifier",
    "collision",
    "duration_expression",
    "functions",
    "histograms",
    "literals",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
    "subquery",
    "trig_functions",
];

/// Reached: all 954 core evals outside native histograms; a small margin is left for
/// deliberate changes.
const MIN_CORE_PASS_RATIO: f64 = 0.99;

#[test]
fn prometheus_core_conformance() {
    let shared = std::env::var_os("PYROMETER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("promql-testdata");
    if !dir.is_dir() {
        eprintln!(
            "skipping: {} not found (set PYROMETER_SHARED to the shared data directory)",
            dir.display()
        );
        return;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for name in CORE {
        let path = dir.join(format!("{name}.test"));
        let report = run_script(&std::fs::read_to_string(&path).unwrap());
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
        passed += report.passed();
        failed += report.failed();
    }
    let ratio = passed as f64 / (passed + failed) as f64;
    assert!(
        ratio >= MIN_CORE_PASS_RATIO,
        "core conformance fell to {passed}/{} ({ratio:.3})",
        passed + failed
    );
}
