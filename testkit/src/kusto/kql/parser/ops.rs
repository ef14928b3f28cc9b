//! Parsing of `render` and `join`, the operators reports use beyond filtering and
//! aggregation.

use super::super::ast::{OpKind, Query, RenderValue};
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

impl Parser<'_> {
    /// `evaluate bag_unpack(Column [, arg | name = arg]...) [: ([*,] Name:type, ...)]`; any
    /// other plugin is refused by name.
    pub(super) fn evaluate_op(&mut self) -> Result<OpKind, KqlError> {
        let (plugin, plugin_pos) = self.ident("a plugin name")?;
        if plugin != "bag_unpack" {
            return Err(syntax(
                format!(
                    "the plugin '{plugin}' (evaluate {plugin}) is not supported by the emulator"
                ),
                plugin_pos,
            ));
        }
        self.expect(Tok::LParen, "'('")?;
        let column = self.expr()?;
        let mut args = Vec::new();
        while *self.peek() == Tok::Comma {
            self.bump();
            let name = if matches!(self.peek(), Tok::Ident(_)) && *self.peek_at(1) == Tok::Assign {
                let (n, _) = self.ident("an argument name")?;
                self.bump();
                Some(n)
            } else {
                None
            };
            args.push((name, self.expr()?));
        }
        self.expect(Tok::RParen, "')'")?;
        let schema = if *self.peek() == Tok::Colon {
            self.bump();
            self.expect(Tok::LParen, "'('")?;
            let star = *self.peek() == Tok::Star;
            if star {
                self.bump();
                if *self.peek() == Tok::Comma {
                    self.bump();
                }
            }
            let mut cols = Vec::new();
            while *self.peek() != Tok::RParen {
                let (name, _) = self.column_name()?;
                self.expect(Tok::Colon, "':' and a type")?;
                let (ty, _) = self.ident("a type")?;
                cols.push((name, ty.to_ascii_lowercase()));
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else if *self.peek() != Tok::RParen {
                    return Err(self.unexpected("',' or ')'"));
                }
            }
            self.bump();
            Some((star, cols))
        } else {
            None
        };
        Ok(OpKind::BagUnpack {
            column,
            args,
            schema,
        })
    }
}
