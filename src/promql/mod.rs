//! The PromQL engine (Prometheus 3.x semantics): a parser to a typed syntax tree, an evaluator
//! over any [`crate::storage::Queryable`], and the test-script language used to check both.
//!
//! Input: a query string and a time (or range). Output: a [`Value`] or a [`QueryError`] whose
//! [`QueryError::kind`] tells the HTTP layer which status to answer with. Nothing here knows
//! about actix.
//!
//! Semantics are Prometheus 3.x's, checked against the conformance scripts of v3.14.0, with
//! the behaviour those scripts assume: delayed `__name__` removal (functions mark the name
//! for removal, which happens when the result is final), `__type__`/`__unit__` dropped with
//! the name, 5m lookback, a 1m step for subqueries written without one, and the experimental
//! functions and modifiers (`fill`, `anchored`, `smoothed`, `info()`, `limitk`) enabled.
//! Native histograms are not supported yet; start timestamps are not either (the storage
//! seam has none).
//!
//! Layout: `parser/` (text to [`Expr`]), `engine.rs` (public entry points and the per-step
//! evaluator), `selectors.rs` (storage reads, `offset`/`@`, range windows), `functions/`,
//! `aggregate.rs`, `binary.rs`, `value.rs` (results and errors), `testscript/` (the script
//! language and an in-memory store).

pub mod parser;

pub use parser::{parse, Expr, ParseError};

mod aggregate;
mod binary;
mod engine;
mod functions;
mod selectors;
pub mod testscript;
mod value;

pub use engine::{Engine, EngineOpts, QueryOutput};
pub use parser::ValueType;
pub use value::{ErrorKind, QueryError, Value, VectorSample};

#[cfg(test)]
mod tests;
