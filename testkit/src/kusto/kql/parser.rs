//! Recursive-descent parser from tokens to the [`super::ast`] tree.

use super::ast::*;
use super::error::KqlError;
use super::lexer::{Tok, Token};

mod ops;

/// String operators accepted between two scalar expressions.
const STRING_OPS: &[&str] = &[
    "contains",
    "!contains",
    "contains_cs",
    "!contains_cs",
    "has",
    "!has",
    "has_cs",
    "!has_cs",
    "startswith",
    "!startswith",
    "startswith_cs",
    "!startswith_cs",
    "endswith",
    "!endswith",
    "endswith_cs",
    "!endswith_cs",
];

fn syntax(msg: impl std::fmt::Display, pos: usize) -> KqlError {
    KqlError::new(format!("Syntax error: {msg}"), pos)
}

/// Parses a token stream (ending with Eof) into a query.
pub fn parse(tokens: &[Token]) -> Result<Query, KqlError> {
    let mut p = Parser {
        t: tokens,
        i: 0,
        depth: 0,
    };
    let q = p.query()?;
    Ok(q)
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    /// Current expression nesting, bounded so that hostile queries cannot exhaust the stack.
    depth: usize,
}

/// Deepest expression nesting accepted (parentheses, operator chains, calls).
const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    fn enter(&mut self) -> Result<(), KqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax("the expression is nested too deeply", self.pos()));
        }
        Ok(())
    }
    fn leave(&mut self, n: usize) {
        self.depth = self.depth.saturating_sub(n);
    }
    fn peek(&self) -> &Tok {
        &self.cur().tok
    }
    fn cur(&self) -> &Token {
        // The stream always ends with Eof and we never advance past it.
        &self.t[self.i.min(self.t.len() - 1)]
    }
    fn peek_at(&self, k: usize) -> &Tok {
        &self.t[(self.i + k).min(self.t.len() - 1)].tok
    }
    fn pos(&self) -> usize {
        self.cur().pos
    }
    fn bump(&mut self) -> Token {
        let t = self.cur().clone();
        if t.tok != Tok::Eof {
            self.i += 1;
        }
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, KqlError> {
        if *self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.unexpected(what))
        }
    }
    fn unexpected(&self, what: &str) -> KqlError {
        let found = match self.peek() {
            Tok::Eof => "end of query".to_string(),
            Tok::Ident(s) => format!("'{s}'"),
            other => format!("{other:?}"),
        };
        syntax(format!("expected {what}, found {found}"), self.pos())
    }
    fn ident(&mut self, what: &str) -> Result<(String, usize), KqlError> {
        match self.peek().clone() {
            Tok::Ident(s) if !s.starts_with('!') && s != "in~" => {
                let p = self.bump().pos;
                Ok((s, p))
            }
            _ => Err(self.unexpected(what)),
        }
    }
    /// A column name: identifier or `['name']` / `["name"]`.
    fn column_name(&mut self) -> Result<(String, usize), KqlError> {
        if *self.peek() == Tok::LBracket {
            let p = self.bump().pos;
            let Tok::Str(s) = self.peek().clone() else {
                return Err(self.unexpected("a quoted name"));
            };
            self.bump();
            self.expect(Tok::RBracket, "']'")?;
            return Ok((s, p));
        }
        self.ident("a column name")
    }

    fn query(&mut self) -> Result<Query, KqlError> {
        let lets = self.lets()?;
        let mut q = self.pipeline()?;
        q.lets = lets;
        while *self.peek() == Tok::Semicolon {
            self.bump();
        }
        if *self.peek() != Tok::Eof {
            return Err(self.unexpected("'|' or end of query"));
        }
        Ok(q)
    }

    /// A source and its operators, up to what follows them (end of query, `)` of a
    /// subquery); `render` must be the last operator.
    fn pipeline(&mut self) -> Result<Query, KqlError> {
        if self.is_word("union") && !matches!(self.peek_at(1), Tok::Pipe | Tok::Eof) {
            let pos = self.pos();
            self.bump();
            let parts = self.union_parts()?;
            return self.operators(String::new(), pos, None, Some(Inline::Union(parts)));
        }
        if (self.is_word("datatable") || self.is_word("range"))
            && !matches!(self.peek_at(1), Tok::Pipe | Tok::Eof)
        {
            let pos = self.pos();
            let inline = self.inline_source()?;
            return self.operators(String::new(), pos, None, Some(inline));
        }
        if self.is_word("let") || self.is_word("set") {
            return Err(syntax(
                format!(
                    "'{}' statements are not supported",
                    self.ident("a statement")?.0
                ),
                self.t[self.i - 1].pos,
            ));
        }
        let (mut table, mut table_pos, mut print) = (String::new(), self.pos(), None);
        if self.is_word("print") && !matches!(self.peek_at(1), Tok::Pipe | Tok::Eof) {
            self.bump();
            print = Some(self.named_list()?);
        } else {
            (table, table_pos) = self.column_name()?;
            if *self.peek() == Tok::LParen || *self.peek() == Tok::Dot {
                return Err(syntax(
                    "only a plain table name may start a query",
                    self.pos(),
                ));
            }
        }
        self.operators(table, table_pos, print, None)
    }

    /// The `| operator` chain after a source.
    fn operators(
        &mut self,
        table: String,
        table_pos: usize,
        print: Option<Vec<NamedExpr>>,
        inline: Option<Inline>,
    ) -> Result<Query, KqlError> {
        let mut ops: Vec<Operator> = Vec::new();
        while *self.peek() == Tok::Pipe {
            self.bump();
            if let Some(last) = ops.last() {
                if matches!(last.kind, OpKind::Render { .. }) {
                    return Err(syntax("'render' must be the last operator", last.pos));
                }
            }
            ops.push(self.operator()?);
        }
        Ok(Query {
            table,
            table_pos,
            print,
            ops,
            lets: Vec::new(),
            inline,
        })
    }

    /// Reads an operator name, joining hyphenated names such as `project-away`.
    fn operator_name(&mut self) -> Result<(String, usize), KqlError> {
        let (mut name, pos) = self.ident("a query operator")?;
        while *self.peek() == Tok::Minus && self.t[self.i - 1].end == self.pos() {
            if let Tok::Ident(next) = self.peek_at(1).clone() {
                if self.t[self.i + 1].pos == self.cur().end {
                    self.bump();
                    self.bump();
                    name = format!("{name}-{next}");
                    continue;
                }
            }
            break;
        }
        Ok((name, pos))
    }

    fn operator(&mut self) -> Result<Operator, KqlError> {
        let (name, pos) = self.operator_name()?;
        let kind = match name.as_str() {
            "where" | "filter" => OpKind::Where(self.expr()?),
            "project" => OpKind::Project(self.named_list()?),
            "extend" => OpKind::Extend(self.named_list()?),
            "project-away" => {
                let mut names = Vec::new();
                loop {
                    let (mut n, p) = self.column_name()?;
                    if *self.peek() == Tok::Star && self.t[self.i - 1].end == self.pos() {
                        self.bump();
                        n.push('*');
                    }
                    names.push((n, p));
                    if *self.peek() != Tok::Comma {
                        break;
                    }
                    self.bump();
                }
                OpKind::ProjectAway(names)
            }
            "project-rename" => {
                let mut items = Vec::new();
                loop {
                    let (new, _) = self.column_name()?;
                    self.expect(Tok::Assign, "'='")?;
                    let (old, p) = self.column_name()?;
                    items.push((new, old, p));
                    if *self.peek() != Tok::Comma {
                        break;
                    }
                    self.bump();
                }
                OpKind::ProjectRename(items)
            }
            "summarize" => {
                let mut aggs = Vec::new();
                if !self.is_word("by") {
                    aggs = self.named_list()?;
                }
                let by = if self.eat_word("by") {
                    self.named_list()?
                } else {
                    Vec::new()
                };
                if aggs.is_empty() && by.is_empty() {
                    return Err(self.unexpected("an aggregation or 'by'"));
                }
                OpKind::Summarize { aggs, by }
            }
            "order" | "sort" => {
                if !self.eat_word("by") {
                    return Err(self.unexpected("'by'"));
                }
                let mut keys = vec![self.sort_key()?];
                while *self.peek() == Tok::Comma {
                    self.bump();
                    keys.push(self.sort_key()?);
                }
                OpKind::Sort(keys)
            }
            "take" | "limit" => OpKind::Take(self.expr()?),
            "top" => {
                let n = self.additive()?;
                if !self.eat_word("by") {
                    return Err(self.unexpected("'by'"));
                }
                let key = self.sort_key()?;
                OpKind::Top(n, key)
            }
            "count" => OpKind::Count,
            "distinct" => {
                if *self.peek() == Tok::Star {
                    self.bump();
                    OpKind::Distinct(None)
                } else {
                    let mut cols = vec![self.column_name()?];
                    while *self.peek() == Tok::Comma {
                        self.bump();
                        cols.push(self.column_name()?);
                    }
                    OpKind::Distinct(Some(cols))
                }
            }
            "render" => self.render_op()?,
            "join" => self.join_op()?,
            "lookup" => self.lookup_op()?,
            "union" => OpKind::Union(self.union_parts()?),
            "mv-expand" => self.mv_expand_op()?,
            other => {
                return Err(syntax(
                    format!("the query operator '{other}' is not supported"),
                    pos,
                ))
            }
        };
        Ok(Operator { kind, pos })
    }

    fn sort_key(&mut self) -> Result<SortKey, KqlError> {
        let expr = self.expr()?;
        let descending = if self.eat_word("asc") {
            false
        } else {
            self.eat_word("desc");
            true
        };
        let nulls_first = if self.eat_word("nulls") {
            if self.eat_word("first") {
                Some(true)
            } else if self.eat_word("last") {
                Some(false)
            } else {
                return Err(self.unexpected("'first' or 'last'"));
            }
        } else {
            None
        };
        Ok(SortKey {
            expr,
            descending,
            nulls_first,
        })
    }

    fn named_list(&mut self) -> Result<Vec<NamedExpr>, KqlError> {
        let mut items = vec![self.named()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            items.push(self.named()?);
        }
        Ok(items)
    }

    fn named(&mut self) -> Result<NamedExpr, KqlError> {
        let simple = matches!(self.peek(), Tok::Ident(_)) && *self.peek_at(1) == Tok::Assign;
        let bracket = *self.peek() == Tok::LBracket
            && matches!(self.peek_at(1), Tok::Str(_))
            && *self.peek_at(2) == Tok::RBracket
            && *self.peek_at(3) == Tok::Assign;
        if *self.peek() == Tok::LParen
            && matches!(self.peek_at(1), Tok::Ident(_))
            && *self.peek_at(2) == Tok::Comma
        {
            return Err(syntax("tuple assignments are not supported", self.pos()));
        }
        let name = if simple || bracket {
            let n = self.column_name()?;
            self.expect(Tok::Assign, "'='")?;
            Some(n)
        } else {
            None
        };
        Ok(NamedExpr {
            name,
            expr: self.expr()?,
        })
    }

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
        if matches!(word.as_str(), "in" | "!in" | "in~" | "!in~") {
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

    fn additive(&mut self) -> Result<Expr, KqlError> {
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
