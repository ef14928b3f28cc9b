//! Query parameters: `declare query_parameters(name:type [= default], ...);` at the start of a
//! query, bound to the request's `properties.Parameters` (values in KQL literal form, as the
//! official clients send them: `datetime(2026-12-03T10:00:00Z)`, `5`, a string's plain text).
//! Each use of a parameter's name becomes its value (`bind.rs`): parameters are values, never
//! text spliced into the query. A parameter shadows a column of the same name.

use super::ast::Lit;
use super::error::KqlError;
use super::lexer::{lex, Tok, Token};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    name: String,
    ty: String,
    default: Option<Lit>,
    pos: usize,
}

fn syntax(msg: impl std::fmt::Display, pos: usize) -> KqlError {
    KqlError::new(format!("Syntax error: {msg}"), pos)
}

/// Splits a leading `declare query_parameters(...);` off `tokens`: the declarations, and the
/// index of the first token of the query itself.
pub fn split_declare(tokens: &[Token]) -> Result<(Vec<Declared>, usize), KqlError> {
    let word =
        |i: usize, w: &str| matches!(tokens.get(i).map(|t| &t.tok), Some(Tok::Ident(x)) if x == w);
    if !word(0, "declare") {
        return Ok((Vec::new(), 0));
    }
    if !word(1, "query_parameters") || tokens.get(2).map(|t| &t.tok) != Some(&Tok::LParen) {
        return Err(syntax(
            "expected query_parameters( after declare",
            tokens[0].pos,
        ));
    }
    let mut i = 3;
    let mut out = Vec::new();
    while tokens.get(i).map(|t| &t.tok) != Some(&Tok::RParen) {
        let (Some(Tok::Ident(name)), Some(Tok::Colon), Some(Tok::Ident(ty))) = (
            tokens.get(i).map(|t| &t.tok),
            tokens.get(i + 1).map(|t| &t.tok),
            tokens.get(i + 2).map(|t| &t.tok),
        ) else {
            return Err(syntax(
                "expected name:type",
                tokens.get(i).map_or(0, |t| t.pos),
            ));
        };
        let pos = tokens[i].pos;
        i += 3;
        let mut default = None;
        if tokens.get(i).map(|t| &t.tok) == Some(&Tok::Assign) {
            let end = (i + 1..tokens.len())
                .find(|&j| matches!(tokens[j].tok, Tok::Comma | Tok::RParen | Tok::Eof))
                .unwrap_or(tokens.len());
            default = Some(literal(&tokens[i + 1..end], ty, pos)?);
            i = end;
        }
        out.push(Declared {
            name: name.clone(),
            ty: ty.to_ascii_lowercase(),
            default,
            pos,
        });
        if tokens.get(i).map(|t| &t.tok) == Some(&Tok::Comma) {
            i += 1;
        }
        if i >= tokens.len() || tokens[i].tok == Tok::Eof {
            return Err(syntax("unterminated query_parameters(...)", pos));
        }
    }
    i += 1;
    if tokens.get(i).map(|t| &t.tok) != Some(&Tok::Semicolon) {
        return Err(syntax(
            "expected ';' after declare query_parameters(...)",
            tokens.get(i).map_or(0, |t| t.pos),
        ));
    }
    Ok((out, i + 1))
}

/// A literal of type `ty` from tokens.
fn literal(tokens: &[Token], ty: &str, pos: usize) -> Result<Lit, KqlError> {
    let toks: Vec<&Tok> = tokens.iter().map(|t| &t.tok).collect();
    let lit = match (ty, toks.as_slice()) {
        ("string", [Tok::Str(s)]) => Some(Lit::Str(s.clone())),
        ("long", [Tok::Long(n)]) => Some(Lit::Long(*n)),
        ("long", [Tok::Minus, Tok::Long(n)]) => Some(Lit::Long(-n)),
        ("int", [Tok::Long(n)]) => Some(Lit::Int(Some(*n))),
        ("int", [Tok::Minus, Tok::Long(n)]) => Some(Lit::Int(Some(-n))),
        ("real" | "double", [Tok::Real(f)]) => Some(Lit::Real(*f)),
        ("real" | "double", [Tok::Long(n)]) => Some(Lit::Real(*n as f64)),
        ("real" | "double", [Tok::Minus, Tok::Real(f)]) => Some(Lit::Real(-f)),
        ("real" | "double", [Tok::Minus, Tok::Long(n)]) => Some(Lit::Real(-(*n as f64))),
        ("bool" | "boolean", [Tok::Ident(w)]) if w == "true" || w == "false" => {
            Some(Lit::Bool(w == "true"))
        }
        ("datetime", [Tok::DateTime(t)]) => Some(Lit::DateTime(*t)),
        ("timespan" | "time", [Tok::TimeLit(t)]) => Some(Lit::TimeSpan(*t)),
        ("timespan" | "time", [Tok::TimeSpan(t)]) => Some(Lit::TimeSpan(Some(*t))),
        ("guid", [Tok::Guid(g)]) => Some(Lit::Guid(g.clone())),
        _ => None,
    };
    lit.ok_or_else(|| {
        KqlError::new(
            format!("The value of query parameter at this position is not a {ty} literal"),
            pos,
        )
    })
}

/// A request's value for a parameter of type `ty`, as the clients send it.
fn value_of(text: &str, ty: &str, name: &str, pos: usize) -> Result<Lit, KqlError> {
    let bad = || {
        KqlError::new(
            format!("The value {text:?} of query parameter '{name}' is not a valid {ty}"),
            pos,
        )
    };
    let tokens = lex(text).map_err(|_| bad());
    let strip =
        |t: Vec<Token>| -> Vec<Token> { t.into_iter().filter(|t| t.tok != Tok::Eof).collect() };
    if let Ok(t) = tokens {
        if let Ok(lit) = literal(&strip(t), ty, pos) {
            return Ok(lit);
        }
    }
    let wrapped = match ty {
        "string" => return Ok(Lit::Str(text.to_string())),
        "datetime" => format!("datetime({text})"),
        "timespan" | "time" => format!("timespan({text})"),
        "guid" => format!("guid({text})"),
        _ => return Err(bad()),
    };
    let t = lex(&wrapped).map_err(|_| bad())?;
    literal(&strip(t), ty, pos).map_err(|_| bad())
}

/// Each declared parameter's value: the request's, else its default.
pub fn bind(
    declared: &[Declared],
    given: &Map<String, Value>,
) -> Result<HashMap<String, Lit>, KqlError> {
    const TYPES: &[&str] = &[
        "string", "long", "int", "real", "double", "bool", "boolean", "datetime", "timespan",
        "time", "guid",
    ];
    let mut out = HashMap::new();
    for d in declared {
        if !TYPES.contains(&d.ty.as_str()) {
            return Err(KqlError::new(
                format!("Query parameters of type '{}' are not supported", d.ty),
                d.pos,
            ));
        }
        let lit = match given.get(&d.name) {
            Some(Value::String(text)) => value_of(text, &d.ty, &d.name, d.pos)?,
            Some(other) => value_of(&other.to_string(), &d.ty, &d.name, d.pos)?,
            None => d.default.clone().ok_or_else(|| {
                KqlError::new(
                    format!(
                        "The query parameter '{}' was declared without a default value and the request gives none",
                        d.name
                    ),
                    d.pos,
                )
            })?,
        };
        out.insert(d.name.clone(), lit);
    }
    Ok(out)
}
