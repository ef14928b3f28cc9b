//! Scalar expressions: operator precedence from `or` down to literals and calls.

use super::super::ast::*;
use super::super::error::KqlError;
use super::super::lexer::Tok;
use super::{syntax, Parser, STRING_OPS};

impl Parser<'_> {
    pub fn expr(&mut self) -> Result<Expr, KqlError> {
        self.enter()?;
        let r = self.or_chain();
        self.leave(1);
        r
    }

    /// `a or b or ...`; each chained level counts toward the nesting limit.
    fn or_chain(&mut self) -> Result<Expr, KqlError> {
        let base = self.depth;
        let mut left = self.and()?;
        while self.is_word("or") {
            self.enter()?;
            self.bump();
            let right = self.and()?;
            let pos = left.pos;
            left = Expr {
                kind: ExprKind::Binary(BinOp::Or, Box::new(left), Box::new(right)),
                pos,
            };
        }
        self.depth = base;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, KqlError> {
        let base = self.depth;
        let mut left = self.comparison()?;
        while self.is_word("and") {
            self.enter()?;
            self.bump();
            let right = self.comparison()?;
            let pos = left.pos;
            left = Expr {
                kind: ExprKind::Binary(BinOp::And, Box::new(left), Box::new(right)),
                pos,
            };
        }
        self.depth = base;
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, KqlError> {
        let left = self.additive()?;
        let pos = left.pos;
        let op = match self.peek() {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            Tok::EqTilde => Some(BinOp::EqTilde),
            Tok::NeTilde => Some(BinOp::NeTilde),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.additive()?;
            return Ok(Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                pos,
            });
        }
        let word = match self.peek() {
            Tok::Ident(w) => w.clone(),
            _ => return Ok(left),
        };
        if STRING_OPS.contains(&word.as_str()) {
            self.bump();
            let right = self.additive()?;
            return Ok(Expr {
                kind: ExprKind::StrOp(word, Box::new(left), Box::new(right)),
                pos,
            });
        }
        if word == "matches" && matches!(self.peek_at(1), Tok::Ident(w) if w == "regex") {
            self.bump();
            self.bump();
            let right = self.additive()?;
            return Ok(Expr {
                kind: ExprKind::StrOp("matches regex".into(), Box::new(left), Box::new(right)),
                pos,
            });
        }
        if matches!(
            word.as_str(),
            "in" | "!in" | "in~" | "!in~" | "has_any" | "has_all"
        ) {
            self.bump();
            self.expect(Tok::LParen, "'('")?;
            let mut list = vec![self.expr()?];
            while *self.peek() == Tok::Comma {
                self.bump();
                list.push(self.expr()?);
            }
            self.expect(Tok::RParen, "')'")?;
            return Ok(Expr {
                kind: ExprKind::In(word, Box::new(left), list),
                pos,
            });
        }
        if word == "between" || word == "!between" {
            self.bump();
            self.expect(Tok::LParen, "'('")?;
            let lo = self.additive()?;
            self.expect(Tok::DotDot, "'..'")?;
            let hi = self.additive()?;
            self.expect(Tok::RParen, "')'")?;
            return Ok(Expr {
                kind: ExprKind::Between(
                    word == "!between",
                    Box::new(left),
                    Box::new(lo),
                    Box::new(hi),
                ),
                pos,
            });
        }
        Ok(left)
    }

    pub(super) fn additive(&mut self) -> Result<Expr, KqlError> {
        let base = self.depth;
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => {
                    self.depth = base;
                    return Ok(left);
                }
            };
            self.enter()?;
            self.bump();
            let right = self.multiplicative()?;
            let pos = left.pos;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                pos,
            };
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, KqlError> {
        let base = self.depth;
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => {
                    self.depth = base;
                    return Ok(left);
                }
            };
            self.enter()?;
            self.bump();
            let right = self.unary()?;
            let pos = left.pos;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                pos,
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, KqlError> {
        match self.peek() {
            Tok::Minus => {
                self.enter()?;
                let pos = self.bump().pos;
                let inner = self.unary()?;
                self.leave(1);
                // Fold negative numeric literals so that i64::MIN-like values stay literals.
                let kind = match inner.kind {
                    ExprKind::Lit(Lit::Long(v)) => ExprKind::Lit(Lit::Long(-v)),
                    ExprKind::Lit(Lit::Real(v)) => ExprKind::Lit(Lit::Real(-v)),
                    ExprKind::Lit(Lit::TimeSpan(Some(v))) => ExprKind::Lit(Lit::TimeSpan(Some(-v))),
                    other => ExprKind::Neg(Box::new(Expr {
                        kind: other,
                        pos: inner.pos,
                    })),
                };
                Ok(Expr { kind, pos })
            }
            Tok::Plus => {
                self.enter()?;
                self.bump();
                let inner = self.unary();
                self.leave(1);
                inner
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, KqlError> {
        let base = self.depth;
        let mut e = self.primary()?;
        loop {
            if matches!(self.peek(), Tok::Dot | Tok::LBracket) {
                self.enter()?;
            }
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    let (name, _) = self.ident("a property name")?;
                    let pos = e.pos;
                    e = Expr {
                        kind: ExprKind::Member(Box::new(e), name),
                        pos,
                    };
                }
                Tok::LBracket => {
                    let bpos = self.bump().pos;
                    let pos = e.pos;
                    let kind = match self.peek().clone() {
                        Tok::Str(s) => {
                            self.bump();
                            ExprKind::Member(Box::new(e), s)
                        }
                        Tok::Long(n) => {
                            self.bump();
                            ExprKind::Index(Box::new(e), n)
                        }
                        Tok::Minus if matches!(self.peek_at(1), Tok::Long(_)) => {
                            self.bump();
                            let Tok::Long(n) = self.bump().tok else {
                                return Err(syntax("expected an index", bpos));
                            };
                            ExprKind::Index(Box::new(e), -n)
                        }
                        _ => {
                            return Err(syntax(
                                "only constant string or integer indexes are supported",
                                self.pos(),
                            ))
                        }
                    };
                    self.expect(Tok::RBracket, "']'")?;
                    e = Expr { kind, pos };
                }
                _ => {
                    self.depth = base;
                    return Ok(e);
                }
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, KqlError> {
        let t = self.cur().clone();
        let lit = |l: Lit| {
            Ok(Expr {
                kind: ExprKind::Lit(l),
                pos: t.pos,
            })
        };
        match t.tok {
            Tok::Long(v) => {
                self.bump();
                lit(Lit::Long(v))
            }
            Tok::Real(v) => {
                self.bump();
                lit(Lit::Real(v))
            }
            Tok::Str(s) => {
                self.bump();
                // Adjacent string literals concatenate in KQL.
                let mut s = s;
                while let Tok::Str(more) = self.peek().clone() {
                    self.bump();
                    s.push_str(&more);
                }
                lit(Lit::Str(s))
            }
            Tok::TimeSpan(v) => {
                self.bump();
                lit(Lit::TimeSpan(Some(v)))
            }
            Tok::DateTime(v) => {
                self.bump();
                lit(Lit::DateTime(v))
            }
            Tok::TimeLit(v) => {
                self.bump();
                lit(Lit::TimeSpan(v))
            }
            Tok::Guid(v) => {
                self.bump();
                lit(Lit::Guid(v))
            }
            Tok::Dynamic(v) => {
                self.bump();
                lit(Lit::Dynamic(v))
            }
            Tok::Star => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Star,
                    pos: t.pos,
                })
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::LBracket => {
                let (name, pos) = self.column_name()?;
                Ok(Expr {
                    kind: ExprKind::Name(name),
                    pos,
                })
            }
            Tok::Ident(ref w) if w == "true" || w == "false" => {
                self.bump();
                lit(Lit::Bool(w == "true"))
            }
            Tok::Ident(ref w) if !w.starts_with('!') && w != "in~" => {
                let name = w.clone();
                self.bump();
                if *self.peek() != Tok::LParen {
                    return Ok(Expr {
                        kind: ExprKind::Name(name),
                        pos: t.pos,
                    });
                }
                if matches!(
                    name.as_str(),
                    "int" | "long" | "real" | "double" | "bool" | "decimal" | "dynamic"
                ) {
                    return self.typed_literal(&name, t.pos);
                }
                self.bump();
                let mut args = Vec::new();
                if *self.peek() != Tok::RParen {
                    args.push(self.expr()?);
                    while *self.peek() == Tok::Comma {
                        self.bump();
                        args.push(self.expr()?);
                    }
                }
                self.expect(Tok::RParen, "')'")?;
                Ok(Expr {
                    kind: ExprKind::Call(name, args),
                    pos: t.pos,
                })
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// `int(5)`, `long(null)`, `real(1.5)`, `bool(true)`; the current token is the '('.
    fn typed_literal(&mut self, ty: &str, pos: usize) -> Result<Expr, KqlError> {
        if ty == "decimal" || ty == "dynamic" {
            return Err(syntax(format!("{ty}(...) literals are not supported"), pos));
        }
        self.bump();
        let neg = if *self.peek() == Tok::Minus {
            self.bump();
            true
        } else {
            false
        };
        let body = self.bump();
        let lit = match (ty, body.tok, neg) {
            (_, Tok::Ident(w), false) if w == "null" => match ty {
                "int" => Lit::Int(None),
                "long" => Lit::NullLong,
                "bool" => Lit::NullBool,
                _ => Lit::NullReal,
            },
            ("int", Tok::Long(v), _) => {
                let v = if neg { -v } else { v };
                if i32::try_from(v).is_err() {
                    return Err(syntax("int literal out of range", pos));
                }
                Lit::Int(Some(v))
            }
            ("long", Tok::Long(v), _) => Lit::Long(if neg { -v } else { v }),
            ("real" | "double", Tok::Long(v), _) => {
                Lit::Real(if neg { -(v as f64) } else { v as f64 })
            }
            ("real" | "double", Tok::Real(v), _) => Lit::Real(if neg { -v } else { v }),
            ("bool", Tok::Ident(w), false) if w == "true" || w == "false" => Lit::Bool(w == "true"),
            _ => return Err(syntax(format!("invalid {ty}(...) literal"), pos)),
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(Expr {
            kind: ExprKind::Lit(lit),
            pos,
        })
    }
}
