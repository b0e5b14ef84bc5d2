//! Precedence-climbing parser over the token list, with Prometheus's type checks applied as
//! each node is built (so the error points at the node that is wrong).

use super::ast::*;
use super::functions::{lookup, FuncDef};
use super::lexer::{tokenize, Tok, Token};
use super::ParseError;
use crate::model::{MatchOp, Matcher, METRIC_NAME};

pub struct Parser<'a> {
    input: &'a str,
    pub(super) toks: Vec<Token>,
    pub(super) i: usize,
    /// Set while parsing the label selector of `info()`, which may match everything.
    any_selector: bool,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub fn new(input: &'a str) -> PResult<Self> {
        Ok(Parser {
            input,
            toks: tokenize(input)?,
            i: 0,
            any_selector: false,
        })
    }

    pub fn parse_top(mut self) -> PResult<Expr> {
        if self.peek() == &Tok::Eof {
            return Err(self.err_at(0, "no expression found in input".into()));
        }
        let e = self.parse_expr(0)?;
        if self.peek() != &Tok::Eof {
            return Err(self.unexpected(""));
        }
        Ok(e)
    }

    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].tok
    }

    pub(super) fn pos(&self) -> usize {
        self.toks[self.i.min(self.toks.len() - 1)].pos
    }

    pub(super) fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }

    pub(super) fn err_at(&self, pos: usize, msg: String) -> ParseError {
        ParseError::at(self.input, pos, msg)
    }

    pub(super) fn unexpected(&self, ctx: &str) -> ParseError {
        match self.peek() {
            Tok::Eof => {
                if let Some(open) = self.innermost_unclosed() {
                    return self.err_at(self.pos(), open.into());
                }
            }
            Tok::RParen => {
                return self.err_at(self.pos(), "unexpected right parenthesis ')'".into())
            }
            _ => {}
        }
        let what = self.peek().describe();
        let msg = if ctx.is_empty() {
            format!("unexpected {what}")
        } else {
            format!("unexpected {what} {ctx}")
        };
        self.err_at(self.pos(), msg)
    }

    /// What is left open at the current token, as Prometheus reports it at the end of input.
    fn innermost_unclosed(&self) -> Option<&'static str> {
        let mut stack = Vec::new();
        for t in &self.toks[..self.i.min(self.toks.len())] {
            match t.tok {
                Tok::LParen | Tok::LBrace | Tok::LBracket => stack.push(t.tok.clone()),
                Tok::RParen | Tok::RBrace | Tok::RBracket => {
                    stack.pop();
                }
                _ => {}
            }
        }
        stack.last().map(|t| match t {
            Tok::LParen => "unclosed left parenthesis",
            Tok::LBracket => "unclosed left bracket",
            _ => "unexpected end of input inside braces",
        })
    }

    pub(super) fn expect(&mut self, t: Tok, ctx: &str) -> PResult<()> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(ctx))
        }
    }

    pub(super) fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn peek_binop(&self) -> Option<BinOp> {
        Some(match self.peek() {
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::Eql => BinOp::Eql,
            Tok::Neq => BinOp::Neq,
            Tok::Gtr => BinOp::Gtr,
            Tok::Lss => BinOp::Lss,
            Tok::Gte => BinOp::Gte,
            Tok::Lte => BinOp::Lte,
            Tok::TrimUpper => BinOp::TrimUpper,
            Tok::TrimLower => BinOp::TrimLower,
            Tok::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "unless" => BinOp::Unless,
                "atan2" => BinOp::Atan2,
                _ => return None,
            },
            _ => return None,
        })
    }

    pub(super) fn parse_expr(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_pos = self.pos();
            self.next();
            let return_bool = if self.peek_keyword("bool") {
                self.next();
                true
            } else {
                false
            };
            let matching = self.parse_matching(op)?;
            let matching = self.parse_fill(op, matching)?;
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.parse_expr(next_min)?;
            lhs = self.build_binary(op, op_pos, lhs, rhs, return_bool, matching)?;
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let neg = match self.peek() {
            Tok::Sub => true,
            Tok::Add => false,
            _ => {
                let e = self.parse_primary()?;
                return self.parse_postfix(e);
            }
        };
        let pos = self.pos();
        self.next();
        let e = self.parse_expr(BinOp::Pow.precedence())?;
        match e.value_type() {
            ValueType::Scalar | ValueType::Vector => {}
            _ => {
                return Err(self.err_at(
                    pos,
                    "unary expression only allowed on expressions of type scalar or instant vector"
                        .into(),
                ))
            }
        }
        Ok(match e {
            Expr::Number(v) if neg => Expr::Number(-v),
            Expr::Number(v) => Expr::Number(v),
            e => Expr::Unary {
                neg,
                expr: Box::new(e),
            },
        })
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        match self.next() {
            Tok::Number(v) => Ok(Expr::Number(v)),
            Tok::Duration(ms) => Ok(Expr::Number(ms as f64 / 1000.0)),
            Tok::Str(s) => Ok(Expr::String(s)),
            Tok::LParen => {
                let e = self.parse_expr(0)?;
                self.expect(Tok::RParen, "in paren expression, expected \")\"")?;
                Ok(Expr::Paren(Box::new(e)))
            }
            Tok::LBrace => {
                let sel = self.parse_selector_body(None, pos)?;
                Ok(Expr::Vector(sel))
            }
            Tok::Ident(name) => self.parse_ident(name, pos),
            _ => {
                self.i -= 1;
                Err(self.unexpected(""))
            }
        }
    }

    fn parse_ident(&mut self, name: String, pos: usize) -> PResult<Expr> {
        if let Some(op) = AggOp::from_name(&name) {
            if self.peek() == &Tok::LParen
                || self.peek_keyword("by")
                || self.peek_keyword("without")
            {
                return self.parse_aggregation(op, pos);
            }
        }
        if self.peek() == &Tok::LParen {
            let Some(func) = lookup(&name) else {
                return Err(self.err_at(pos, format!("unknown function with name {name:?}")));
            };
            self.next();
            let mut args = Vec::new();
            let mut arg_pos = Vec::new();
            while self.peek() != &Tok::RParen {
                arg_pos.push(self.pos());
                self.any_selector = func.name == "info" && args.len() == 1;
                let arg = self.parse_expr(0);
                self.any_selector = false;
                args.push(arg?);
                match self.peek() {
                    Tok::Comma => {
                        self.next();
                    }
                    Tok::RParen => {}
                    _ => return Err(self.unexpected("in call, expected \",\" or \")\"")),
                }
            }
            self.next();
            self.check_call(func, &args, pos, &arg_pos)?;
            return Ok(Expr::Call { func, args });
        }
        if self.peek() == &Tok::LBrace {
            self.next();
            let sel = self.parse_selector_body(Some(name), pos)?;
            return Ok(Expr::Vector(sel));
        }
        let sel = self.finish_selector(Some(name), Vec::new(), pos)?;
        Ok(Expr::Vector(sel))
    }

    fn check_call(
        &self,
        func: &'static FuncDef,
        args: &[Expr],
        pos: usize,
        arg_pos: &[usize],
    ) -> PResult<()> {
        let nargs = func.args.len();
        let got = args.len();
        if func.variadic == 0 {
            if nargs != got {
                return Err(self.err_at(
                    pos,
                    format!(
                        "expected {nargs} argument(s) in call to {:?}, got {got}",
                        func.name
                    ),
                ));
            }
        } else {
            let min = nargs - 1;
            if min > got {
                return Err(self.err_at(
                    pos,
                    format!(
                        "expected at least {min} argument(s) in call to {:?}, got {got}",
                        func.name
                    ),
                ));
            }
            let max = min as i64 + func.variadic as i64;
            if func.variadic > 0 && (got as i64) > max {
                return Err(self.err_at(
                    pos,
                    format!(
                        "expected at most {max} argument(s) in call to {:?}, got {got}",
                        func.name
                    ),
                ));
            }
        }
        for (i, a) in args.iter().enumerate() {
            let want = func.args[i.min(nargs.saturating_sub(1))];
            if a.value_type() != want {
                return Err(self.err_at(
                    arg_pos.get(i).copied().unwrap_or(pos),
                    format!(
                        "expected type {want} in call to function {:?}, got {}",
                        func.name,
                        a.value_type()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn parse_aggregation(&mut self, op: AggOp, pos: usize) -> PResult<Expr> {
        let mut grouping = None;
        if self.peek_keyword("by") || self.peek_keyword("without") {
            let without = self.peek_keyword("without");
            self.next();
            grouping = Some((without, self.parse_label_list()?));
        }
        self.expect(Tok::LParen, "in aggregation, expected \"(\"")?;
        let mut args = vec![self.parse_expr(0)?];
        while self.peek() == &Tok::Comma {
            self.next();
            if self.peek() == &Tok::RParen {
                break;
            }
            args.push(self.parse_expr(0)?);
        }
        self.expect(Tok::RParen, "in aggregation, expected \")\" or \",\"")?;
        if grouping.is_none() && (self.peek_keyword("by") || self.peek_keyword("without")) {
            let without = self.peek_keyword("without");
            self.next();
            grouping = Some((without, self.parse_label_list()?));
        }
        let (without, grouping) = grouping.unwrap_or((false, Vec::new()));
        let want = if op.param_type().is_some() { 2 } else { 1 };
        if args.len() != want {
            return Err(self.err_at(
                pos,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            ));
        }
        let expr = args.pop().unwrap_or(Expr::Number(0.0));
        let param = args.pop();
        if let (Some(p), Some(want)) = (&param, op.param_type()) {
            if p.value_type() != want {
                return Err(self.err_at(
                    pos,
                    format!(
                        "expected type {want} in aggregation parameter, got {}",
                        p.value_type()
                    ),
                ));
            }
        }
        if expr.value_type() != ValueType::Vector {
            return Err(self.err_at(
                pos,
                format!(
                    "expected type instant vector in aggregation expression, got {}",
                    expr.value_type()
                ),
            ));
        }
        Ok(Expr::Aggregate {
            op,
            expr: Box::new(expr),
            param: param.map(Box::new),
            grouping,
            without,
        })
    }

    /// Parses matchers after `{` up to and including `}`.
    fn parse_selector_body(&mut self, name: Option<String>, pos: usize) -> PResult<VectorSelector> {
        let mut matchers = Vec::new();
        let mut name = name;
        loop {
            let lpos = self.pos();
            let label = match self.next() {
                Tok::RBrace => break,
                Tok::Ident(s) => s,
                Tok::Str(s) => {
                    if matches!(self.peek(), Tok::Comma | Tok::RBrace) {
                        if let Some(prev) = &name {
                            return Err(self.err_at(
                                lpos,
                                format!("metric name must not be set twice: {prev:?} or {s:?}"),
                            ));
                        }
                        name = Some(s);
                        if self.peek() == &Tok::Comma {
                            self.next();
                        }
                        continue;
                    }
                    s
                }
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in label matching, expected label"));
                }
            };
            let op = match self.next() {
                Tok::Assign => MatchOp::Equal,
                Tok::Neq => MatchOp::NotEqual,
                Tok::EqlRegex => MatchOp::RegexMatch,
                Tok::NeqRegex => MatchOp::NotRegexMatch,
                _ => {
                    self.i -= 1;
                    return Err(
                        self.unexpected("in label matching, expected label matching operator")
                    );
                }
            };
            let vpos = self.pos();
            let value = match self.next() {
                Tok::Str(s) => s,
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in label matching, expected string"));
                }
            };
            let m = Matcher::new(op, label, value).map_err(|e| self.err_at(vpos, e.to_string()))?;
            matchers.push(m);
            match self.next() {
                Tok::Comma => {}
                Tok::RBrace => break,
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in label matching, expected \",\" or \"}\""));
                }
            }
        }
        self.finish_selector(name, matchers, pos)
    }

    fn finish_selector(
        &self,
        name: Option<String>,
        mut matchers: Vec<Matcher>,
        pos: usize,
    ) -> PResult<VectorSelector> {
        if let Some(n) = &name {
            if let Some(m) = matchers.iter().find(|m| m.name == METRIC_NAME) {
                return Err(self.err_at(
                    pos,
                    format!("metric name must not be set twice: {n:?} or {:?}", m.value),
                ));
            }
            matchers.push(Matcher::equal(METRIC_NAME, n.clone()));
        }
        if !self.any_selector && matchers.iter().all(|m| m.matches_empty()) {
            return Err(self.err_at(
                pos,
                "vector selector must contain at least one non-empty matcher".into(),
            ));
        }
        Ok(VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            edge: EdgeMode::Plain,
        })
    }
}
