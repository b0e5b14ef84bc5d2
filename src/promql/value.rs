//! Query results and query errors, as the HTTP layer sees them, plus the engine's working
//! types (series with per-step points, and per-step vectors).

use super::parser::ParseError;
use crate::model::{Labels, Sample};
use crate::storage::SeriesData;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// The result of a query. An instant query's vector keeps the order the expression produced
/// (so `sort()` and `topk` orders survive); a range query's matrix is sorted by labels, as in
/// Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<VectorSample>),
    Matrix(Vec<SeriesData>),
}

/// Which HTTP answer an error calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The query text is wrong: 400 `bad_data`.
    Parse,
    /// The query failed while running: 422 `execution`.
    Execution,
    /// The query ran out of time: 503 `timeout`.
    Timeout,
    /// The query needed too many samples: 422 `execution`.
    TooManySamples,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A query that parses but cannot be run as asked (e.g. a range vector in a range query).
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    Execution(String),
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
}

impl QueryError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueryError::Parse(_) | QueryError::BadQuery(_) => ErrorKind::Parse,
            QueryError::Execution(_) => ErrorKind::Execution,
            QueryError::Timeout(_) => ErrorKind::Timeout,
            QueryError::TooManySamples(_) => ErrorKind::TooManySamples,
        }
    }

    pub(crate) fn exec(msg: impl Into<String>) -> Self {
        QueryError::Execution(msg.into())
    }
}

/// A series inside the evaluator: points at evaluation steps (or raw samples for range
/// vectors), and whether its metric name is due to be dropped once the query is done
/// (Prometheus's delayed name removal, which lets `label_replace` and friends still see it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub labels: Labels,
    pub points: Vec<Sample>,
    pub drop_name: bool,
}

/// One element of a vector at one evaluation step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    pub labels: Labels,
    pub v: f64,
    pub drop_name: bool,
}

impl Elem {
    pub fn new(labels: Labels, v: f64) -> Self {
        Elem {
            labels,
            v,
            drop_name: false,
        }
    }
}

/// Labels that describe the metric rather than the series; they go whenever the metric
/// name goes (Prometheus 3.x treats `__type__` and `__unit__` this way).
pub(crate) const METADATA_LABELS: [&str; 3] = ["__name__", "__type__", "__unit__"];

/// A copy without the metric name and its metadata labels.
pub(crate) fn drop_metric_name(labels: &Labels) -> Labels {
    if !labels.iter().any(|l| METADATA_LABELS.contains(&&*l.name)) {
        return labels.clone();
    }
    let mut b = labels.builder();
    b.retain(|n| !METADATA_LABELS.contains(&n));
    b.build()
}

/// The labels a series ends up with once delayed name removal is applied.
pub(crate) fn final_labels(labels: &Labels, drop_name: bool) -> Labels {
    if drop_name {
        drop_metric_name(labels)
    } else {
        labels.clone()
    }
}
