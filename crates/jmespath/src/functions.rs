//! Built-in functions: signatures, argument type checking and implementations.
//! Calls are resolved to a [`Function`] (with a plain function pointer) at
//! compile time.

use std::collections::HashMap;
use std::rc::Rc;

use super::ast::{Arg, Function, Node, Ty};
use super::ctx::Ctx;
use super::error::EvalError;
use super::value::{equal, sort_cmp, to_json_string, Num, Text, Val, View};

type R<'a> = Result<Val<'a>, EvalError>;

macro_rules! func {
    ($name:literal, [$($t:ident),*], $opt:expr, $var:expr, $imp:path) => {
        Function { name: $name, params: &[$(Ty::$t),*], optional: $opt, variadic: $var, imp: $imp }
    };
}

static FUNCTIONS: &[Function] = &[
    func!("abs", [Number], 0, false, f_abs),
    func!("avg", [ArrayNumber], 0, false, f_avg),
    func!("ceil", [Number], 0, false, f_ceil),
    func!("contains", [StrOrArr, Any], 0, false, f_contains),
    func!("ends_with", [String, String], 0, false, f_ends_with),
    func!(
        "find_first",
        [String, String, Number, Number],
        2,
        false,
        f_find_first
    ),
    func!(
        "find_last",
        [String, String, Number, Number],
        2,
        false,
        f_find_last
    ),
    func!("floor", [Number], 0, false, f_floor),
    func!("from_items", [Array], 0, false, f_from_items),
    func!("group_by", [Array, Expref], 0, false, f_group_by),
    func!("items", [Object], 0, false, f_items),
    func!("join", [String, ArrayString], 0, false, f_join),
    func!("keys", [Object], 0, false, f_keys),
    func!("length", [StrArrObj], 0, false, f_length),
    func!("lower", [String], 0, false, f_lower),
    func!("map", [Expref, Array], 0, false, f_map),
    func!("max", [ArrayNumOrStr], 0, false, f_max),
    func!("max_by", [Array, Expref], 0, false, f_max_by),
    func!("merge", [Object], 1, true, f_merge),
    func!("min", [ArrayNumOrStr], 0, false, f_min),
    func!("min_by", [Array, Expref], 0, false, f_min_by),
    func!("not_null", [Any], 0, true, f_not_null),
    func!("pad_left", [String, Number, String], 1, false, f_pad_left),
    func!("pad_right", [String, Number, String], 1, false, f_pad_right),
    func!(
        "replace",
        [String, String, String, Number],
        1,
        false,
        f_replace
    ),
    func!("reverse", [StrOrArr], 0, false, f_reverse),
    func!("sort", [ArrayNumOrStr], 0, false, f_sort),
    func!("sort_by", [Array, Expref], 0, false, f_sort_by),
    func!("split", [String, String, Number], 1, false, f_split),
    func!("starts_with", [String, String], 0, false, f_starts_with),
    func!("sum", [ArrayNumber], 0, false, f_sum),
    func!("to_array", [Any], 0, false, f_to_array),
    func!("to_number", [Any], 0, false, f_to_number),
    func!("to_string", [Any], 0, false, f_to_string),
    func!("trim", [String, String], 1, false, f_trim),
    func!("trim_left", [String, String], 1, false, f_trim_left),
    func!("trim_right", [String, String], 1, false, f_trim_right),
    func!("type", [Any], 0, false, f_type),
    func!("upper", [String], 0, false, f_upper),
    func!("values", [Object], 0, false, f_values),
    func!("zip", [Array], 0, true, f_zip),
];

/// Finds a built-in function by name.
pub(super) fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Comma-separated list of all function names (for error messages).
pub(super) fn names() -> String {
    FUNCTIONS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- argument access (types were checked by `Function::call`) ----

const NULL: Val<'static> = Val::Null;

fn arg<'b, 'a>(a: &'b [Arg<'a>], i: usize) -> &'b Val<'a> {
    match a.get(i) {
        Some(Arg::Val(v)) => v,
        _ => &NULL,
    }
}

fn opt_arg<'b, 'a>(a: &'b [Arg<'a>], i: usize) -> Option<&'b Val<'a>> {
    match a.get(i) {
        Some(Arg::Val(v)) => Some(v),
        _ => None,
    }
}

fn expr<'a>(a: &[Arg<'a>], i: usize) -> Result<&'a Node, EvalError> {
    match a.get(i) {
        Some(Arg::Expr(e)) => Ok(e),
        _ => Err(EvalError::invalid_type("expected an expression reference")),
    }
}

fn text<'a>(a: &[Arg<'a>], i: usize) -> Text<'a> {
    arg(a, i).as_text().unwrap_or(Text::B(""))
}

fn num(a: &[Arg<'_>], i: usize) -> Num {
    arg(a, i).as_num().unwrap_or(Num::I(0))
}

fn elements<'a>(v: &Val<'a>) -> Vec<Val<'a>> {
    match v.view() {
        View::Arr(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

/// An optional integer argument; errors if present but not an integer (or negative when `non_neg`).
fn int_arg(
    a: &[Arg<'_>],
    i: usize,
    fname: &str,
    what: &str,
    non_neg: bool,
) -> Result<Option<i64>, EvalError> {
    let Some(v) = opt_arg(a, i) else {
        return Ok(None);
    };
    let n = v.as_num().and_then(Num::as_integer);
    match n {
        Some(n) if !(non_neg && n < 0) => Ok(Some(n)),
        _ => Err(EvalError::invalid_value(format!(
            "{fname}() expects argument {} ({what}) to be a{} integer, got {}",
            i + 1,
            if non_neg { " non-negative" } else { "n" },
            v.clone().into_value()
        ))),
    }
}

// ---- numbers ----

fn f_abs<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(match num(a, 0) {
        Num::I(i) => i
            .checked_abs()
            .map(Val::Int)
            .unwrap_or(Val::Float((i as f64).abs())),
        Num::F(f) => Val::Float(f.abs()),
    })
}

fn round_to<'a>(n: Num, f: fn(f64) -> f64) -> Val<'a> {
    match n {
        Num::I(i) => Val::Int(i),
        Num::F(x) => {
            let r = f(x);
            if r.is_finite() && r.abs() < 9.0e18 {
                Val::Int(r as i64)
            } else {
                Val::Float(r)
            }
        }
    }
}

fn f_ceil<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(round_to(num(a, 0), f64::ceil))
}

fn f_floor<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(round_to(num(a, 0), f64::floor))
}

/// Sum with integer preservation (falls back to float on overflow or floats).
fn sum_of(items: &[Val<'_>]) -> Num {
    let mut int: Option<i64> = Some(0);
    let mut float = 0.0;
    for v in items {
        let n = v.as_num().unwrap_or(Num::I(0));
        float += n.f();
        int = match (int, n) {
            (Some(acc), Num::I(i)) => acc.checked_add(i),
            _ => None,
        };
    }
    match int {
        Some(i) => Num::I(i),
        None => Num::F(float),
    }
}

fn f_sum<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(sum_of(&elements(arg(a, 0))).val())
}

fn f_avg<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let items = elements(arg(a, 0));
    if items.is_empty() {
        return Ok(Val::Null);
    }
    Ok(Val::Float(sum_of(&items).f() / items.len() as f64))
}

fn extreme<'a>(a: &[Arg<'a>], want: std::cmp::Ordering) -> R<'a> {
    let mut best: Option<Val<'a>> = None;
    for v in elements(arg(a, 0)) {
        best = match best {
            Some(b) if sort_cmp(&v, &b) != want => Some(b),
            _ => Some(v),
        };
    }
    Ok(best.unwrap_or(Val::Null))
}

fn f_max<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    extreme(a, std::cmp::Ordering::Greater)
}

fn f_min<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    extreme(a, std::cmp::Ordering::Less)
}

/// Evaluates `&expr` on each element; keys must all be numbers or all strings.
fn sort_keys<'a>(
    ctx: &mut Ctx<'a>,
    fname: &str,
    items: &[Val<'a>],
    e: &'a Node,
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut keys = Vec::with_capacity(items.len());
    let mut first: Option<&'static str> = None;
    for (i, el) in items.iter().enumerate() {
        let k = ctx.eval(e, el)?;
        let t = k.type_name();
        if t != "number" && t != "string" {
            return Err(EvalError::invalid_type(format!(
                "{fname}() expects the expression to return a number or a string for every element, got {t} for the element at index {i}"
            )));
        }
        match first {
            None => first = Some(t),
            Some(f) if f != t => {
                return Err(EvalError::invalid_type(format!(
                    "{fname}() expects the expression to return the same type for every element, got {f} for the first element but {t} for the element at index {i}"
                )))
            }
            _ => {}
        }
        keys.push(k);
    }
    Ok(keys)
}

fn extreme_by<'a>(
    ctx: &mut Ctx<'a>,
    a: &[Arg<'a>],
    fname: &str,
    want: std::cmp::Ordering,
) -> R<'a> {
    let items = elements(arg(a, 0));
    let keys = sort_keys(ctx, fname, &items, expr(a, 1)?)?;
    let mut best: Option<usize> = None;
    for i in 0..items.len() {
        best = match best {
            Some(b) if sort_cmp(&keys[i], &keys[b]) != want => Some(b),
            _ => Some(i),
        };
    }
    Ok(best
        .and_then(|i| items.get(i).cloned())
        .unwrap_or(Val::Null))
}

fn f_max_by<'a>(ctx: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    extreme_by(ctx, a, "max_by", std::cmp::Ordering::Greater)
}

fn f_min_by<'a>(ctx: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    extreme_by(ctx, a, "min_by", std::cmp::Ordering::Less)
}

fn f_sort<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let mut items = elements(arg(a, 0));
    items.sort_by(sort_cmp);
    Ok(Val::arr(items))
}

fn f_sort_by<'a>(ctx: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let items = elements(arg(a, 0));
    let keys = sort_keys(ctx, "sort_by", &items, expr(a, 1)?)?;
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&x, &y| sort_cmp(&keys[x], &keys[y]));
    Ok(Val::arr(
        order
            .into_iter()
            .filter_map(|i| items.get(i).cloned())
            .collect(),
    ))
}

fn f_to_number<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let v = arg(a, 0);
    Ok(match v.view() {
        // The number itself, not a copy through i64 or f64: it keeps the digits as written.
        View::Num(_) => v.clone(),
        View::Str(s) => parse_number(s).map(Num::val).unwrap_or(Val::Null),
        _ => Val::Null,
    })
}

/// Parses a string following the JSON number grammar.
fn parse_number(s: &str) -> Option<Num> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return None;
    }
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' {
        is_float = true;
        i += 1;
        let s0 = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s0 {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        is_float = true;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s0 = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if !is_float {
        if let Ok(n) = s.parse::<i64>() {
            return Some(Num::I(n));
        }
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Num::F)
}

// ---- general ----

fn f_contains<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let subject = arg(a, 0);
    let search = arg(a, 1);
    Ok(Val::Bool(match subject.view() {
        View::Str(s) => match search.view() {
            View::Str(t) => s.contains(t),
            _ => false,
        },
        View::Arr(items) => items.iter().any(|v| equal(&v, search)),
        _ => false,
    }))
}

fn f_length<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::Int(match arg(a, 0).view() {
        View::Str(s) => s.chars().count() as i64,
        View::Arr(x) => x.len() as i64,
        View::Obj(o) => o.len() as i64,
        _ => 0,
    }))
}

fn f_keys<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(match arg(a, 0).view() {
        View::Obj(o) => Val::arr(o.entries().into_iter().map(|(k, _)| Val::Str(k)).collect()),
        _ => Val::Null,
    })
}

fn f_values<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(match arg(a, 0).view() {
        View::Obj(o) => Val::arr(o.values()),
        _ => Val::Null,
    })
}

fn f_map<'a>(ctx: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let e = expr(a, 0)?;
    let items = elements(arg(a, 1));
    let mut out = Vec::with_capacity(items.len());
    for el in &items {
        out.push(ctx.eval(e, el)?);
    }
    Ok(Val::arr(out))
}

/// Builds an object from pairs; a repeated key keeps its first position and the last value.
fn build_object<'a>(pairs: impl Iterator<Item = (Text<'a>, Val<'a>)>) -> Val<'a> {
    let mut out: Vec<(Text<'a>, Val<'a>)> = Vec::new();
    let mut index: Option<HashMap<Rc<str>, usize>> = None;
    for (k, v) in pairs {
        if out.len() >= 16 && index.is_none() {
            index = Some(
                out.iter()
                    .enumerate()
                    .map(|(i, (k, _))| (Rc::from(k.as_str()), i))
                    .collect(),
            );
        }
        let pos = match &index {
            Some(ix) => ix.get(k.as_str()).copied(),
            None => out.iter().position(|(ok, _)| ok.as_str() == k.as_str()),
        };
        match pos {
            Some(i) => out[i].1 = v,
            None => {
                if let Some(ix) = &mut index {
                    ix.insert(Rc::from(k.as_str()), out.len());
                }
                out.push((k, v));
            }
        }
    }
    Val::Obj(Rc::new(out))
}

fn f_merge<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let mut pairs = Vec::new();
    for i in 0..a.len() {
        if let View::Obj(o) = arg(a, i).view() {
            pairs.extend(o.entries());
        }
    }
    Ok(build_object(pairs.into_iter()))
}

fn f_not_null<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    for i in 0..a.len() {
        let v = arg(a, i);
        if !v.is_null() {
            return Ok(v.clone());
        }
    }
    Ok(Val::Null)
}

fn f_reverse<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(match arg(a, 0).view() {
        View::Str(s) => Val::string(s.chars().rev().collect::<String>()),
        View::Arr(x) => Val::arr(x.iter().rev().collect()),
        _ => Val::Null,
    })
}

fn f_to_array<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let v = arg(a, 0);
    Ok(match v.view() {
        View::Arr(_) => v.clone(),
        _ => Val::arr(vec![v.clone()]),
    })
}

fn f_to_string<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let v = arg(a, 0);
    if let Some(t) = v.as_text() {
        return Ok(Val::Str(t));
    }
    let json = match v {
        Val::Ref(r) => to_json_string(r),
        other => to_json_string(&other.clone().into_value()),
    };
    Ok(Val::string(json))
}

fn f_type<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::Str(Text::B(arg(a, 0).type_name())))
}

fn f_items<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(match arg(a, 0).view() {
        View::Obj(o) => Val::arr(
            o.entries()
                .into_iter()
                .map(|(k, v)| Val::arr(vec![Val::Str(k), v]))
                .collect(),
        ),
        _ => Val::Null,
    })
}

fn f_from_items<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let items = elements(arg(a, 0));
    let mut pairs = Vec::with_capacity(items.len());
    for (i, el) in items.iter().enumerate() {
        let pair = match el.view() {
            View::Arr(p) if p.len() == 2 => match (p.get(0).and_then(|k| k.as_text()), p.get(1)) {
                (Some(k), Some(v)) => Some((k, v)),
                _ => None,
            },
            _ => None,
        };
        match pair {
            Some(p) => pairs.push(p),
            None => {
                return Err(EvalError::invalid_type(format!(
                    "from_items() expects argument 1 to be an array of [string, value] pairs, got {} at index {i}",
                    describe_short(el)
                )))
            }
        }
    }
    Ok(build_object(pairs.into_iter()))
}

fn describe_short(v: &Val<'_>) -> String {
    let s = to_json_string(&v.clone().into_value());
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(37).collect::<String>())
    } else {
        s
    }
}

fn f_zip<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let arrays: Vec<Vec<Val<'a>>> = (0..a.len()).map(|i| elements(arg(a, i))).collect();
    let n = arrays.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Val::arr(
        (0..n)
            .map(|i| Val::arr(arrays.iter().map(|arr| arr[i].clone()).collect()))
            .collect(),
    ))
}

fn f_group_by<'a>(ctx: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let e = expr(a, 1)?;
    let items = elements(arg(a, 0));
    let mut groups: Vec<(Text<'a>, Vec<Val<'a>>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, el) in items.into_iter().enumerate() {
        let k = ctx.eval(e, &el)?;
        if k.is_null() {
            continue;
        }
        let Some(key) = k.as_text() else {
            return Err(EvalError::invalid_type(format!(
                "group_by() expects the expression to return a string (or null) for every element, got {} for the element at index {i}",
                k.type_name()
            )));
        };
        match index.get(key.as_str()) {
            Some(&g) => groups[g].1.push(el),
            None => {
                index.insert(key.as_str().to_owned(), groups.len());
                groups.push((key, vec![el]));
            }
        }
    }
    Ok(Val::Obj(Rc::new(
        groups.into_iter().map(|(k, v)| (k, Val::arr(v))).collect(),
    )))
}

// ---- strings ----

fn f_starts_with<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::Bool(
        text(a, 0).as_str().starts_with(text(a, 1).as_str()),
    ))
}

fn f_ends_with<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::Bool(
        text(a, 0).as_str().ends_with(text(a, 1).as_str()),
    ))
}

fn f_join<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let glue = text(a, 0);
    let parts: Vec<Text<'a>> = elements(arg(a, 1))
        .iter()
        .filter_map(Val::as_text)
        .collect();
    let strs: Vec<&str> = parts.iter().map(Text::as_str).collect();
    Ok(Val::string(strs.join(glue.as_str())))
}

fn f_lower<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::string(text(a, 0).as_str().to_lowercase()))
}

fn f_upper<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    Ok(Val::string(text(a, 0).as_str().to_uppercase()))
}

fn find<'a>(a: &[Arg<'a>], fname: &str, last: bool) -> R<'a> {
    let subject: Vec<char> = text(a, 0).as_str().chars().collect();
    let sub: Vec<char> = text(a, 1).as_str().chars().collect();
    let start = int_arg(a, 2, fname, "start", false)?;
    let end = int_arg(a, 3, fname, "end", false)?;
    if subject.is_empty() || sub.is_empty() {
        return Ok(Val::Null);
    }
    let n = subject.len() as i64;
    let clamp = |x: i64| if x < 0 { (x + n).max(0) } else { x.min(n) };
    let start = clamp(start.unwrap_or(0)) as usize;
    let end = clamp(end.unwrap_or(n)) as usize;
    let m = sub.len();
    if end < start || end - start < m {
        return Ok(Val::Null);
    }
    let matches_at = |i: usize| subject[i..i + m] == sub[..];
    let found = if last {
        (start..=end - m).rev().find(|&i| matches_at(i))
    } else {
        (start..=end - m).find(|&i| matches_at(i))
    };
    Ok(found.map(|i| Val::Int(i as i64)).unwrap_or(Val::Null))
}

fn f_find_first<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    find(a, "find_first", false)
}

fn f_find_last<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    find(a, "find_last", true)
}

/// Upper bound for pad_left/pad_right widths, so a typo cannot exhaust memory.
const MAX_PAD_WIDTH: usize = 1 << 20;

fn pad<'a>(a: &[Arg<'a>], fname: &str, left: bool) -> R<'a> {
    let subject = text(a, 0);
    let width = int_arg(a, 1, fname, "width", true)?.unwrap_or(0) as usize;
    let pad = match opt_arg(a, 2).and_then(Val::as_text) {
        None => ' ',
        Some(p) => {
            let mut cs = p.as_str().chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(EvalError::invalid_value(format!(
                        "{fname}() expects argument 3 (pad) to be a single character, got \"{}\"",
                        p.as_str()
                    )))
                }
            }
        }
    };
    if width > MAX_PAD_WIDTH {
        return Err(EvalError::invalid_value(format!(
            "{fname}() expects argument 2 (width) to be at most {MAX_PAD_WIDTH}, got {width}"
        )));
    }
    let len = subject.as_str().chars().count();
    if len >= width {
        return Ok(Val::Str(subject));
    }
    let fill: String = std::iter::repeat_n(pad, width - len).collect();
    Ok(Val::string(if left {
        fill + subject.as_str()
    } else {
        subject.as_str().to_owned() + &fill
    }))
}

fn f_pad_left<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    pad(a, "pad_left", true)
}

fn f_pad_right<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    pad(a, "pad_right", false)
}

fn f_replace<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let subject = text(a, 0);
    let old = text(a, 1);
    let new = text(a, 2);
    let count = int_arg(a, 3, "replace", "count", true)?;
    Ok(Val::string(match count {
        Some(c) => subject
            .as_str()
            .replacen(old.as_str(), new.as_str(), c as usize),
        None => subject.as_str().replace(old.as_str(), new.as_str()),
    }))
}

fn f_split<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    let subject = text(a, 0);
    let sep = text(a, 1);
    let count = int_arg(a, 2, "split", "count", true)?;
    let s = subject.as_str();
    let parts: Vec<Val<'a>> = if sep.as_str().is_empty() {
        let limit = count.map(|c| c as usize).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut rest_at = s.len();
        for (n, (i, c)) in s.char_indices().enumerate() {
            if n >= limit {
                rest_at = i;
                break;
            }
            out.push(Val::string(c.to_string()));
        }
        if rest_at < s.len() {
            out.push(Val::string(&s[rest_at..]));
        }
        out
    } else {
        match count {
            Some(c) => s
                .splitn((c as usize).saturating_add(1), sep.as_str())
                .map(Val::string)
                .collect(),
            None => s.split(sep.as_str()).map(Val::string).collect(),
        }
    };
    Ok(Val::arr(parts))
}

fn trim_impl<'a>(a: &[Arg<'a>], left: bool, right: bool) -> R<'a> {
    let subject = text(a, 0);
    let chars = opt_arg(a, 1).and_then(Val::as_text);
    let s = subject.as_str();
    let out = match chars.as_ref().map(Text::as_str) {
        None | Some("") => match (left, right) {
            (true, true) => s.trim(),
            (true, false) => s.trim_start(),
            _ => s.trim_end(),
        },
        Some(set) => {
            let f = |c: char| set.contains(c);
            match (left, right) {
                (true, true) => s.trim_matches(f),
                (true, false) => s.trim_start_matches(f),
                _ => s.trim_end_matches(f),
            }
        }
    };
    if out.len() == s.len() {
        Ok(Val::Str(subject))
    } else {
        Ok(Val::string(out))
    }
}

fn f_trim<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    trim_impl(a, true, true)
}

fn f_trim_left<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    trim_impl(a, true, false)
}

fn f_trim_right<'a>(_: &mut Ctx<'a>, a: &[Arg<'a>]) -> R<'a> {
    trim_impl(a, false, true)
}
