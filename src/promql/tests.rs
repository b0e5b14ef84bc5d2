//! The engine's public API: result shapes, ordering and error kinds.

use super::testscript::MemStore;
use super::{Engine, EngineOpts, ErrorKind, Value};
use crate::model::{Labels, Sample};
use std::time::Duration;

fn store() -> MemStore {
    let mut s = MemStore::new();
    for (inst, step) in [("b", 2.0), ("a", 1.0)] {
        let labels = Labels::from_pairs(&[("__name__", "x"), ("instance", inst)]);
        s.add(
            labels,
            (0..10).map(|k| Sample {
                t: k * 60_000,
                v: k as f64 * step,
            }),
        );
    }
    s
}

#[test]
fn value_shapes() {
    let e = Engine::default();
    let s = store();
    match e.instant_query(&s, "1 + 1", 5_000).unwrap() {
        Value::Scalar { t, v } => assert_eq!((t, v), (5_000, 2.0)),
        other => panic!("{other:?}"),
    }
    match e.instant_query(&s, "\"hi\"", 0).unwrap() {
        Value::String { v, .. } => assert_eq!(v, "hi"),
        other => panic!("{other:?}"),
    }
    match e.instant_query(&s, "sort_desc(x)", 120_000).unwrap() {
        Value::Vector(v) => {
            let got: Vec<f64> = v.iter().map(|s| s.v).collect();
            assert_eq!(got, vec![4.0, 2.0]);
            assert_eq!(v[0].t, 120_000);
        }
        other => panic!("{other:?}"),
    }
    match e.range_query(&s, "x", 0, 120_000, 60_000).unwrap() {
        Value::Matrix(m) => {
            let names: Vec<&str> = m.iter().filter_map(|s| s.labels.get("instance")).collect();
            assert_eq!(names, vec!["a", "b"], "range results are sorted by labels");
            assert_eq!(m[0].samples.len(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_kinds() {
    let e = Engine::default();
    let s = store();
    let cases = [
        ("sum(", ErrorKind::Parse),
        ("x[5m]", ErrorKind::Parse), // a range vector cannot be a range query
        ("x * on() group_left x", ErrorKind::Execution),
    ];
    for (q, want) in cases {
        let err = e.range_query(&s, q, 0, 60_000, 60_000).unwrap_err();
        assert_eq!(err.kind(), want, "{q}: {err}");
    }
}

#[test]
fn limits() {
    let s = store();
    let tiny = Engine::new(EngineOpts {
        max_samples: 3,
        ..EngineOpts::default()
    });
    let err = tiny.range_query(&s, "x", 0, 540_000, 60_000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManySamples);
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    let hasty = Engine::new(EngineOpts {
        timeout: Duration::ZERO,
        ..EngineOpts::default()
    });
    std::thread::sleep(Duration::from_millis(2));
    let err = hasty.instant_query(&s, "x", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
}

/// The sample limit applies to what is held at a time, as in Prometheus: a range function
/// gives back each series' raw samples once it has computed that series. Here the raw load
/// is 20 samples, `rate` keeps 18 and `sum` adds 9: at most 27 are held at once, while 47 pass
/// through in all.
#[test]
fn sample_limit_counts_what_is_held() {
    let s = store();
    let q = "sum(rate(x[5m]))";
    let with_limit = |max_samples| {
        Engine::new(EngineOpts {
            max_samples,
            ..EngineOpts::default()
        })
        .range_query(&s, q, 0, 540_000, 60_000)
    };
    assert!(with_limit(30).is_ok(), "27 samples held at most");
    let err = with_limit(25).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManySamples);
}

#[test]
fn guards_against_huge_ranges() {
    let e = Engine::default();
    let s = store();
    let err = e.range_query(&s, "x", 0, 1_000_000_000, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    let err = e
        .instant_query(&s, "max_over_time(x[100y:1ms])", 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManySamples);
    let err = e
        .instant_query(&s, "x offset (100000y * 100000000)", 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Execution, "{err}");
}

/// Every query that parses evaluates to a value or an error, never a panic.
#[test]
fn evaluation_never_panics() {
    const PIECES: &[&str] = &[
        "x",
        "x[5m]",
        "x[1m:10s]",
        "1",
        "-1",
        "NaN",
        " + ",
        " / ",
        " % ",
        " ^ ",
        " > ",
        " and ",
        " or ",
        " unless ",
        " == bool ",
        " * on(instance) group_left ",
        " + ignoring(instance) ",
        "rate(",
        "sum(",
        "topk(2, ",
        "quantile(0.5, ",
        "count_values(\"v\", ",
        "abs(",
        "scalar(",
        "vector(",
        "histogram_quantile(0.9, ",
        "label_replace(",
        "sort_desc(",
        "absent(",
        "clamp(",
        "round(",
        "predict_linear(",
        "deriv(",
        "time()",
        ")",
        ", ",
        " offset 1m",
        " @ 60",
        "[5m]",
        "[2m:30s]",
        " by (instance) ",
        "\"s\"",
        "x smoothed",
        "x[2m] anchored",
    ];
    let e = Engine::default();
    let s = store();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut parsed = 0;
    for _ in 0..30_000 {
        let mut q = String::new();
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        for _ in 0..(seed >> 61) + 1 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            q.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
        }
        if super::parse(&q).is_err() {
            continue;
        }
        parsed += 1;
        let _ = e.instant_query(&s, &q, 300_000);
        let _ = e.range_query(&s, &q, 0, 600_000, 60_000);
    }
    assert!(parsed > 500, "only {parsed} queries parsed");
}
