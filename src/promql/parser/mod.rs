//! The PromQL parser: text to a typed syntax tree, with errors positioned as `line:col`.
//!
//! We parse with our own recursive-descent (precedence-climbing) parser rather than the
//! `promql-parser` crate: that crate reports errors without positions and does not accept
//! Prometheus 3.x duration expressions (`[5m+1m]`, `offset (2*2m)`, `[step()]`), and both are
//! part of what users see. The grammar follows Prometheus 3.x with the features its test
//! suite enables (experimental functions, duration expressions).

mod ast;
mod binary;
mod functions;
mod lexer;
mod modifiers;
mod parse;

pub use ast::{
    fmt_float, AggOp, At, BinOp, Cardinality, DurExpr, EdgeMode, Expr, ValueType, VectorMatching,
    VectorSelector,
};
pub use functions::{lookup as lookup_function, FuncDef};
pub use lexer::{format_duration, parse_duration};

use std::fmt;

/// A syntax or type error, with the position of the offending input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

impl ParseError {
    /// An error at byte offset `pos` of `input`; lines and columns count from 1.
    pub(crate) fn at(input: &str, pos: usize, msg: String) -> Self {
        let pos = pos.min(input.len());
        let before = &input.as_bytes()[..pos];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        ParseError {
            line,
            col: pos - line_start + 1,
            msg,
        }
    }
}

/// Parses and type-checks a PromQL expression.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    parse::Parser::new(input)?.parse_top()
}

#[cfg(test)]
mod tests;
