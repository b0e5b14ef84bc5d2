//! The syntax tree of a PromQL expression, and its normalized printing (`Display`), which
//! `/api/v1/format_query` returns and the test runner uses to rewrite queries.

use super::functions::FuncDef;
use super::lexer::format_duration;
use crate::model::{MatchOp, Matcher, METRIC_NAME};
use std::fmt;

/// The four PromQL value types, named as Prometheus names them in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
    /// `</` and `>/`: trim native-histogram buckets; floats have no buckets to trim.
    TrimUpper,
    TrimLower,
}

impl BinOp {
    /// Binding strength; higher binds tighter. `^` is the only right-associative operator.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eql
            | BinOp::Neq
            | BinOp::Gtr
            | BinOp::Lss
            | BinOp::Gte
            | BinOp::Lte
            | BinOp::TrimUpper
            | BinOp::TrimLower => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => 5,
            BinOp::Pow => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte
        )
    }

    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Gtr => ">",
            BinOp::Lss => "<",
            BinOp::Gte => ">=",
            BinOp::Lte => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
            BinOp::TrimUpper => "</",
            BinOp::TrimLower => ">/",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

impl AggOp {
    pub fn from_name(s: &str) -> Option<AggOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            "count_values" => AggOp::CountValues,
            "quantile" => AggOp::Quantile,
            "limitk" => AggOp::Limitk,
            "limit_ratio" => AggOp::LimitRatio,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Avg => "avg",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Group => "group",
            AggOp::Stddev => "stddev",
            AggOp::Stdvar => "stdvar",
            AggOp::Topk => "topk",
            AggOp::Bottomk => "bottomk",
            AggOp::CountValues => "count_values",
            AggOp::Quantile => "quantile",
            AggOp::Limitk => "limitk",
            AggOp::LimitRatio => "limit_ratio",
        }
    }

    /// The type of the parameter, for the aggregations that take one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggOp::Topk | AggOp::Bottomk | AggOp::Quantile | AggOp::Limitk | AggOp::LimitRatio => {
                Some(ValueType::Scalar)
            }
            AggOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }
}

/// A duration that may be computed: a literal, or an expression over literals, `step()` and
/// `range()` (Prometheus's duration expressions), resolved when the query runs.
#[derive(Debug, Clone, PartialEq)]
pub enum DurExpr {
    /// A duration literal in milliseconds.
    Dur(i64),
    /// A bare number, in seconds.
    Num(f64),
    Step,
    Range,
    Neg(Box<DurExpr>),
    Pos(Box<DurExpr>),
    Paren(Box<DurExpr>),
    Bin(BinOp, Box<DurExpr>, Box<DurExpr>),
    MinOf(Box<DurExpr>, Box<DurExpr>),
    MaxOf(Box<DurExpr>, Box<DurExpr>),
}

impl DurExpr {
    /// Whether the value depends on the query's step or range.
    pub fn uses_query_params(&self) -> bool {
        match self {
            DurExpr::Step | DurExpr::Range => true,
            DurExpr::Dur(_) | DurExpr::Num(_) => false,
            DurExpr::Neg(e) | DurExpr::Pos(e) | DurExpr::Paren(e) => e.uses_query_params(),
            DurExpr::Bin(_, a, b) | DurExpr::MinOf(a, b) | DurExpr::MaxOf(a, b) => {
                a.uses_query_params() || b.uses_query_params()
            }
        }
    }
}

impl fmt::Display for DurExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurExpr::Dur(ms) => f.write_str(&format_duration(*ms)),
            DurExpr::Num(n) => write!(f, "{}", fmt_float(*n)),
            DurExpr::Step => f.write_str("step()"),
            DurExpr::Range => f.write_str("range()"),
            DurExpr::Neg(e) => write!(f, "-{e}"),
            DurExpr::Pos(e) => write!(f, "{e}"),
            DurExpr::Paren(e) => write!(f, "({e})"),
            DurExpr::Bin(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            DurExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
        }
    }
}

/// The `@` modifier: a fixed time in milliseconds, or the query's start or end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    Time(i64),
    Start,
    End,
}

/// How a selector treats the edges of its window (Prometheus 3.x's experimental
/// `anchored` and `smoothed` modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeMode {
    /// Only samples inside the window count.
    #[default]
    Plain,
    /// The last sample before the window's start also counts, as the value at the start.
    Anchored,
    /// Values at the window's edges are interpolated from the samples around them.
    Smoothed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    pub name: Option<String>,
    pub matchers: Vec<Matcher>,
    pub offset: Option<DurExpr>,
    pub at: Option<At>,
    pub edge: EdgeMode,
}

fn edge_suffix(e: EdgeMode) -> &'static str {
    match e {
        EdgeMode::Plain => "",
        EdgeMode::Anchored => " anchored",
        EdgeMode::Smoothed => " smoothed",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

/// How the two sides of a binary operation between vectors are matched.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    pub card: Cardinality,
    /// `on(...)` when true, `ignoring(...)` when false.
    pub on: bool,
    pub labels: Vec<String>,
    /// Extra labels taken from the "one" side with `group_left`/`group_right`.
    pub include: Vec<String>,
    /// `fill_left(v)`/`fill_right(v)` (or `fill(v)` for both): the value a side takes when
    /// a sample of the other side has no match.
    pub fill_left: Option<f64>,
    pub fill_right: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    String(String),
    Vector(VectorSelector),
    Matrix {
        sel: VectorSelector,
        range: DurExpr,
    },
    Subquery {
        expr: Box<Expr>,
        range: DurExpr,
        step: Option<DurExpr>,
        offset: Option<DurExpr>,
        at: Option<At>,
    },
    Call {
        func: &'static FuncDef,
        args: Vec<Expr>,
    },
    Aggregate {
        op: AggOp,
        expr: Box<Expr>,
        param: Option<Box<Expr>>,
        grouping: Vec<String>,
        without: bool,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        return_bool: bool,
        /// Present when both sides are instant vectors.
        matching: Option<VectorMatching>,
    },
    Unary {
        neg: bool,
        expr: Box<Expr>,
    },
    Paren(Box<Expr>),
}

impl Expr {
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::Vector(_) => ValueType::Vector,
            Expr::Matrix { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Call { func, .. } => func.ret,
            Expr::Aggregate { .. } => ValueType::Vector,
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Unary { expr, .. } | Expr::Paren(expr) => expr.value_type(),
        }
    }

    /// Visits this node and every node below it, parents first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Subquery { expr, .. } | Expr::Unary { expr, .. } | Expr::Paren(expr) => {
                expr.walk(f)
            }
            Expr::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            Expr::Aggregate { expr, param, .. } => {
                if let Some(p) = param {
                    p.walk(f);
                }
                expr.walk(f);
            }
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            _ => {}
        }
    }
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` would for common values.
pub fn fmt_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{v}")
    }
}

/// Quotes a string the way Go's `strconv.Quote` does, so printed queries read as in
/// Prometheus.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_legacy_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_label_list(f: &mut fmt::Formatter<'_>, ls: &[String]) -> fmt::Result {
    for (i, l) in ls.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if is_legacy_name(l) {
            f.write_str(l)?;
        } else {
            f.write_str(&go_quote(l))?;
        }
    }
    Ok(())
}

fn write_at_offset(
    f: &mut fmt::Formatter<'_>,
    at: &Option<At>,
    offset: &Option<DurExpr>,
) -> fmt::Result {
    match at {
        Some(At::Time(ms)) => write!(f, " @ {:.3}", *ms as f64 / 1000.0)?,
        Some(At::Start) => f.write_str(" @ start()")?,
        Some(At::End) => f.write_str(" @ end()")?,
        None => {}
    }
    match offset {
        Some(DurExpr::Dur(0)) | None => Ok(()),
        Some(o) => write!(f, " offset {o}"),
    }
}

impl VectorSelector {
    fn write_base(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_legacy = self.name.as_deref().map(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        });
        let others: Vec<&Matcher> = self
            .matchers
            .iter()
            .filter(|m| !(m.name == METRIC_NAME && m.op == MatchOp::Equal && self.name.is_some()))
            .collect();
        match (&self.name, name_legacy) {
            (Some(n), Some(true)) => f.write_str(n)?,
            (Some(n), _) => {
                write!(f, "{{{}", go_quote(n))?;
                for m in &others {
                    write!(f, ", {}", fmt_matcher(m))?;
                }
                return f.write_str("}");
            }
            _ => {}
        }
        if others.is_empty() && self.name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in others.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&fmt_matcher(m))?;
        }
        f.write_str("}")
    }
}

fn fmt_matcher(m: &Matcher) -> String {
    let name = if is_legacy_name(&m.name) {
        m.name.clone()
    } else {
        go_quote(&m.name)
    };
    format!("{name}{}{}", m.op, go_quote(&m.value))
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(v) => f.write_str(&fmt_float(*v)),
            Expr::String(s) => f.write_str(&go_quote(s)),
            Expr::Vector(sel) => {
                sel.write_base(f)?;
                write_at_offset(f, &sel.at, &sel.offset)?;
                f.write_str(edge_suffix(sel.edge))
            }
            Expr::Matrix { sel, range } => {
                sel.write_base(f)?;
                write!(f, "[{range}]{}", edge_suffix(sel.edge))?;
                write_at_offset(f, &sel.at, &sel.offset)
            }
            Expr::Subquery {
                expr,
                range,
                step,
                offset,
                at,
            } => {
                write!(f, "{expr}[{range}:")?;
                if let Some(s) = step {
                    write!(f, "{s}")?;
                }
                f.write_str("]")?;
                write_at_offset(f, at, offset)
            }
            Expr::Call { func, args } => {
                write!(f, "{}(", func.name)?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                without,
            } => {
                f.write_str(op.as_str())?;
                if *without {
                    f.write_str(" without (")?;
                    write_label_list(f, grouping)?;
                    f.write_str(") ")?;
                } else if !grouping.is_empty() {
                    f.write_str(" by (")?;
                    write_label_list(f, grouping)?;
                    f.write_str(") ")?;
                }
                f.write_str("(")?;
                if let Some(p) = param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{expr})")
            }
            Expr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
            } => {
                write!(f, "{lhs} {}", op.as_str())?;
                if *return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(m) = matching {
                    let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
                    if !m.labels.is_empty() || m.on || grouped {
                        f.write_str(if m.on { " on (" } else { " ignoring (" })?;
                        write_label_list(f, &m.labels)?;
                        f.write_str(")")?;
                    }
                    if grouped {
                        f.write_str(if m.card == Cardinality::ManyToOne {
                            " group_left ("
                        } else {
                            " group_right ("
                        })?;
                        write_label_list(f, &m.include)?;
                        f.write_str(")")?;
                    }
                    match (m.fill_left, m.fill_right) {
                        (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                            write!(f, " fill ({})", fmt_float(l))?
                        }
                        (l, r) => {
                            if let Some(l) = l {
                                write!(f, " fill_left ({})", fmt_float(l))?;
                            }
                            if let Some(r) = r {
                                write!(f, " fill_right ({})", fmt_float(r))?;
                            }
                        }
                    }
                }
                write!(f, " {rhs}")
            }
            Expr::Unary { neg, expr } => write!(f, "{}{expr}", if *neg { "-" } else { "+" }),
            Expr::Paren(e) => write!(f, "({e})"),
        }
    }
}
