//! String functions beyond the core set: `trim`, `trim_start`, `trim_end`, `extract`,
//! `extract_all`, `countof`, `reverse`, `strrep`, `strcat_delim`, and the term operators
//! `has_any` / `has_all` and `matches regex`. Regular expressions use the `regex` crate, whose
//! syntax is RE2's, the dialect Kusto documents; a pattern is compiled once per query.

use super::error::KqlError;
use super::typed::StrFn;
use super::value::{Type, Value};
use regex::Regex;
use serde_json::Value as Json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Longest text `strrep` makes, as Kusto caps it.
const MAX_REPEAT_CHARS: usize = 1_048_576;

fn err(msg: impl Into<String>, pos: usize) -> KqlError {
    KqlError::new(msg, pos)
}

/// The function called `name`, when it is one of this module's.
pub fn lookup(name: &str) -> Option<StrFn> {
    Some(match name {
        "trim" => StrFn::Trim,
        "trim_start" => StrFn::TrimStart,
        "trim_end" => StrFn::TrimEnd,
        "extract" => StrFn::Extract,
        "extract_all" => StrFn::ExtractAll,
        "countof" => StrFn::CountOf,
        "reverse" => StrFn::Reverse,
        "strrep" => StrFn::StrRep,
        "strcat_delim" => StrFn::StrCatDelim,
        _ => return None,
    })
}

/// The result type of `f` over arguments of `types`, or None when they do not fit.
pub fn result_type(f: StrFn, types: &[Type]) -> Option<Type> {
    use Type::*;
    Some(match (f, types) {
        (StrFn::Trim | StrFn::TrimStart | StrFn::TrimEnd, [String, String]) => String,
        (StrFn::Extract, [String, Long | Int, String]) => String,
        (StrFn::ExtractAll, [String, String]) => Dynamic,
        (StrFn::CountOf, [String, String] | [String, String, String]) => Long,
        (StrFn::Reverse, [String]) => String,
        (StrFn::StrRep, [String, Long | Int] | [String, Long | Int, String]) => String,
        (StrFn::StrCatDelim, [String, rest @ ..]) if (2..=64).contains(&rest.len()) => String,
        (StrFn::HasAny | StrFn::HasAll, [String, rest @ ..])
            if !rest.is_empty() && rest.iter().all(|t| *t == String) =>
        {
            Bool
        }
        _ => return None,
    })
}

thread_local! {
    static COMPILED: RefCell<HashMap<String, Rc<Regex>>> = RefCell::new(HashMap::new());
}

/// `pattern` compiled (cached for the query's thread), or an error naming it.
pub fn regex(pattern: &str, pos: usize) -> Result<Rc<Regex>, KqlError> {
    if let Some(r) = COMPILED.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(r);
    }
    let compiled = Rc::new(
        Regex::new(pattern)
            .map_err(|e| err(format!("Invalid regular expression '{pattern}': {e}"), pos))?,
    );
    COMPILED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 64 {
            c.clear();
        }
        c.insert(pattern.to_string(), compiled.clone());
    });
    Ok(compiled)
}

/// Evaluates `f` over its evaluated arguments.
pub fn eval(
    f: StrFn,
    v: Vec<Value>,
    text: impl Fn(Value) -> Result<String, KqlError>,
    pos: usize,
) -> Result<Value, KqlError> {
    use Value as V;
    Ok(match (f, v.as_slice()) {
        (StrFn::Trim | StrFn::TrimStart | StrFn::TrimEnd, [V::Str(p), V::Str(s)]) => {
            V::Str(trim(f, p, s, pos)?)
        }
        (StrFn::Extract, [V::Str(p), V::Long(group), V::Str(s)]) => {
            let re = regex(p, pos)?;
            let group = usize::try_from(*group).unwrap_or(usize::MAX);
            V::Str(
                re.captures(s)
                    .and_then(|c| c.get(group))
                    .map_or_else(String::new, |m| m.as_str().to_string()),
            )
        }
        (StrFn::ExtractAll, [V::Str(p), V::Str(s)]) => extract_all(p, s, pos)?,
        (StrFn::CountOf, [V::Str(s), V::Str(search), kind @ ..]) => {
            let regex_kind = match kind.first() {
                None => false,
                Some(V::Str(k)) if k == "normal" => false,
                Some(V::Str(k)) if k == "regex" => true,
                Some(other) => {
                    return Err(err(
                        format!("countof's kind must be 'normal' or 'regex', not {other:?}"),
                        pos,
                    ))
                }
            };
            V::Long(count_of(s, search, regex_kind, pos)?)
        }
        (StrFn::Reverse, [V::Str(s)]) => V::Str(s.chars().rev().collect()),
        (StrFn::StrRep, [V::Str(s), V::Long(n), delim @ ..]) => {
            let delim = match delim.first() {
                Some(V::Str(d)) => d.as_str(),
                _ => "",
            };
            let n = usize::try_from(*n).unwrap_or(0);
            let len = n.saturating_mul(s.len() + delim.len());
            if len > MAX_REPEAT_CHARS {
                return Err(err(
                    format!(
                        "strrep would make {len} characters; Kusto stops at {MAX_REPEAT_CHARS}"
                    ),
                    pos,
                ));
            }
            V::Str(vec![s.as_str(); n].join(delim))
        }
        (StrFn::StrCatDelim, [V::Str(d), rest @ ..]) => {
            let parts = rest
                .iter()
                .map(|x| text(x.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            V::Str(parts.join(d))
        }
        (StrFn::HasAny | StrFn::HasAll, [V::Str(s), terms @ ..]) => {
            let s = s.to_lowercase();
            let has = |t: &Value| matches!(t, V::Str(t) if has_term(&s, &t.to_lowercase()));
            V::Bool(if f == StrFn::HasAny {
                terms.iter().any(has)
            } else {
                terms.iter().all(has)
            })
        }
        _ => V::Null,
    })
}

/// Removes the leading and/or trailing runs of `pattern`'s matches from `s`.
fn trim(f: StrFn, pattern: &str, s: &str, pos: usize) -> Result<String, KqlError> {
    let mut out = s;
    if f != StrFn::TrimEnd {
        let start = regex(&format!("^(?:{pattern})+"), pos)?;
        if let Some(m) = start.find(out) {
            out = &out[m.end()..];
        }
    }
    if f != StrFn::TrimStart {
        let end = regex(&format!("(?:{pattern})+$"), pos)?;
        if let Some(m) = end.find(out) {
            out = &out[..m.start()];
        }
    }
    Ok(out.to_string())
}

/// Every match's capture groups: an array of strings for one group, of arrays for several;
/// null when nothing matches.
fn extract_all(pattern: &str, s: &str, pos: usize) -> Result<Value, KqlError> {
    let re = regex(pattern, pos)?;
    let groups = re.captures_len() - 1;
    if groups == 0 {
        return Err(err(
            format!("extract_all's regular expression '{pattern}' needs a capture group"),
            pos,
        ));
    }
    let text = |m: Option<regex::Match>| Json::String(m.map_or("", |m| m.as_str()).to_string());
    let all: Vec<Json> = re
        .captures_iter(s)
        .map(|c| {
            if groups == 1 {
                text(c.get(1))
            } else {
                Json::Array((1..=groups).map(|g| text(c.get(g))).collect())
            }
        })
        .collect();
    Ok(if all.is_empty() {
        Value::Null
    } else {
        Value::Dynamic(Json::Array(all))
    })
}

/// `countof`: plain text counts overlapping occurrences, a regex its non-overlapping matches.
fn count_of(s: &str, search: &str, regex_kind: bool, pos: usize) -> Result<i64, KqlError> {
    if regex_kind {
        return Ok(regex(search, pos)?.find_iter(s).count() as i64);
    }
    if search.is_empty() {
        return Ok(0);
    }
    let mut count = 0;
    let mut from = 0;
    while let Some(off) = s[from..].find(search) {
        count += 1;
        from += off + s[from + off..].chars().next().map_or(1, char::len_utf8);
    }
    Ok(count)
}

/// `has`: `needle` occurs in `hay` on term boundaries (terms are maximal runs of ASCII
/// alphanumeric characters).
pub fn has_term(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let first_alnum = needle
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last_alnum = needle
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let mut from = 0;
    while let Some(off) = hay[from..].find(needle) {
        let start = from + off;
        let end = start + needle.len();
        let before_ok = !first_alnum
            || !hay[..start]
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        let after_ok = !last_alnum
            || !hay[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}
