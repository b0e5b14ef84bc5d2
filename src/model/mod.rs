//! The data model shared by every stage: label sets, label matchers and samples.
//!
//! Input: nothing; these are plain values. Output: the vocabulary that scrape, storage and
//! PromQL speak to each other. Nothing here knows about actors or HTTP.

mod labels;
mod matcher;

pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};

/// One sample: a millisecond Unix timestamp and a float value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

/// A sample value as Prometheus prints it (Go's `strconv.FormatFloat(v, 'f', -1, 64)`):
/// shortest round-trip digits, no exponent, and `NaN`, `+Inf`, `-Inf`. Used by the API's
/// answers and by `count_values`' labels.
pub struct ValueText(pub f64);

impl std::fmt::Display for ValueText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v.is_infinite() {
            f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
        } else {
            write!(f, "{v}")
        }
    }
}

/// Bit pattern of the staleness marker, the same NaN Prometheus writes
/// (`value.StaleNaN` in Prometheus 2.x/3.x), so that data exchanged with it keeps its meaning.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (and not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Current wall-clock time in milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
