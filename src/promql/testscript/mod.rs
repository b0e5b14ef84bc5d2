//! The PromQL test-script language (as Prometheus's `promqltest` reads it): `load` series,
//! `clear`, and `eval` queries against expected results. The same scripts check our engine
//! against Prometheus's own test files and hold our own PromQL tests.
//!
//! Input: a script's text. Output: a [`ScriptReport`] with the outcome of every eval.

mod compare;
mod run;
mod series;
mod store;

pub use run::{run_script, EvalOutcome, EvalRecord, ScriptReport};
pub use store::MemStore;

use std::fmt;

/// A script that cannot be read, with the 1-based line where it goes wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScriptError {
    pub line: usize,
    pub msg: String,
}

impl ScriptError {
    pub(crate) fn new(line: usize, msg: String) -> Self {
        ScriptError { line, msg }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}
