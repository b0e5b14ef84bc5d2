//! Exposition-format parsing for the scrape hot path.
//!
//! Input: the body of one scrape response as `&str` and its [`Format`] (Prometheus text 0.0.4
//! or OpenMetrics 1.0 text). Output: a stream of [`Entry`] values pulled one at a time with
//! [`Parser::next`]. Nothing here knows about actors or HTTP, so the module can become a crate
//! of its own.
//!
//! # Why our own pull parser
//!
//! A scrape of a busy target yields tens of thousands of samples, every interval, for every
//! target. The parser therefore lends slices of the body instead of building values: a sample
//! is its raw series text (metric name plus label block, byte for byte as sent), its metric
//! name, a float and an optional timestamp. The scrape cache keys on the raw series text, so a
//! series seen in an earlier scrape never has its labels parsed again; [`Parser::labels`] is
//! only called for new series, and it unescapes a label value only when the value holds a
//! backslash. Label spans live in a buffer that is reused for every line, so the steady state
//! allocates nothing per sample (in OpenMetrics mode the family checks keep a few small sets
//! per metric family, reused across families).
//!
//! The `prometheus-parse` crate (0.2.5) is kept only as a differential oracle in the tests
//! (`tests/differential.rs` next to this file). It cannot serve the hot path: it needs the
//! body as owned `String` lines and builds a `String` name and a `HashMap<String, String>` of
//! labels for every sample, and it is lossy in ways the tests pin:
//! - label values are cut at `,` and `=` (the block is split on them) and a `}` inside a value
//!   drops the sample; escapes are left in place (`\"` stays backslash-quote), in HELP too;
//! - `{}`, a `:` in the metric name (recording-rule names) or any malformed line makes it skip
//!   the sample silently: a broken scrape looks like a smaller one, never like an error;
//! - a missing or unparseable timestamp becomes the scrape time, so "no timestamp" cannot be
//!   told apart, a negative one is taken although Prometheus refuses it, and OpenMetrics float
//!   timestamps are replaced by the scrape time; it has no OpenMetrics mode at all (`# EOF`,
//!   `# UNIT` and exemplars pass as comments or bad timestamps);
//! - histogram buckets and summary quantiles are folded into one value per series, keyed
//!   through a `HashMap`, so the order of the body is lost.
//!
//! # Semantics
//!
//! The text format follows the parser of Prometheus 3.x (`model/textparse/promparse.go`):
//! whitespace between tokens, blank lines and unknown comments are allowed, the label block
//! may end in a comma, timestamps are integer milliseconds (digits only, as in Prometheus's
//! lexer). Deliberate differences: label pairs must be separated by commas (Prometheus also
//! takes `{a="1" b="2"}`, which its own source calls possibly accidental), blanks around the
//! type of a `# TYPE` line are ignored, and quoted UTF-8 metric names (`{"my.metric"}`) are not
//! supported yet.
//!
//! OpenMetrics mode follows the OpenMetrics 1.0 specification as checked by its conformance
//! suite: exact single-space syntax, `# EOF` required and last, metadata before the samples of
//! its family, families not interleaved, type-specific rules (counter values, histogram
//! buckets, summary quantiles, info and stateset values), exemplars only where the spec
//! allows them, timestamps of one series not going backwards. Float-second timestamps become
//! milliseconds rounded to the nearest one (saturating at the `i64` range).

mod lex;
mod openmetrics;
mod parser;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

pub use parser::Parser;

/// The exposition format of a scrape body, chosen from the response's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), also the fallback.
    PromText,
    /// OpenMetrics 1.0 text (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// Picks the format from a `Content-Type` header value. Anything that is not
    /// `application/openmetrics-text` (any version, any parameters) is read as the Prometheus
    /// text format, as Prometheus does for unknown or missing types.
    pub fn from_content_type(ct: &str) -> Format {
        let media_type = ct.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PromText
        }
    }
}

/// The type of a metric family, as declared by a `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in the text format, or no `# TYPE` line at all.
    Unknown,
}

impl MetricType {
    /// The name the Prometheus HTTP API uses for this type (`/api/v1/metadata`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// One item of a scrape body. Every `&'a str` borrows from the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP`: the docstring, unescaped (borrowed when it holds no escape).
    Help { metric: &'a str, text: Cow<'a, str> },
    /// `# TYPE`.
    Type { metric: &'a str, kind: MetricType },
    /// `# UNIT` (OpenMetrics only); `unit` may be empty.
    Unit { metric: &'a str, unit: &'a str },
    /// A sample. `series` is the metric name plus its label block exactly as written in the
    /// body (the scrape cache's key); `name` is the metric name alone; the labels are read
    /// with [`Parser::labels`]. `timestamp_ms` is in milliseconds for both formats.
    Sample {
        series: &'a str,
        name: &'a str,
        value: f64,
        timestamp_ms: Option<i64>,
    },
}

/// What was wrong with a line of the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The line does not follow the format's grammar.
    #[error("{0}")]
    Syntax(&'static str),
    /// Two labels of one label set share a name.
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// The line is well formed but breaks an OpenMetrics rule for its metric family.
    #[error("{rule} (metric family {family:?})")]
    Family { family: String, rule: &'static str },
}

/// A parse error: the 1-based line, what was wrong, and the offending line (truncated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind} in {snippet:?}")]
pub struct ParseError {
    pub line: usize,
    kind: ParseErrorKind,
    snippet: String,
}

/// Longest part of the offending line quoted in an error; scrape errors end up in the targets
/// page and logs, where a whole 10 KiB line would drown the message.
const SNIPPET_MAX_CHARS: usize = 80;

impl ParseError {
    fn new(line: usize, kind: ParseErrorKind, text: &str) -> ParseError {
        let snippet = match text.char_indices().nth(SNIPPET_MAX_CHARS) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_owned(),
        };
        ParseError {
            line,
            kind,
            snippet,
        }
    }

    /// What was wrong, for callers that react to the kind of error.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}
