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
fn take_ident(mut name: String, chars: &mut Chars<'_>, end: &mut usize) -> String {
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

/// The characters' iterator the lexer steps through.
type Chars<'t> = std::iter::Peekable<std::str::CharIndices<'t>>;

/// Splits `text` into tokens; the last token is always [`Tok::Eof`].
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, CompileError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        chars.next();
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        let next = chars.peek().map(|&(_, c)| c);
        let mut end = start + c.len_utf8();
        let tok = if let Some((tok, two)) = punctuation(c, next) {
            if two {
                chars.next();
                end += 1;
            }
            tok
        } else {
            match c {
                '$' => match next {
                    Some(n) if is_ident_start(n) => {
                        Tok::Var(take_ident(String::new(), &mut chars, &mut end))
                    }
                    _ => Tok::Root,
                },
                c if is_ident_start(c) => {
                    Tok::Ident(take_ident(String::from(c), &mut chars, &mut end))
                }
                c if c.is_ascii_digit() => number(text, start, c, &mut chars, &mut end)?,
                '"' | '\'' | '`' => delimited(text, start, c, &mut chars, &mut end)?,
                other => {
                    return Err(CompileError::at(
                        text,
                        start,
                        format!("unexpected character '{other}'"),
                    ))
                }
            }
        };
        debug_assert!(end <= text.len());
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

/// The operator or bracket `c` starts, given the character after it, and whether it takes
/// that character too (`[]`, `[?`, `//`, `&&`, `||`, `!=`, `==`, `<=`, `>=`).
fn punctuation(c: char, next: Option<char>) -> Option<(Tok, bool)> {
    let two = |tok| Some((tok, true));
    let tok = match (c, next) {
        ('[', Some(']')) => return two(Tok::Flatten),
        ('[', Some('?')) => return two(Tok::Filter),
        ('/', Some('/')) => return two(Tok::DoubleSlash),
        ('&', Some('&')) => return two(Tok::And),
        ('|', Some('|')) => return two(Tok::Or),
        ('!', Some('=')) => return two(Tok::Ne),
        ('=', Some('=')) => return two(Tok::Eq),
        ('<', Some('=')) => return two(Tok::Le),
        ('>', Some('=')) => return two(Tok::Ge),
        ('[', _) => Tok::LBracket,
        ('/', _) | ('÷', _) => Tok::Slash,
        ('&', _) => Tok::Ampersand,
        ('|', _) => Tok::Pipe,
        ('!', _) => Tok::Not,
        ('=', _) => Tok::Assign,
        ('<', _) => Tok::Lt,
        ('>', _) => Tok::Gt,
        ('.', _) => Tok::Dot,
        ('*', _) => Tok::Star,
        (']', _) => Tok::RBracket,
        ('{', _) => Tok::LBrace,
        ('}', _) => Tok::RBrace,
        ('(', _) => Tok::LParen,
        (')', _) => Tok::RParen,
        (',', _) => Tok::Comma,
        (':', _) => Tok::Colon,
        ('@', _) => Tok::At,
        ('+', _) => Tok::Plus,
        ('-' | '\u{2212}' | '\u{2013}', _) => Tok::Minus,
        ('×', _) => Tok::Times,
        ('%', _) => Tok::Percent,
        ('?', _) => Tok::Question,
        _ => return None,
    };
    Some((tok, false))
}

/// A run of digits starting with `first` at `start`, as a number token.
fn number(
    text: &str,
    start: usize,
    first: char,
    chars: &mut Chars<'_>,
    end: &mut usize,
) -> Result<Tok, CompileError> {
    let mut digits = String::from(first);
    while let Some(&(i, ch)) = chars.peek() {
        if !ch.is_ascii_digit() {
            break;
        }
        digits.push(ch);
        *end = i + 1;
        chars.next();
    }
    digits
        .parse::<i64>()
        .map(Tok::Number)
        .map_err(|_| CompileError::at(text, start, format!("number {digits} is too large")))
}

/// A quoted identifier, raw string or JSON literal opened by `quote` at `start`, up to its
/// closing delimiter (backslash escapes skipped).
fn delimited(
    text: &str,
    start: usize,
    quote: char,
    chars: &mut Chars<'_>,
    end: &mut usize,
) -> Result<Tok, CompileError> {
    let mut close = None;
    let mut escaped = false;
    for (i, ch) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == quote {
            close = Some(i);
            break;
        }
    }
    let Some(close) = close else {
        let what = match quote {
            '"' => "quoted identifier",
            '\'' => "raw string",
            _ => "literal",
        };
        return Err(CompileError::at(
            text,
            start,
            format!("unterminated {what}: no closing {quote} found"),
        ));
    };
    *end = close + 1;
    let body = &text[start + 1..close];
    Ok(match quote {
        '"' => Tok::Quoted(unquote(text, start, &text[start..=close])?),
        '\'' => Tok::RawString(raw_string(body)),
        _ => Tok::Literal(json_literal(text, start, body)?),
    })
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
