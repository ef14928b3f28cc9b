//! Parsing of `render` and `join`, the operators reports use beyond filtering and
//! aggregation.

use super::super::ast::{Expr, Inline, Let, OpKind, Query, RenderValue};
use super::super::error::KqlError;
use super::super::lexer::Tok;
use super::{syntax, Parser};

/// Chart kinds `render` accepts.
const RENDER_KINDS: &[&str] = &[
    "table",
    "timechart",
    "linechart",
    "areachart",
    "stackedareachart",
    "barchart",
    "columnchart",
    "piechart",
    "scatterchart",
    "card",
    "anomalychart",
    "pivotchart",
    "ladderchart",
    "timepivot",
    "treemap",
];

/// Properties of `render ... with (...)`.
const RENDER_PROPS: &[&str] = &[
    "title",
    "xcolumn",
    "ycolumns",
    "series",
    "ymin",
    "ymax",
    "xmin",
    "xmax",
    "legend",
    "kind",
    "xtitle",
    "ytitle",
    "xaxis",
    "yaxis",
    "ysplit",
    "accumulate",
    "anomalycolumns",
];

/// Join flavours.
const JOIN_KINDS: &[&str] = &[
    "innerunique",
    "inner",
    "leftouter",
    "rightouter",
    "fullouter",
    "leftanti",
    "anti",
    "leftantisemi",
    "rightanti",
    "rightantisemi",
    "leftsemi",
    "rightsemi",
];

impl Parser<'_> {
    /// `render kind [with (name = value, ...)]`.
    pub(super) fn render_op(&mut self) -> Result<OpKind, KqlError> {
        let (kind, pos) = self.ident("a chart kind")?;
        if !RENDER_KINDS.contains(&kind.as_str()) {
            return Err(syntax(format!("'{kind}' is not a render kind"), pos));
        }
        let mut props = Vec::new();
        if self.eat_word("with") {
            self.expect(Tok::LParen, "'('")?;
            while *self.peek() != Tok::RParen {
                let (name, npos) = self.ident("a render property")?;
                let name = name.to_ascii_lowercase();
                if !RENDER_PROPS.contains(&name.as_str()) {
                    return Err(syntax(format!("'{name}' is not a render property"), npos));
                }
                self.expect(Tok::Assign, "'='")?;
                props.push((name, self.render_value()?));
                if *self.peek() == Tok::Comma {
                    self.bump();
                }
            }
            self.bump();
        }
        Ok(OpKind::Render { kind, props })
    }

    /// A property value: a string, number, bool, or names joined by commas up to the next
    /// `property =` or `)`.
    fn render_value(&mut self) -> Result<RenderValue, KqlError> {
        let negative = *self.peek() == Tok::Minus;
        if negative {
            self.bump();
        }
        let sign = if negative { -1.0 } else { 1.0 };
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(RenderValue::Text(s))
            }
            Tok::Long(n) => {
                self.bump();
                Ok(RenderValue::Number(sign * n as f64))
            }
            Tok::Real(f) => {
                self.bump();
                Ok(RenderValue::Number(sign * f))
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.bump();
                Ok(RenderValue::Bool(w == "true"))
            }
            _ => {
                let mut names = vec![self.column_name()?.0];
                while *self.peek() == Tok::Comma {
                    let next_is_prop = matches!(self.peek_at(1), Tok::Ident(n)
                        if RENDER_PROPS.contains(&n.to_ascii_lowercase().as_str()))
                        && *self.peek_at(2) == Tok::Assign;
                    if next_is_prop {
                        break;
                    }
                    self.bump();
                    names.push(self.column_name()?.0);
                }
                Ok(RenderValue::Text(names.join(",")))
            }
        }
    }

    /// `join [kind = K] (pipeline) on key, $left.a == $right.b, ...`.
    pub(super) fn join_op(&mut self) -> Result<OpKind, KqlError> {
        let mut kind = "innerunique".to_string();
        if self.is_word("kind") && *self.peek_at(1) == Tok::Assign {
            self.bump();
            self.bump();
            let (k, pos) = self.ident("a join kind")?;
            if !JOIN_KINDS.contains(&k.as_str()) {
                return Err(syntax(format!("'{k}' is not a join kind"), pos));
            }
            kind = match k.as_str() {
                "anti" | "leftantisemi" => "leftanti".into(),
                "rightantisemi" => "rightanti".into(),
                _ => k,
            };
        }
        self.expect(Tok::LParen, "'(' and the right side of the join")?;
        let right = self.pipeline()?;
        self.expect(Tok::RParen, "')'")?;
        if !self.eat_word("on") {
            return Err(self.unexpected("'on'"));
        }
        let mut on = vec![self.join_key()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            on.push(self.join_key()?);
        }
        Ok(OpKind::Join {
            kind,
            right: Box::new(right),
            on,
        })
    }

    /// `lookup [kind = leftouter|inner] (pipeline | Table) on keys`: a join that keeps the
    /// left side's key columns only.
    pub(super) fn lookup_op(&mut self) -> Result<OpKind, KqlError> {
        let mut kind = "leftouter".to_string();
        if self.is_word("kind") && *self.peek_at(1) == Tok::Assign {
            self.bump();
            self.bump();
            let (k, pos) = self.ident("a lookup kind")?;
            if k != "leftouter" && k != "inner" {
                return Err(syntax(
                    format!("'{k}' is not a lookup kind (leftouter or inner)"),
                    pos,
                ));
            }
            kind = k;
        }
        let right = if *self.peek() == Tok::LParen {
            self.bump();
            let q = self.pipeline()?;
            self.expect(Tok::RParen, "')'")?;
            q
        } else {
            let (table, table_pos) = self.column_name()?;
            Query {
                table,
                table_pos,
                print: None,
                ops: Vec::new(),
                lets: Vec::new(),
                inline: None,
            }
        };
        if !self.eat_word("on") {
            return Err(self.unexpected("'on'"));
        }
        let mut on = vec![self.join_key()?];
        while *self.peek() == Tok::Comma {
            self.bump();
            on.push(self.join_key()?);
        }
        Ok(OpKind::Join {
            kind: format!("lookup_{kind}"),
            right: Box::new(right),
            on,
        })
    }

    /// `col` (the same name on both sides) or `$left.a == $right.b` (either order).
    fn join_key(&mut self) -> Result<(String, String), KqlError> {
        if !matches!(self.peek(), Tok::Ident(w) if w.starts_with('$')) {
            let (name, _) = self.column_name()?;
            return Ok((name.clone(), name));
        }
        let (a_side, a) = self.side_column()?;
        self.expect(Tok::Eq, "'=='")?;
        let (b_side, b) = self.side_column()?;
        match (a_side.as_str(), b_side.as_str()) {
            ("$left", "$right") => Ok((a, b)),
            ("$right", "$left") => Ok((b, a)),
            _ => Err(self.unexpected("$left.column == $right.column")),
        }
    }

    fn side_column(&mut self) -> Result<(String, String), KqlError> {
        let (side, pos) = self.ident("$left or $right")?;
        if side != "$left" && side != "$right" {
            return Err(syntax(format!("'{side}' is not $left or $right"), pos));
        }
        self.expect(Tok::Dot, "'.'")?;
        Ok((side, self.column_name()?.0))
    }
}

impl Parser<'_> {
    /// `let` statements: scalars, tabular expressions and scalar functions.
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
                self.let_function(name, let_pos)?
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
    fn let_function(&mut self, name: String, pos: usize) -> Result<Let, KqlError> {
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
        let body = self.expr()?;
        if *self.peek() != Tok::RBrace {
            return Err(syntax(
                format!(
                    "only scalar let functions are supported by the emulator ('{name}' is not one)"
                ),
                pos,
            ));
        }
        self.bump();
        Ok(Let::Function { name, params, body })
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
                from,
                to,
                step,
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

impl Parser<'_> {
    /// The parts of `union`: table names or `(pipeline)`s, separated by commas.
    pub(super) fn union_parts(&mut self) -> Result<Vec<Query>, KqlError> {
        let mut parts = Vec::new();
        loop {
            if *self.peek() == Tok::LParen {
                self.bump();
                parts.push(self.pipeline()?);
                self.expect(Tok::RParen, "')'")?;
            } else {
                let (table, table_pos) = self.column_name()?;
                parts.push(Query {
                    table,
                    table_pos,
                    print: None,
                    ops: Vec::new(),
                    lets: Vec::new(),
                    inline: None,
                });
            }
            if *self.peek() != Tok::Comma {
                return Ok(parts);
            }
            self.bump();
        }
    }
}

impl Parser<'_> {
    /// `mv-expand [kind=bag|array] [with_itemindex=I] [Name =] expr [to typeof(T)], ...
    /// [limit N]`.
    pub(super) fn mv_expand_op(&mut self) -> Result<OpKind, KqlError> {
        let mut bags_as_arrays = false;
        let mut index = None;
        loop {
            if (self.is_word("kind") || self.is_word("bagexpansion"))
                && *self.peek_at(1) == Tok::Assign
            {
                self.bump();
                self.bump();
                let (k, pos) = self.ident("bag or array")?;
                bags_as_arrays = match k.as_str() {
                    "bag" => false,
                    "array" => true,
                    _ => return Err(syntax(format!("'{k}' is not bag or array"), pos)),
                };
            } else if self.is_word("with_itemindex") && *self.peek_at(1) == Tok::Assign {
                self.bump();
                self.bump();
                index = Some(self.column_name()?.0);
            } else {
                break;
            }
        }
        let mut items = Vec::new();
        loop {
            let name = if matches!(self.peek(), Tok::Ident(_)) && *self.peek_at(1) == Tok::Assign {
                let (n, _) = self.column_name()?;
                self.bump();
                Some(n)
            } else {
                None
            };
            let e = self.expr()?;
            let mut ty = None;
            if self.eat_word("to") {
                if !self.eat_word("typeof") {
                    return Err(self.unexpected("typeof(type)"));
                }
                self.expect(Tok::LParen, "'('")?;
                ty = Some(self.ident("a type")?.0.to_ascii_lowercase());
                self.expect(Tok::RParen, "')'")?;
            }
            items.push((name, e, ty));
            if *self.peek() != Tok::Comma {
                break;
            }
            self.bump();
        }
        let mut limit = None;
        if self.eat_word("limit") {
            match self.peek().clone() {
                Tok::Long(n) if n > 0 => {
                    self.bump();
                    limit = Some(n);
                }
                _ => return Err(self.unexpected("a positive row limit")),
            }
        }
        Ok(OpKind::MvExpand {
            bags_as_arrays,
            index,
            items,
            limit,
        })
    }
}
