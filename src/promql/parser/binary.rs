//! The binary-operator parts of the grammar: vector matching (`on`, `ignoring`,
//! `group_left`, `group_right`), `fill` modifiers, and the type checks of a binary
//! expression.

use super::ast::*;
use super::lexer::Tok;
use super::parse::Parser;
use super::ParseError;

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    /// Parses `on(...)`/`ignoring(...)` and `group_left(...)`/`group_right(...)`.
    pub(super) fn parse_matching(&mut self, op: BinOp) -> PResult<Option<VectorMatching>> {
        let on = if self.peek_keyword("on") {
            true
        } else if self.peek_keyword("ignoring") {
            false
        } else {
            return Ok(None);
        };
        self.next();
        let labels = self.parse_label_list()?;
        let mut m = VectorMatching {
            card: if op.is_set() {
                Cardinality::ManyToMany
            } else {
                Cardinality::OneToOne
            },
            on,
            labels,
            include: Vec::new(),
            fill_left: None,
            fill_right: None,
        };
        let group_pos = self.pos();
        let card = if self.peek_keyword("group_left") {
            Some(Cardinality::ManyToOne)
        } else if self.peek_keyword("group_right") {
            Some(Cardinality::OneToMany)
        } else {
            None
        };
        if let Some(card) = card {
            self.next();
            if op.is_set() {
                return Err(self.err_at(
                    group_pos,
                    format!("no grouping allowed for {:?} operation", op.as_str()),
                ));
            }
            m.card = card;
            if self.peek() == &Tok::LParen {
                m.include = self.parse_label_list()?;
            }
            if on {
                if let Some(l) = m.include.iter().find(|l| m.labels.contains(l)) {
                    return Err(self.err_at(
                        group_pos,
                        format!("label {l:?} must not occur in ON and GROUP clause at once"),
                    ));
                }
            }
        }
        Ok(Some(m))
    }

    /// `fill(v)`, `fill_left(v)`, `fill_right(v)` after the matching clause.
    pub(super) fn parse_fill(
        &mut self,
        op: BinOp,
        mut matching: Option<VectorMatching>,
    ) -> PResult<Option<VectorMatching>> {
        loop {
            let which = match self.peek() {
                Tok::Ident(s)
                    if self.toks.get(self.i + 1).map(|t| &t.tok) == Some(&Tok::LParen) =>
                {
                    match s.to_ascii_lowercase().as_str() {
                        "fill" => 0,
                        "fill_left" => 1,
                        "fill_right" => 2,
                        _ => return Ok(matching),
                    }
                }
                _ => return Ok(matching),
            };
            self.next();
            self.next();
            let neg = match self.peek() {
                Tok::Sub => {
                    self.next();
                    true
                }
                Tok::Add => {
                    self.next();
                    false
                }
                _ => false,
            };
            let v = match self.next() {
                Tok::Number(v) => v,
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in fill modifier, expected a number"));
                }
            };
            let v = if neg { -v } else { v };
            self.expect(Tok::RParen, "in fill modifier, expected \")\"")?;
            let m = matching.get_or_insert_with(|| VectorMatching {
                card: if op.is_set() {
                    Cardinality::ManyToMany
                } else {
                    Cardinality::OneToOne
                },
                on: false,
                labels: Vec::new(),
                include: Vec::new(),
                fill_left: None,
                fill_right: None,
            });
            if which != 2 {
                m.fill_left = Some(v);
            }
            if which != 1 {
                m.fill_right = Some(v);
            }
        }
    }

    /// `(a, "b", c)`: label names, possibly quoted, trailing comma allowed.
    pub(super) fn parse_label_list(&mut self) -> PResult<Vec<String>> {
        self.expect(Tok::LParen, "in grouping opts, expected \"(\"")?;
        let mut out = Vec::new();
        loop {
            match self.next() {
                Tok::RParen => return Ok(out),
                Tok::Ident(s) | Tok::Str(s) => out.push(s),
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in grouping opts, expected label"));
                }
            }
            match self.next() {
                Tok::Comma => {}
                Tok::RParen => return Ok(out),
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("in grouping opts, expected \")\" or \",\""));
                }
            }
        }
    }

    pub(super) fn build_binary(
        &self,
        op: BinOp,
        pos: usize,
        lhs: Expr,
        rhs: Expr,
        return_bool: bool,
        matching: Option<VectorMatching>,
    ) -> PResult<Expr> {
        let (lt, rt) = (lhs.value_type(), rhs.value_type());
        let ok = |t| t == ValueType::Scalar || t == ValueType::Vector;
        if !ok(lt) || !ok(rt) {
            return Err(self.err_at(
                pos,
                "binary expression must contain only scalar and instant vector types".into(),
            ));
        }
        if return_bool && !op.is_comparison() {
            return Err(self.err_at(
                pos,
                "bool modifier can only be used on comparison operators".into(),
            ));
        }
        let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        if op.is_comparison() && !return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar
        {
            return Err(self.err_at(
                pos,
                "comparisons between scalars must use BOOL modifier".into(),
            ));
        }
        if op.is_set() && !both_vectors {
            return Err(self.err_at(
                pos,
                format!(
                    "set operator {:?} not allowed in binary scalar expression",
                    op.as_str()
                ),
            ));
        }
        if matching.is_some() && !both_vectors {
            return Err(self.err_at(
                pos,
                "vector matching only allowed between instant vectors".into(),
            ));
        }
        let matching = if both_vectors {
            Some(matching.unwrap_or(VectorMatching {
                card: if op.is_set() {
                    Cardinality::ManyToMany
                } else {
                    Cardinality::OneToOne
                },
                on: false,
                labels: Vec::new(),
                include: Vec::new(),
                fill_left: None,
                fill_right: None,
            }))
        } else {
            None
        };
        Ok(Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool,
            matching,
        })
    }
}
