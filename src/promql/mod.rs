//! The PromQL engine (Prometheus 3.x semantics): a parser to a typed syntax tree, an evaluator
//! over any [`crate::storage::Queryable`], and the test-script language used to check both.
//!
//! Input: a query string and a time (or range). Output: a [`Value`] or a [`QueryError`] whose
//! [`QueryError::kind`] tells the HTTP layer which status to answer with. Nothing here knows
//! about actix.

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
