//! Tokenizer: turns query text into tokens carrying 0-based character positions.
//!
//! Typed literals whose bodies are not ordinary tokens (`datetime(...)`, `time(...)`,
//! `timespan(...)`, `guid(...)`) are read raw here.

use super::error::KqlError;
use super::timefmt;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Identifier or keyword, including `!contains`-style negated operators and `in~`.
    Ident(String),
    Long(i64),
    Real(f64),
    /// A timespan literal such as `5m`, in ticks.
    TimeSpan(i64),
    Str(String),
    /// `datetime(...)`; None for `datetime(null)`.
    DateTime(Option<i64>),
    /// `time(...)` / `timespan(...)`; None for null.
    TimeLit(Option<i64>),
    /// `guid(...)`, lower-cased; None for null.
    Guid(Option<String>),
    /// `dynamic(<JSON>)`.
    Dynamic(serde_json::Value),
    Pipe,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    DotDot,
    Assign,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    EqTilde,
    NeTilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `;` (ends a statement such as `declare query_parameters(...)`, or the query).
    Semicolon,
    /// `:` (in `declare query_parameters(name:type)`).
    Colon,
    /// `{` and `}` (bodies of let functions, which are refused by name).
    LBrace,
    RBrace,
    /// End of input.
    Eof,
}

/// A token and where it starts and ends (character offsets, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub end: usize,
}

fn syntax(msg: impl std::fmt::Display, pos: usize) -> KqlError {
    KqlError::new(format!("Syntax error: {msg}"), pos)
}

/// Splits `query` into tokens, ending with `Tok::Eof`.
pub fn lex(query: &str) -> Result<Vec<Token>, KqlError> {
    let c: Vec<char> = query.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let next = c.get(i + 1).copied();
        let dollar = ch == '$' && next.is_some_and(|n| n.is_ascii_alphabetic());
        let tok = if ch.is_ascii_alphabetic() || ch == '_' || dollar {
            if dollar {
                // `$left` / `$right` in join conditions.
                i += 1;
            }
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            if word == "in" && c.get(i) == Some(&'~') {
                i += 1;
                Tok::Ident("in~".into())
            } else if (word == "h" || word == "H") && matches!(c.get(i), Some('\'') | Some('"')) {
                return Err(syntax(
                    "obfuscated string literals are not supported",
                    start,
                ));
            } else if word == "dynamic" && c.get(i) == Some(&'(') {
                let (json, end) = dynamic_literal(&c, i, start)?;
                i = end;
                Tok::Dynamic(json)
            } else if matches!(word.as_str(), "datetime" | "time" | "timespan" | "guid")
                && c.get(i) == Some(&'(')
            {
                let body_start = i + 1;
                let close = c[body_start..]
                    .iter()
                    .position(|&x| x == ')')
                    .map(|p| p + body_start);
                let Some(close) = close else {
                    return Err(syntax(format!("unterminated {word}(...) literal"), start));
                };
                let raw: String = c[body_start..close].iter().collect();
                i = close + 1;
                typed_literal(&word, raw.trim(), start)?
            } else {
                Tok::Ident(word)
            }
        } else if ch.is_ascii_digit() {
            lex_number(&c, &mut i)?
        } else if ch == '\'' || ch == '"' {
            Tok::Str(lex_string(&c, &mut i, false)?)
        } else if ch == '@' && matches!(next, Some('\'') | Some('"')) {
            i += 1;
            Tok::Str(lex_string(&c, &mut i, true)?)
        } else if ch == '!' && next.is_some_and(|n| n.is_ascii_alphabetic()) {
            i += 1;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            if c.get(i) == Some(&'~') {
                i += 1;
            }
            Tok::Ident(c[start..i].iter().collect())
        } else {
            let two = |t: Tok, i: &mut usize| {
                *i += 2;
                t
            };
            match (ch, next) {
                ('=', Some('=')) => two(Tok::Eq, &mut i),
                ('=', Some('~')) => two(Tok::EqTilde, &mut i),
                ('!', Some('=')) => two(Tok::Ne, &mut i),
                ('!', Some('~')) => two(Tok::NeTilde, &mut i),
                ('<', Some('=')) => two(Tok::Le, &mut i),
                ('>', Some('=')) => two(Tok::Ge, &mut i),
                ('<', Some('>')) => two(Tok::Ne, &mut i),
                ('.', Some('.')) => two(Tok::DotDot, &mut i),
                _ => {
                    i += 1;
                    match ch {
                        '|' => Tok::Pipe,
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        ',' => Tok::Comma,
                        '.' => Tok::Dot,
                        '=' => Tok::Assign,
                        '<' => Tok::Lt,
                        '>' => Tok::Gt,
                        '+' => Tok::Plus,
                        '-' => Tok::Minus,
                        '*' => Tok::Star,
                        '/' => Tok::Slash,
                        '%' => Tok::Percent,
                        ';' => Tok::Semicolon,
                        ':' => Tok::Colon,
                        '{' => Tok::LBrace,
                        '}' => Tok::RBrace,
                        other => {
                            return Err(syntax(format!("unexpected character '{other}'"), start))
                        }
                    }
                }
            }
        };
        out.push(Token {
            tok,
            pos: start,
            end: i,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: c.len(),
        end: c.len(),
    });
    Ok(out)
}

/// `dynamic(...)` starting at the `(` at `open`: the JSON inside (matching parentheses,
/// strings skipped) and the index after the closing `)`.
fn dynamic_literal(
    c: &[char],
    open: usize,
    pos: usize,
) -> Result<(serde_json::Value, usize), KqlError> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut i = open;
    while i < c.len() {
        let ch = c[i];
        match (quote, ch) {
            (Some(_), '\\') => i += 1,
            (Some(q), x) if x == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    let body = double_quoted(&c[open + 1..i]);
                    let json = serde_json::from_str(body.trim())
                        .map_err(|e| syntax(format!("invalid dynamic literal: {e}"), pos))?;
                    return Ok((json, i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(syntax("unterminated dynamic(...) literal", pos))
}

/// A dynamic literal's text with its single-quoted strings written double-quoted (Kusto
/// accepts both), so JSON can read it.
fn double_quoted(c: &[char]) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = c.iter().copied();
    while let Some(ch) = chars.next() {
        match (quote, ch) {
            (Some(_), '\\') => {
                out.push(ch);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (Some('\''), '\'') | (Some('"'), '"') => {
                quote = None;
                out.push('"');
            }
            (Some('\''), '"') => out.push_str("\\\""),
            (None, '\'' | '"') => {
                quote = Some(ch);
                out.push('"');
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Builds the token for `datetime(...)`, `time(...)`, `timespan(...)` or `guid(...)`.
fn typed_literal(word: &str, raw: &str, pos: usize) -> Result<Tok, KqlError> {
    let body = raw.trim_matches(|c| c == '\'' || c == '"');
    let is_null = raw == "null";
    Ok(match word {
        "datetime" => Tok::DateTime(if is_null {
            None
        } else {
            Some(
                timefmt::parse_datetime_text(body).ok_or_else(|| {
                    if timefmt::is_ambiguous_numeric_date(body) {
                        syntax(format!("the datetime literal {raw} puts day and month in an order the emulator does not guess; write it as ISO 8601 (yyyy-MM-dd)"), pos)
                    } else {
                        syntax(format!("invalid datetime literal '{raw}'"), pos)
                    }
                })?,
            )
        }),
        "guid" => Tok::Guid(if is_null {
            None
        } else if super::value::is_guid(body) {
            Some(body.to_ascii_lowercase())
        } else {
            return Err(syntax(format!("invalid guid literal '{raw}'"), pos));
        }),
        _ => Tok::TimeLit(if is_null {
            None
        } else {
            Some(
                timefmt::parse_timespan_literal(body)
                    .ok_or_else(|| syntax(format!("invalid timespan literal '{raw}'"), pos))?,
            )
        }),
    })
}

/// Lexes a number: long, real (with '.' or exponent) or a timespan with a unit suffix.
fn lex_number(c: &[char], i: &mut usize) -> Result<Tok, KqlError> {
    let start = *i;
    while *i < c.len() && c[*i].is_ascii_digit() {
        *i += 1;
    }
    let mut is_real = false;
    if c.get(*i) == Some(&'.') && c.get(*i + 1).is_some_and(|d| d.is_ascii_digit()) {
        is_real = true;
        *i += 1;
        while *i < c.len() && c[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    let mantissa_end = *i;
    if matches!(c.get(*i), Some('e') | Some('E')) {
        let mut j = *i + 1;
        if matches!(c.get(j), Some('+') | Some('-')) {
            j += 1;
        }
        if c.get(j).is_some_and(|d| d.is_ascii_digit()) {
            is_real = true;
            while j < c.len() && c[j].is_ascii_digit() {
                j += 1;
            }
            *i = j;
        }
    }
    let text: String = c[start..*i].iter().collect();
    if *i == mantissa_end && c.get(*i).is_some_and(|ch| ch.is_ascii_alphabetic()) {
        let ustart = *i;
        while *i < c.len() && c[*i].is_ascii_alphabetic() {
            *i += 1;
        }
        let unit: String = c[ustart..*i].iter().collect();
        let per = timefmt::unit_ticks(&unit)
            .ok_or_else(|| syntax(format!("unknown timespan unit '{unit}'"), ustart))?;
        let ticks = timefmt::scaled_ticks(&text, per).ok_or_else(|| syntax(format!("timespan literal '{text}{unit}' is out of range or not a whole number of ticks"), start))?;
        return Ok(Tok::TimeSpan(ticks));
    }
    if c.get(*i)
        .is_some_and(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
    {
        return Err(syntax(format!("malformed number near '{text}'"), start));
    }
    if is_real {
        text.parse()
            .map(Tok::Real)
            .map_err(|_| syntax(format!("invalid real literal '{text}'"), start))
    } else {
        text.parse()
            .map(Tok::Long)
            .map_err(|_| syntax(format!("integer literal '{text}' is out of range"), start))
    }
}

/// Lexes a quoted string starting at the quote (`verbatim`: `@'...'`, doubled quotes escape).
fn lex_string(c: &[char], i: &mut usize, verbatim: bool) -> Result<String, KqlError> {
    let start = if verbatim { *i - 1 } else { *i };
    let quote = c[*i];
    *i += 1;
    let mut s = String::new();
    loop {
        let Some(&ch) = c.get(*i) else {
            return Err(syntax("unterminated string literal", start));
        };
        *i += 1;
        if ch == '\n' {
            return Err(syntax("newline in string literal", start));
        }
        if ch == quote {
            if verbatim && c.get(*i) == Some(&quote) {
                s.push(quote);
                *i += 1;
                continue;
            }
            return Ok(s);
        }
        if ch == '\\' && !verbatim {
            let Some(&e) = c.get(*i) else {
                return Err(syntax("unterminated string literal", start));
            };
            *i += 1;
            s.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                '\'' => '\'',
                '"' => '"',
                other => {
                    return Err(syntax(
                        format!("unsupported escape sequence '\\{other}'"),
                        *i - 2,
                    ))
                }
            });
            continue;
        }
        s.push(ch);
    }
}
