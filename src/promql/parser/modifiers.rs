//! The parts of the grammar after a primary expression: ranges `[5m]`, subqueries
//! `[1h:5m]`, `offset` and `@`, and the duration expressions they take (`[5m+1m]`,
//! `offset (2*2m)`, `[step()]`).

use super::ast::*;
use super::lexer::Tok;
use super::parse::Parser;
use super::ParseError;

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    /// Ranges, subqueries, `offset` and `@` after a primary expression.
    pub(super) fn parse_postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            let pos = self.pos();
            match self.peek() {
                Tok::LBracket => {
                    self.next();
                    let range = self.parse_dur_expr(0)?;
                    if self.peek() == &Tok::Colon {
                        self.next();
                        let step = if self.peek() == &Tok::RBracket {
                            None
                        } else {
                            Some(self.parse_dur_expr(0)?)
                        };
                        self.expect(Tok::RBracket, "in subquery, expected \"]\"")?;
                        if e.value_type() != ValueType::Vector {
                            return Err(self.err_at(
                                pos,
                                format!(
                                    "subquery is only allowed on instant vector, got {} instead",
                                    e.value_type()
                                ),
                            ));
                        }
                        e = Expr::Subquery {
                            expr: Box::new(e),
                            range,
                            step,
                            offset: None,
                            at: None,
                        };
                    } else {
                        self.expect(Tok::RBracket, "in range, expected \"]\"")?;
                        e = match e {
                            Expr::Vector(sel) if sel.offset.is_none() && sel.at.is_none() => {
                                Expr::Matrix { sel, range }
                            }
                            Expr::Vector(_) => {
                                return Err(self.err_at(
                                    pos,
                                    "no offset or @ modifiers allowed before range".into(),
                                ))
                            }
                            _ => {
                                return Err(self.err_at(
                                    pos,
                                    "ranges only allowed for vector selectors".into(),
                                ))
                            }
                        };
                    }
                }
                Tok::Ident(s)
                    if s.eq_ignore_ascii_case("anchored") || s.eq_ignore_ascii_case("smoothed") =>
                {
                    let anchored = s.eq_ignore_ascii_case("anchored");
                    self.next();
                    let sel = match &mut e {
                        Expr::Matrix { sel, .. } => sel,
                        Expr::Vector(sel) if !anchored => sel,
                        _ => {
                            return Err(self.err_at(
                                pos,
                                format!(
                                    "{} modifier must be preceded by a {}selector",
                                    if anchored { "anchored" } else { "smoothed" },
                                    if anchored { "range vector " } else { "" }
                                ),
                            ))
                        }
                    };
                    if sel.edge != EdgeMode::Plain {
                        return Err(
                            self.err_at(pos, "anchored or smoothed may only be set once".into())
                        );
                    }
                    sel.edge = if anchored {
                        EdgeMode::Anchored
                    } else {
                        EdgeMode::Smoothed
                    };
                }
                Tok::Ident(s) if s.eq_ignore_ascii_case("offset") => {
                    self.next();
                    let d = self.parse_offset_dur()?;
                    let slot = match &mut e {
                        Expr::Vector(sel) | Expr::Matrix { sel, .. } => &mut sel.offset,
                        Expr::Subquery { offset, .. } => offset,
                        _ => return Err(self.err_at(pos, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery".into())),
                    };
                    if slot.is_some() {
                        return Err(self.err_at(pos, "offset may not be set multiple times".into()));
                    }
                    *slot = Some(d);
                }
                Tok::At => {
                    self.next();
                    let at = self.parse_at()?;
                    let slot = match &mut e {
                        Expr::Vector(sel) | Expr::Matrix { sel, .. } => &mut sel.at,
                        Expr::Subquery { at, .. } => at,
                        _ => return Err(self.err_at(pos, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery".into())),
                    };
                    if slot.is_some() {
                        return Err(
                            self.err_at(pos, "@ <timestamp> may not be set multiple times".into())
                        );
                    }
                    *slot = Some(at);
                }
                _ => return Ok(e),
            }
        }
    }

    fn parse_at(&mut self) -> PResult<At> {
        let pos = self.pos();
        let neg = if matches!(self.peek(), Tok::Sub | Tok::Add) {
            self.next() == Tok::Sub
        } else {
            false
        };
        let secs = match self.next() {
            Tok::Number(v) => v,
            Tok::Duration(ms) => ms as f64 / 1000.0,
            Tok::Ident(s) if !neg && (s == "start" || s == "end") => {
                self.expect(Tok::LParen, "in @, expected \"(\"")?;
                self.expect(Tok::RParen, "in @, expected \")\"")?;
                return Ok(if s == "start" { At::Start } else { At::End });
            }
            _ => {
                self.i -= 1;
                return Err(self.unexpected("in @, expected timestamp"));
            }
        };
        let secs = if neg { -secs } else { secs };
        let ms = (secs * 1000.0).round();
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 2.0 {
            return Err(self.err_at(pos, "timestamp out of bounds for @ modifier".into()));
        }
        Ok(At::Time(ms as i64))
    }

    /// The operand of `offset`: a signed literal, a parenthesized duration expression, or a
    /// duration function; binary operators after it belong to the outer expression.
    fn parse_offset_dur(&mut self) -> PResult<DurExpr> {
        match self.peek() {
            Tok::Sub => {
                self.next();
                Ok(DurExpr::Neg(Box::new(self.parse_offset_dur()?)))
            }
            Tok::Add => {
                self.next();
                Ok(DurExpr::Pos(Box::new(self.parse_offset_dur()?)))
            }
            _ => self.parse_dur_primary(),
        }
    }

    /// A duration expression (inside `[...]` or parentheses), by precedence climbing.
    fn parse_dur_expr(&mut self, min_prec: u8) -> PResult<DurExpr> {
        let mut lhs = match self.peek() {
            Tok::Sub => {
                self.next();
                DurExpr::Neg(Box::new(self.parse_dur_expr(BinOp::Pow.precedence())?))
            }
            Tok::Add => {
                self.next();
                DurExpr::Pos(Box::new(self.parse_dur_expr(BinOp::Pow.precedence())?))
            }
            _ => self.parse_dur_primary()?,
        };
        loop {
            let op = match self.peek() {
                Tok::Add => BinOp::Add,
                Tok::Sub => BinOp::Sub,
                Tok::Mul => BinOp::Mul,
                Tok::Div => BinOp::Div,
                Tok::Mod => BinOp::Mod,
                Tok::Pow => BinOp::Pow,
                _ => return Ok(lhs),
            };
            let prec = op.precedence();
            if prec < min_prec {
                return Ok(lhs);
            }
            self.next();
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.parse_dur_expr(next_min)?;
            lhs = DurExpr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn parse_dur_primary(&mut self) -> PResult<DurExpr> {
        match self.next() {
            Tok::Number(v) => Ok(DurExpr::Num(v)),
            Tok::Duration(ms) => Ok(DurExpr::Dur(ms)),
            Tok::LParen => {
                let e = self.parse_dur_expr(0)?;
                self.expect(Tok::RParen, "in duration expression, expected \")\"")?;
                Ok(DurExpr::Paren(Box::new(e)))
            }
            Tok::Ident(s) if self.peek() == &Tok::LParen => {
                let lower = s.to_ascii_lowercase();
                self.next();
                let e = match lower.as_str() {
                    "step" => DurExpr::Step,
                    "range" => DurExpr::Range,
                    "min_of" | "max_of" => {
                        let a = self.parse_dur_expr(0)?;
                        self.expect(Tok::Comma, "in duration function, expected \",\"")?;
                        let b = self.parse_dur_expr(0)?;
                        if lower == "min_of" {
                            DurExpr::MinOf(Box::new(a), Box::new(b))
                        } else {
                            DurExpr::MaxOf(Box::new(a), Box::new(b))
                        }
                    }
                    _ => {
                        self.i -= 2;
                        return Err(self.unexpected("in duration expression"));
                    }
                };
                self.expect(Tok::RParen, "in duration function, expected \")\"")?;
                Ok(e)
            }
            _ => {
                self.i -= 1;
                Err(self.unexpected("in duration expression, expected a duration"))
            }
        }
    }
}
