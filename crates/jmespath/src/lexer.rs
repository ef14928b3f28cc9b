//! Lexer: turns expression text into a list of tokens with byte offsets.

use serde_json::Value;

use super::error::CompileError;

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// Unquoted identifier such as `foo`.
    Ident(String),
    /// Quoted identifier such as `"foo bar"` (already unescaped).
    Quoted(String),
    /// Backtick JSON literal.
    Literal(Value),
    /// Raw string literal `'...'`.
    RawString(String),
    /// Unsigned integer (only meaningful inside brackets).
    Number(i64),
    /// `$name`
    Var(String),
    /// `$` on its own: the root document.
    Root,
    Dot,
    Star,
    LBracket,
    RBracket,
    Flatten,
    Filter,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Colon,
    At,
    Ampersand,
    And,
    Or,
    Pipe,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Assign,
    Plus,
    Minus,
    /// `×` (only ever multiplication, unlike `*`).
    Times,
    Slash,
    DoubleSlash,
    Percent,
    /// `?` of the ternary `cond ? a : b`.
    Question,
    Eof,
}

/// A token with its byte span in the source.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Appends identifier characters from `chars` to `name`, moving `end` past them.
fn take_ident(
    mut name: String,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    end: &mut usize,
) -> String {
    while let Some(&(i, ch)) = chars.peek() {
        if !is_ident_char(ch) {
            break;
        }
        name.push(ch);
        *end = i + ch.len_utf8();
        chars.next();
    }
    name
}

/// Splits `text` into tokens; the last token is always [`Tok::Eof`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, CompileError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        chars.next();
        let next = chars.peek().map(|&(_, c)| c);
        let mut end = start + c.len_utf8();
        let tok = match c {
            ' ' | '\t' | '\n' | '\r' => continue,
            '.' => Tok::Dot,
            '*' => Tok::Star,
            ']' => Tok::RBracket,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            ':' => Tok::Colon,
            '@' => Tok::At,
            '+' => Tok::Plus,
            '-' | '\u{2212}' | '\u{2013}' => Tok::Minus,
            '×' => Tok::Times,
            '÷' => Tok::Slash,
            '%' => Tok::Percent,
            '?' => Tok::Question,
            '[' => match next {
                Some(']') => {
                    chars.next();
                    end += 1;
                    Tok::Flatten
                }
                Some('?') => {
                    chars.next();
                    end += 1;
                    Tok::Filter
                }
                _ => Tok::LBracket,
            },
            '/' | '&' | '|' | '!' | '=' | '<' | '>' => {
                let (double, single) = match (c, next) {
                    ('/', Some('/')) => (Some(Tok::DoubleSlash), Tok::Slash),
                    ('&', Some('&')) => (Some(Tok::And), Tok::Ampersand),
                    ('|', Some('|')) => (Some(Tok::Or), Tok::Pipe),
                    ('!', Some('=')) => (Some(Tok::Ne), Tok::Not),
                    ('=', Some('=')) => (Some(Tok::Eq), Tok::Assign),
                    ('<', Some('=')) => (Some(Tok::Le), Tok::Lt),
                    ('>', Some('=')) => (Some(Tok::Ge), Tok::Gt),
                    ('/', _) => (None, Tok::Slash),
                    ('&', _) => (None, Tok::Ampersand),
                    ('|', _) => (None, Tok::Pipe),
                    ('!', _) => (None, Tok::Not),
                    ('=', _) => (None, Tok::Assign),
                    ('<', _) => (None, Tok::Lt),
                    _ => (None, Tok::Gt),
                };
                match double {
                    Some(t) => {
                        chars.next();
                        end += 1;
                        t
                    }
                    None => single,
                }
            }
            '$' => match next {
                Some(n) if is_ident_start(n) => {
                    Tok::Var(take_ident(String::new(), &mut chars, &mut end))
                }
                _ => Tok::Root,
            },
            c if is_ident_start(c) => Tok::Ident(take_ident(String::from(c), &mut chars, &mut end)),
            c if c.is_ascii_digit() => {
                let mut digits = String::from(c);
                while let Some(&(i, ch)) = chars.peek() {
                    if !ch.is_ascii_digit() {
                        break;
                    }
                    digits.push(ch);
                    end = i + 1;
                    chars.next();
                }
                match digits.parse::<i64>() {
                    Ok(n) => Tok::Number(n),
                    Err(_) => {
                        return Err(CompileError::at(
                            text,
                            start,
                            format!("number {digits} is too large"),
                        ))
                    }
                }
            }
            '"' | '\'' | '`' => {
                // Find the closing delimiter, skipping backslash escapes.
                let mut close = None;
                let mut escaped = false;
                for (i, ch) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == c {
                        close = Some(i);
                        break;
                    }
                }
                let Some(close) = close else {
                    let what = match c {
                        '"' => "quoted identifier",
                        '\'' => "raw string",
                        _ => "literal",
                    };
                    return Err(CompileError::at(
                        text,
                        start,
                        format!("unterminated {what}: no closing {c} found"),
                    ));
                };
                end = close + 1;
                let body = &text[start + 1..close];
                match c {
                    '"' => Tok::Quoted(unquote(text, start, &text[start..=close])?),
                    '\'' => Tok::RawString(raw_string(body)),
                    _ => Tok::Literal(json_literal(text, start, body)?),
                }
            }
            other => {
                return Err(CompileError::at(
                    text,
                    start,
                    format!("unexpected character '{other}'"),
                ))
            }
        };
        debug_assert!(end <= bytes.len());
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

/// Decodes a quoted identifier (JSON string syntax).
fn unquote(text: &str, start: usize, quoted: &str) -> Result<String, CompileError> {
    serde_json::from_str::<String>(quoted).map_err(|e| {
        CompileError::at(
            text,
            start,
            format!(
                "invalid quoted identifier {quoted}: {}",
                strip_serde_position(&e)
            ),
        )
    })
}

/// Raw strings keep everything verbatim except `\'` -> `'` and `\\` -> `\`.
fn raw_string(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek() {
                Some('\'') => {
                    out.push('\'');
                    it.next();
                }
                Some('\\') => {
                    out.push('\\');
                    it.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses a backtick literal body as JSON (after turning "\`" into "`").
fn json_literal(text: &str, start: usize, body: &str) -> Result<Value, CompileError> {
    let unescaped;
    let src = if body.contains("\\`") {
        unescaped = body.replace("\\`", "`");
        unescaped.as_str()
    } else {
        body
    };
    serde_json::from_str::<Value>(src).map_err(|e| {
        CompileError::at(
            text,
            start,
            format!(
                "invalid JSON in literal `{}`: {} (write strings as `\"text\"` or 'text')",
                shorten(body),
                strip_serde_position(&e)
            ),
        )
    })
}

fn strip_serde_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Shortens a piece of source text for use in an error message.
pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() > 30 {
        let head: String = s.chars().take(27).collect();
        format!("{head}...")
    } else {
        s.to_owned()
    }
}
