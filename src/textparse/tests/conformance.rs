//! The OpenMetrics conformance suite (`shared/openmetrics-testdata`, see its README): every
//! body must be accepted or rejected as its `test.json` says.

use std::path::PathBuf;

use super::render_twice;
use crate::textparse::Format;

/// Our score on the 211 cases. The README gives, measured end to end over HTTP on the same
/// cases: Prometheus 2.42 138/211 (all 44 good bodies parse, 101/167 bad ones rejected),
/// VictoriaMetrics 1.79 92/211, the Python reference parser 211/211. Raise this when the
/// parser gets stricter; it must never go down.
const MIN_SCORE: usize = 211;

fn testdata_dir() -> PathBuf {
    let shared = std::env::var_os("PYROMETER_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    shared.join("openmetrics-testdata")
}

#[test]
fn openmetrics_conformance_suite() {
    let dir = testdata_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: no conformance data at {}", dir.display());
        return;
    };
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("test.json").is_file())
        .collect();
    cases.sort();
    let (mut good_ok, mut good_total, mut bad_ok, mut bad_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("test.json")).unwrap()).unwrap();
        let should_parse = spec["shouldParse"].as_bool().unwrap();
        let file = spec["file"].as_str().unwrap_or("metrics");
        let bytes = std::fs::read(case.join(file)).unwrap();
        // A body that is not UTF-8 cannot reach the parser (the caller decodes it first);
        // such a body counts as rejected.
        let result = match std::str::from_utf8(&bytes) {
            Ok(body) => render_twice(body, Format::OpenMetrics).map_err(|e| e.to_string()),
            Err(e) => Err(format!("not utf-8: {e}")),
        };
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if should_parse {
            good_total += 1;
            match result {
                Ok(_) => good_ok += 1,
                Err(e) => failures.push(format!("{name}: rejected a good body: {e}")),
            }
        } else {
            bad_total += 1;
            match result {
                Err(_) => bad_ok += 1,
                Ok(_) => failures.push(format!("{name}: accepted a bad body")),
            }
        }
    }
    let score = good_ok + bad_ok;
    println!(
        "openmetrics conformance: {score}/{} (good accepted {good_ok}/{good_total}, bad rejected \
         {bad_ok}/{bad_total}); Prometheus 2.42 scores 138/211, VictoriaMetrics 1.79 92/211",
        good_total + bad_total
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(score >= MIN_SCORE, "score {score} fell below {MIN_SCORE}");
}
