//! Recursive-descent parser from tokens to the [`super::ast`] tree.

use super::ast::*;
use super::error::KqlError;
use super::lexer::{Tok, Token};

mod expr;
mod lets;
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
            if *self.peek() == Tok::LParen {
                self.bump();
                let mut args = Vec::new();
                while *self.peek() != Tok::RParen {
                    args.push(self.expr()?);
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else if *self.peek() != Tok::RParen {
                        return Err(self.unexpected("',' or ')'"));
                    }
                }
                self.bump();
                let call = Inline::Call {
                    name: table.clone(),
                    args,
                };
                return self.operators(table, table_pos, None, Some(call));
            }
            if *self.peek() == Tok::Dot {
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
            "evaluate" => self.evaluate_op()?,
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
}
