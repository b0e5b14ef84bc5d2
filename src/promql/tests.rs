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
