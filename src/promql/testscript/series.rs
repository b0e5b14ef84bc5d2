//! Series lines of test scripts: `name{l="v"} 1 2+3x4 _ stale {{schema:0 sum:1}}`.

use super::ScriptError;
use crate::model::{stale_nan, Labels, LabelsBuilder, MatchOp};
use crate::promql::parser::{parse, Expr};

/// One expanded item of a value sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeqValue {
    Float(f64),
    /// `_`: no sample at this step.
    Omitted,
    /// A native histogram (its contents are not kept).
    Histogram,
}

/// Splits a line into its series part and its value part.
pub fn split_series(line: &str) -> (&str, &str) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut in_quote: Option<u8> = None;
    let mut depth = 0;
    while i < b.len() {
        let c = b[i];
        match in_quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    in_quote = None;
                }
            }
            None => match c {
                b'"' | b'\'' | b'`' => in_quote = Some(c),
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return (&line[..=i], line[i + 1..].trim());
                    }
                }
                c if c.is_ascii_whitespace() && depth == 0 => {
                    return (&line[..i], line[i..].trim());
                }
                _ => {}
            },
        }
        i += 1;
    }
    (line, "")
}

/// Parses the label part of a series line (equality matchers only).
pub fn parse_labels(desc: &str, line: usize) -> Result<Labels, ScriptError> {
    let expr =
        parse(desc).map_err(|e| ScriptError::new(line, format!("bad series {desc:?}: {e}")))?;
    let Expr::Vector(sel) = expr else {
        return Err(ScriptError::new(line, format!("bad series {desc:?}")));
    };
    let mut b = LabelsBuilder::new();
    for m in &sel.matchers {
        if m.op != MatchOp::Equal {
            return Err(ScriptError::new(
                line,
                format!("series {desc:?} may only use equality matchers"),
            ));
        }
        b.set(&m.name, &m.value);
    }
    Ok(b.build())
}

/// Splits the value part into items, keeping `{{...}}` groups whole.
fn items(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut depth = 0;
        while i < b.len() && (depth > 0 || !b[i].is_ascii_whitespace()) {
            match b[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        out.push(&s[start..i]);
    }
    out
}

/// Parses a number as the scripts write them: decimal, `Inf`, `NaN`, or (for expected
/// scalars) hexadecimal.
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match body.to_ascii_lowercase().as_str() {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        b if b.starts_with("0x") => i64::from_str_radix(&b[2..], 16).ok()? as f64,
        b if b.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c)) => b.parse().ok()?,
        _ => return None,
    };
    Some(if neg { -v } else { v })
}

/// Expands the value items of a series line.
pub fn parse_values(s: &str, line: usize) -> Result<Vec<SeqValue>, ScriptError> {
    let mut out = Vec::new();
    for item in items(s) {
        let bad = || ScriptError::new(line, format!("bad value item {item:?}"));
        if item.starts_with("{{") {
            let times = match item.rfind("}}") {
                Some(end) => match item[end + 2..].strip_prefix('x') {
                    Some(n) => n.parse::<usize>().map_err(|_| bad())? + 1,
                    None => 1,
                },
                None => return Err(bad()),
            };
            out.extend(std::iter::repeat_n(SeqValue::Histogram, times));
            continue;
        }
        if item == "_" {
            out.push(SeqValue::Omitted);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n.parse().map_err(|_| bad())?;
            out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
            continue;
        }
        if item == "stale" {
            out.push(SeqValue::Float(stale_nan()));
            continue;
        }
        let (head, times) = match item.rfind('x') {
            Some(i) => (
                &item[..i],
                Some(item[i + 1..].parse::<usize>().map_err(|_| bad())?),
            ),
            None => (item, None),
        };
        let Some(times) = times else {
            out.push(SeqValue::Float(parse_number(head).ok_or_else(bad)?));
            continue;
        };
        // `A`, `A+B` or `A-B`: the sign of B is the first + or - that is neither leading
        // nor part of an exponent.
        let hb = head.as_bytes();
        let split = (1..hb.len())
            .find(|&i| (hb[i] == b'+' || hb[i] == b'-') && !matches!(hb[i - 1], b'e' | b'E'));
        let (start, step) = match split {
            // The step itself is unsigned: `A+-BxN` is not a sequence.
            Some(i) if head[i + 1..].starts_with(['+', '-']) => return Err(bad()),
            Some(i) => (
                parse_number(&head[..i]).ok_or_else(bad)?,
                parse_number(&head[i..]).ok_or_else(bad)?,
            ),
            None => (parse_number(head).ok_or_else(bad)?, 0.0),
        };
        let mut v = start;
        for _ in 0..=times {
            out.push(SeqValue::Float(v));
            v += step;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_sequences() {
        let cases: &[(&str, Vec<f64>)] = &[
            ("0+10x3", vec![0.0, 10.0, 20.0, 30.0]),
            ("-2-1x3", vec![-2.0, -3.0, -4.0, -5.0]),
            ("1x2", vec![1.0, 1.0, 1.0]),
            ("1e3 .5", vec![1000.0, 0.5]),
        ];
        for (input, want) in cases {
            let got: Vec<f64> = parse_values(input, 1)
                .unwrap()
                .into_iter()
                .map(|v| match v {
                    SeqValue::Float(f) => f,
                    _ => f64::NAN,
                })
                .collect();
            assert_eq!(&got, want, "{input}");
        }
        assert!(parse_values("1+-1x3", 1).is_err());
        let v = parse_values("_x2 stale {{schema:0 sum:1}}x1", 1).unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], SeqValue::Omitted);
        assert_eq!(v[4], SeqValue::Histogram);
    }

    #[test]
    fn splits_series_from_values() {
        assert_eq!(split_series(r#"a{b="c d"} 1 2"#), (r#"a{b="c d"}"#, "1 2"));
        assert_eq!(split_series("up 1"), ("up", "1"));
    }
}
