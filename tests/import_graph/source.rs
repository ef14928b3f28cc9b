//! Reading one Rust file as the import check needs it: comments, strings and test-only items
//! blanked out, then the `mod` declarations, item definitions, `use` declarations and every
//! path it names.

use std::collections::{BTreeMap, BTreeSet};

/// What one file declares and uses.
#[derive(Debug, Default)]
pub struct FileFacts {
    /// `mod name;` declarations (child modules in their own files).
    pub children: Vec<String>,
    /// Names of items defined here (fn, struct, enum, trait, type, const, static, macro).
    pub defined: BTreeSet<String>,
    /// Names brought in with `use` (re-exported or not: child modules see both), and the
    /// path each comes from.
    pub brought: BTreeMap<String, Vec<String>>,
    /// Every path of two or more segments, from `use` trees and inline code (which of them
    /// lead into the crate is decided when resolving: `crate`, `super`, `self` or a child).
    pub paths: Vec<Vec<String>>,
}

/// Blanks out comments, string and char literals, and items under `#[cfg(test)]`, keeping
/// line breaks, so that what remains is code outside tests.
pub fn sanitize(text: &str) -> String {
    let without_literals = blank_literals(text);
    blank_test_items(&without_literals)
}

fn blank_literals(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            let mut hashes = 0;
            let mut j = i + 1;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let closing: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let rest: String = b[j..].iter().collect();
            let end = rest
                .find(&closing)
                .map_or(b.len(), |k| j + rest[..k].chars().count() + closing.len());
            for &ch in &b[i..end] {
                out.push(blank(ch));
            }
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                let step = if b[i] == '\\' { 2 } else { 1 };
                for _ in 0..step {
                    if i < b.len() {
                        out.push(blank(b[i]));
                        i += 1;
                    }
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&b, i) {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '\'' {
                let step = if b[i] == '\\' { 2 } else { 1 };
                i += step;
                out.push_str(&" ".repeat(step));
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// `'x'` or `'\n'` rather than a lifetime `'a`.
fn is_char_literal(b: &[char], i: usize) -> bool {
    matches!(
        (b.get(i + 1), b.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// Removes each item that follows `#[cfg(test)]`: up to its `;` or its closing brace.
fn blank_test_items(text: &str) -> String {
    let mut out: Vec<char> = text.chars().collect();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + marker.len() <= out.len() {
        if out[i..i + marker.len()] != marker[..] {
            i += 1;
            continue;
        }
        let mut j = i + marker.len();
        let mut depth = 0usize;
        while j < out.len() {
            match out[j] {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        for ch in &mut out[i..(j + 1).min(text.chars().count())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j + 1;
    }
    out.into_iter().collect()
}

/// The facts of one sanitized file.
pub fn facts(code: &str) -> FileFacts {
    let tokens = tokenize(code);
    let mut facts = FileFacts::default();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        match t {
            "mod" if tokens.get(i + 2).map(String::as_str) == Some(";") => {
                facts.children.push(tokens[i + 1].clone());
            }
            "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union" => {
                if let Some(name) = tokens.get(i + 1).filter(|n| is_ident(n)) {
                    facts.defined.insert(name.clone());
                }
            }
            "macro_rules" => {
                if let Some(name) = tokens.get(i + 2) {
                    facts.defined.insert(name.clone());
                }
            }
            "use" => {
                let (trees, end) = use_tree(&tokens, i + 1);
                for (path, alias) in trees {
                    let name = alias.unwrap_or_else(|| path.last().cloned().unwrap_or_default());
                    facts.brought.insert(name, path.clone());
                    facts.paths.push(path);
                }
                i = end;
                continue;
            }
            _ if is_ident(t)
                && tokens.get(i + 1).map(String::as_str) == Some("::")
                && (i == 0 || tokens[i - 1] != "::") =>
            {
                let (path, end) = inline_path(&tokens, i);
                facts.paths.push(path);
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    facts
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// A path in code, `crate::a::b::C`, from token `i`; returns it and the index after it.
fn inline_path(tokens: &[String], mut i: usize) -> (Vec<String>, usize) {
    let mut path = vec![tokens[i].clone()];
    i += 1;
    while tokens.get(i).map(String::as_str) == Some("::")
        && tokens.get(i + 1).is_some_and(|t| is_ident(t))
    {
        path.push(tokens[i + 1].clone());
        i += 2;
    }
    (path, i)
}

/// One path of a `use` tree, with its `as` alias.
type UsePath = (Vec<String>, Option<String>);

/// The paths of a `use` tree starting at token `i`, each with its `as` alias; and the index
/// after the closing `;`.
fn use_tree(tokens: &[String], i: usize) -> (Vec<UsePath>, usize) {
    let mut found = Vec::new();
    let end = tree(tokens, i, &mut Vec::new(), &mut found);
    let end = tokens[end..]
        .iter()
        .position(|t| t == ";")
        .map_or(tokens.len(), |k| end + k + 1);
    (found, end)
}

fn tree(
    tokens: &[String],
    mut i: usize,
    prefix: &mut Vec<String>,
    found: &mut Vec<UsePath>,
) -> usize {
    let depth = prefix.len();
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                loop {
                    i = tree(tokens, i, prefix, found);
                    match tokens.get(i).map(String::as_str) {
                        Some(",") => i += 1,
                        Some("}") => {
                            i += 1;
                            break;
                        }
                        _ => break,
                    }
                    if tokens.get(i).map(String::as_str) == Some("}") {
                        i += 1;
                        break;
                    }
                }
                prefix.truncate(depth);
                return i;
            }
            Some("::") => i += 1,
            Some("*") => {
                found.push((prefix.clone(), None));
                prefix.truncate(depth);
                return i + 1;
            }
            Some(t) if is_ident(t) && t != "as" => {
                prefix.push(t.to_string());
                i += 1;
                if tokens.get(i).map(String::as_str) == Some("::") {
                    continue;
                }
                let mut alias = None;
                if tokens.get(i).map(String::as_str) == Some("as") {
                    alias = tokens.get(i + 1).cloned();
                    i += 2;
                }
                let mut path = prefix.clone();
                if path.last().map(String::as_str) == Some("self") && path.len() > 1 {
                    path.pop();
                }
                found.push((path, alias));
                prefix.truncate(depth);
                return i;
            }
            _ => {
                prefix.truncate(depth);
                return i;
            }
        }
    }
}
