//! `let` statements (scalars, tabular expressions, scalar functions) and inline sources.

use super::super::ast::*;
use super::super::error::KqlError;
use super::super::lexer::Tok;
use super::{syntax, Parser};

impl Parser<'_> {
    /// `let` statements: scalars, tabular expressions and functions (scalar or tabular).
    pub(super) fn lets(&mut self) -> Result<Vec<Let>, KqlError> {
        let mut out: Vec<Let> = Vec::new();
        while self.is_word("let") {
            let let_pos = self.pos();
            self.bump();
            let (name, _) = self.ident("a name")?;
            self.expect(Tok::Assign, "'='")?;
            let statement = if *self.peek() == Tok::LParen
                && (*self.peek_at(1) == Tok::RParen
                    || (matches!(self.peek_at(1), Tok::Ident(_)) && *self.peek_at(2) == Tok::Colon))
            {
                self.let_function(name, let_pos, &out)?
            } else if self.starts_tabular(&out) {
                if self.is_word("view") || self.is_word("materialize") {
                    return Err(syntax(
                        format!(
                            "'{}' in a let statement is not supported by the emulator",
                            self.ident("a word")?.0
                        ),
                        let_pos,
                    ));
                }
                Let::Table(name, Box::new(self.pipeline()?))
            } else {
                Let::Scalar(name, self.expr()?)
            };
            if *self.peek() == Tok::Pipe {
                return Err(self.unexpected("';' after the let statement"));
            }
            self.expect(Tok::Semicolon, "';' after the let statement")?;
            out.push(statement);
        }
        Ok(out)
    }

    /// Whether the value of a let is tabular: a source keyword, a name followed by `|`, or a
    /// bare name that is not a scalar bound before.
    fn starts_tabular(&self, before: &[Let]) -> bool {
        const SOURCES: [&str; 6] = [
            "range",
            "datatable",
            "print",
            "union",
            "view",
            "materialize",
        ];
        if SOURCES.iter().any(|w| self.is_word(w)) {
            return true;
        }
        let Tok::Ident(word) = self.peek() else {
            return false;
        };
        let scalar = before
            .iter()
            .any(|l| matches!(l, Let::Scalar(n, _) if n == word));
        *self.peek_at(1) == Tok::Pipe || (*self.peek_at(1) == Tok::Semicolon && !scalar)
    }

    /// `(param:type [= default], ...) { scalar expression }`.
    fn let_function(&mut self, name: String, pos: usize, before: &[Let]) -> Result<Let, KqlError> {
        self.expect(Tok::LParen, "'('")?;
        let mut params = Vec::new();
        while *self.peek() != Tok::RParen {
            let (p, _) = self.ident("a parameter")?;
            self.expect(Tok::Colon, "':' and a type")?;
            if *self.peek() == Tok::LParen {
                return Err(syntax(
                    "let functions with tabular parameters are not supported by the emulator",
                    self.pos(),
                ));
            }
            let (ty, tpos) = self.ident("a type")?;
            if ty == "T" || *self.peek() == Tok::LParen {
                return Err(syntax(
                    "let functions with tabular parameters are not supported by the emulator",
                    tpos,
                ));
            }
            let default = if *self.peek() == Tok::Assign {
                self.bump();
                Some(self.expr()?)
            } else {
                None
            };
            params.push((p, default));
            if *self.peek() == Tok::Comma {
                self.bump();
            }
        }
        self.bump();
        self.expect(Tok::LBrace, "'{' and the function's body")?;
        if self.body_is_tabular(&params, before) {
            let body = self.pipeline()?;
            self.expect(Tok::RBrace, "'}' after the function's body")?;
            return Ok(Let::TableFunction {
                name,
                params,
                body: Box::new(body),
            });
        }
        let body = self.expr()?;
        if *self.peek() != Tok::RBrace {
            return Err(syntax(
                format!("the body of the let function '{name}' must be one scalar expression or one tabular expression"),
                pos,
            ));
        }
        self.bump();
        Ok(Let::Function { name, params, body })
    }

    /// Whether a function body starts a tabular expression: a source keyword, a name followed
    /// by `|`, a lone name that is not a parameter, or a call followed by `|` or of a tabular
    /// function bound before.
    fn body_is_tabular(&self, params: &[(String, Option<Expr>)], before: &[Let]) -> bool {
        if ["range", "datatable", "print", "union"]
            .iter()
            .any(|w| self.is_word(w))
        {
            return true;
        }
        let Tok::Ident(word) = self.peek() else {
            return false;
        };
        let param = params.iter().any(|(p, _)| p == word);
        match self.peek_at(1) {
            Tok::Pipe => true,
            Tok::RBrace => !param,
            Tok::LParen => {
                let mut depth = 0usize;
                let mut k = 1;
                loop {
                    match self.peek_at(k) {
                        Tok::LParen => depth += 1,
                        Tok::RParen if depth == 1 => break,
                        Tok::RParen => depth -= 1,
                        Tok::Eof => return false,
                        _ => {}
                    }
                    k += 1;
                }
                let tabular_fn = before
                    .iter()
                    .any(|l| matches!(l, Let::TableFunction { name, .. } if name == word));
                *self.peek_at(k + 1) == Tok::Pipe || tabular_fn
            }
            _ => false,
        }
    }

    /// `datatable(name:type, ...)[values]` or `range name from a to b step s`.
    pub(super) fn inline_source(&mut self) -> Result<Inline, KqlError> {
        if self.eat_word("range") {
            let (name, _) = self.column_name()?;
            let part = |p: &mut Self, word: &str| -> Result<Expr, KqlError> {
                if !p.eat_word(word) {
                    return Err(p.unexpected(&format!("'{word}'")));
                }
                p.expr()
            };
            let from = part(self, "from")?;
            let to = part(self, "to")?;
            let step = part(self, "step")?;
            return Ok(Inline::Range {
                name,
                from: Box::new(from),
                to: Box::new(to),
                step: Box::new(step),
            });
        }
        self.bump();
        self.expect(Tok::LParen, "'('")?;
        let mut columns = Vec::new();
        while *self.peek() != Tok::RParen {
            let (name, _) = self.column_name()?;
            self.expect(Tok::Colon, "':' and a type")?;
            let (ty, _) = self.ident("a type")?;
            columns.push((name, ty.to_ascii_lowercase()));
            if *self.peek() == Tok::Comma {
                self.bump();
            }
        }
        self.bump();
        self.expect(Tok::LBracket, "'['")?;
        let mut values = Vec::new();
        while *self.peek() != Tok::RBracket {
            values.push(self.expr()?);
            if *self.peek() == Tok::Comma {
                self.bump();
            } else if *self.peek() != Tok::RBracket {
                return Err(self.unexpected("',' or ']'"));
            }
        }
        self.bump();
        Ok(Inline::DataTable { columns, values })
    }
}
