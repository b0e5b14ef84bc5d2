//! Query results written as JSON bytes straight from the engine's values.
//!
//! Building a `serde_json::Value` tree first, then a second one for the envelope, cost more
//! than evaluating a selector over a thousand series: two allocations per label, a map per
//! series, every string copied twice. The bytes are the same shapes Prometheus answers with:
//! `{"resultType":"vector","result":[{"metric":{…},"value":[t,"v"]}]}`, timestamps as
//! seconds with up to three decimals, sample values as strings.

use crate::model::{Labels, ValueText};
use crate::promql::Value;
use std::io::Write;

/// The `data` member of a `query` or `query_range` answer.
pub fn query_data(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match v {
        Value::Scalar { t, v } => {
            out.extend_from_slice(br#"{"resultType":"scalar","result":"#);
            point(&mut out, *t, *v);
        }
        Value::String { t, v } => {
            out.extend_from_slice(br#"{"resultType":"string","result":["#);
            timestamp(&mut out, *t);
            out.push(b',');
            string(&mut out, v);
            out.push(b']');
        }
        Value::Vector(samples) => {
            out.reserve(samples.len() * 160);
            out.extend_from_slice(br#"{"resultType":"vector","result":"#);
            list(&mut out, samples, |out, s| {
                out.extend_from_slice(br#"{"metric":"#);
                labels(out, &s.labels);
                out.extend_from_slice(br#","value":"#);
                point(out, s.t, s.v);
                out.push(b'}');
            });
        }
        Value::Matrix(series) => {
            out.extend_from_slice(br#"{"resultType":"matrix","result":"#);
            list(&mut out, series, |out, s| {
                out.extend_from_slice(br#"{"metric":"#);
                labels(out, &s.labels);
                out.extend_from_slice(br#","values":"#);
                list(out, &s.samples, |out, p| point(out, p.t, p.v));
                out.push(b'}');
            });
        }
    }
    out.push(b'}');
    out
}

/// A JSON array of `items`, each written by `item`.
fn list<T>(out: &mut Vec<u8>, items: &[T], item: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item(out, x);
    }
    out.push(b']');
}

/// A label set as an object, in the label set's (name) order.
fn labels(out: &mut Vec<u8>, l: &Labels) {
    out.push(b'{');
    for (i, l) in l.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, &l.name);
        out.push(b':');
        string(out, &l.value);
    }
    out.push(b'}');
}

/// `[t,"v"]`.
fn point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.push(b'[');
    timestamp(out, t);
    out.extend_from_slice(b",\"");
    value(out, v);
    out.extend_from_slice(b"\"]");
}

/// Milliseconds as seconds: integral ones without a fraction, others with three digits
/// (`1.500`), as Prometheus prints them; exact, unlike a division in floating point.
fn timestamp(out: &mut Vec<u8>, t: i64) {
    let abs = t.unsigned_abs();
    let (secs, ms) = (abs / 1000, abs % 1000);
    let sign = if t < 0 { "-" } else { "" };
    // Writing into a Vec cannot fail.
    let _ = if ms == 0 {
        write!(out, "{sign}{secs}")
    } else {
        write!(out, "{sign}{secs}.{ms:03}")
    };
}

/// A sample value as Prometheus prints it ([`ValueText`]).
fn value(out: &mut Vec<u8>, v: f64) {
    let _ = write!(out, "{}", ValueText(v));
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;
    use crate::promql::VectorSample;
    use crate::storage::SeriesData;
    use serde_json::{json, Value as Json};

    fn parsed(v: &Value) -> Json {
        serde_json::from_slice(&query_data(v)).expect("valid JSON")
    }

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_print_like_prometheus() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e21, "1000000000000000000000"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1e-7, "0.0000001"),
        ];
        for (v, want) in cases {
            assert_eq!(text(|o| value(o, v)), want);
        }
    }

    #[test]
    fn timestamps_are_exact_seconds() {
        for (t, want) in [
            (1_700_000_000_000, "1700000000"),
            (1_700_000_000_123, "1700000000.123"),
            (1_500, "1.500"),
            (5, "0.005"),
            (0, "0"),
            (-1_500, "-1.500"),
            (-5, "-0.005"),
            (i64::MIN, "-9223372036854775.808"),
        ] {
            assert_eq!(text(|o| timestamp(o, t)), want);
        }
    }

    #[test]
    fn strings_escape_as_json() {
        let odd = "a\"b\\c\nd\te\u{1}f\u{7f}é✓";
        let got = text(|o| string(o, odd));
        assert_eq!(serde_json::from_str::<String>(&got).unwrap(), odd);
        assert_eq!(got, serde_json::to_string(odd).unwrap());
    }

    #[test]
    fn shapes_match_the_api() {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a\"b")]);
        let vector = Value::Vector(vec![
            VectorSample {
                labels: l.clone(),
                t: 1_500,
                v: 1.0,
            },
            VectorSample {
                labels: Labels::default(),
                t: 2_000,
                v: f64::NAN,
            },
        ]);
        assert_eq!(
            parsed(&vector),
            json!({"resultType": "vector", "result": [
                {"metric": {"__name__": "up", "job": "a\"b"}, "value": [1.5, "1"]},
                {"metric": {}, "value": [2, "NaN"]},
            ]})
        );
        let matrix = Value::Matrix(vec![SeriesData {
            labels: l,
            samples: vec![Sample { t: 1_000, v: 2.5 }, Sample { t: 2_000, v: -1.0 }],
        }]);
        assert_eq!(
            parsed(&matrix),
            json!({"resultType": "matrix", "result": [
                {"metric": {"__name__": "up", "job": "a\"b"}, "values": [[1, "2.5"], [2, "-1"]]},
            ]})
        );
        assert_eq!(
            parsed(&Value::Matrix(Vec::new())),
            json!({"resultType": "matrix", "result": []})
        );
        assert_eq!(
            parsed(&Value::Scalar { t: 3_000, v: 0.25 }),
            json!({"resultType": "scalar", "result": [3, "0.25"]})
        );
        assert_eq!(
            parsed(&Value::String {
                t: 3_000,
                v: "x\ny".into()
            }),
            json!({"resultType": "string", "result": [3, "x\ny"]})
        );
        assert_eq!(
            String::from_utf8(query_data(&Value::Scalar { t: 1, v: 1.0 })).unwrap(),
            r#"{"resultType":"scalar","result":[0.001,"1"]}"#
        );
    }
}
