//! Tests of the exposition-format parser: table-driven corpora (good and malformed bodies),
//! a randomized no-panic test, a differential test against `prometheus-parse`, and the
//! OpenMetrics conformance suite.

mod conformance;
mod corpus;
mod differential;
mod fuzz;
mod malformed;

use std::fmt::Write;

use super::{Entry, Format, ParseError, Parser};

/// Parses the whole body and renders every entry on its own line, `|`-separated:
/// `HELP name text`, `TYPE name kind`, `UNIT name unit`, `name{k="v",...} value [@ts]`.
/// Also checks that `series` is the raw text that starts the sample line.
fn render(body: &str, format: Format) -> Result<String, ParseError> {
    let mut parser = Parser::new(body, format);
    let mut out = Vec::new();
    let mut labels = Vec::new();
    while let Some(entry) = parser.next()? {
        out.push(match entry {
            Entry::Help { metric, text } => format!("HELP {metric} {text:?}"),
            Entry::Type { metric, kind } => format!("TYPE {metric} {}", kind.as_str()),
            Entry::Unit { metric, unit } => format!("UNIT {metric} {unit}"),
            Entry::Sample {
                series,
                name,
                value,
                timestamp_ms,
            } => {
                assert!(
                    series.starts_with(name),
                    "series {series:?} does not start with {name:?}"
                );
                labels.clear();
                parser.labels(&mut labels);
                let mut s = name.to_owned();
                if !labels.is_empty() {
                    let pairs: Vec<String> =
                        labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    write!(s, "{{{}}}", pairs.join(",")).unwrap();
                }
                write!(s, " {value}").unwrap();
                if let Some(ts) = timestamp_ms {
                    write!(s, " @{ts}").unwrap();
                }
                s
            }
        });
    }
    // Fused: once done, it stays done.
    assert_eq!(parser.next().unwrap(), None);
    Ok(out.join("|"))
}

/// Runs `render` twice on the same body and insists both runs agree: no state may leak
/// between parsers (or between calls on a fresh parser).
fn render_twice(body: &str, format: Format) -> Result<String, ParseError> {
    let first = render(body, format);
    let second = render(body, format);
    assert_eq!(first, second, "second parse of {body:?} differs");
    first
}
