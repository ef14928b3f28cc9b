//! Internal value representation used during evaluation.
//!
//! [`Val`] either borrows a node of the input / a literal / a variable
//! (`Val::Ref`) or holds a value built during evaluation. Built arrays and
//! objects are reference counted so passing them around never deep-copies,
//! and they may themselves contain borrowed values. Only the final result is
//! turned back into a `serde_json::Value`.

use std::cmp::Ordering;
use std::rc::Rc;

use serde_json::{Map, Number, Value};

/// A string that is either borrowed or shared.
#[derive(Debug, Clone)]
pub(super) enum Text<'a> {
    B(&'a str),
    O(Rc<str>),
}

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Text::B(s) => s,
            Text::O(s) => s,
        }
    }
}

/// An evaluation-time value.
#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text<'a>),
    Arr(Rc<Vec<Val<'a>>>),
    Obj(Rc<Vec<(Text<'a>, Val<'a>)>>),
    Ref(&'a Value),
}

/// A number, integer or float.
#[derive(Debug, Clone, Copy)]
pub(super) enum Num {
    I(i64),
    F(f64),
}

impl Num {
    pub(super) fn from_json(n: &Number) -> Num {
        match n.as_i64() {
            Some(i) => Num::I(i),
            None => Num::F(n.as_f64().unwrap_or(f64::NAN)),
        }
    }

    pub(super) fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    pub(super) fn val<'a>(self) -> Val<'a> {
        match self {
            Num::I(i) => Val::Int(i),
            Num::F(f) => Val::Float(f),
        }
    }

    /// The value as an exact integer, if it is one.
    pub(super) fn as_integer(self) -> Option<i64> {
        match self {
            Num::I(i) => Some(i),
            Num::F(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(f as i64),
            Num::F(_) => None,
        }
    }

    pub(super) fn cmp(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::I(a), Num::I(b)) => a.cmp(&b),
            (a, b) => a.f().partial_cmp(&b.f()).unwrap_or(Ordering::Equal),
        }
    }

    pub(super) fn eq(self, other: Num) -> bool {
        match (self, other) {
            (Num::I(a), Num::I(b)) => a == b,
            (a, b) => a.f() == b.f(),
        }
    }
}

/// A read-only view of an array value.
#[derive(Clone, Copy)]
pub(super) enum ArrView<'v, 'a> {
    J(&'a [Value]),
    O(&'v [Val<'a>]),
}

impl<'v, 'a> ArrView<'v, 'a> {
    pub(super) fn len(self) -> usize {
        match self {
            ArrView::J(a) => a.len(),
            ArrView::O(a) => a.len(),
        }
    }

    pub(super) fn get(self, i: usize) -> Option<Val<'a>> {
        match self {
            ArrView::J(a) => a.get(i).map(Val::Ref),
            ArrView::O(a) => a.get(i).cloned(),
        }
    }

    pub(super) fn iter(self) -> ArrIter<'v, 'a> {
        match self {
            ArrView::J(a) => ArrIter::J(a.iter()),
            ArrView::O(a) => ArrIter::O(a.iter()),
        }
    }
}

/// Iterator over the elements of an [`ArrView`].
pub(super) enum ArrIter<'v, 'a> {
    J(std::slice::Iter<'a, Value>),
    O(std::slice::Iter<'v, Val<'a>>),
}

impl<'a> Iterator for ArrIter<'_, 'a> {
    type Item = Val<'a>;
    #[inline]
    fn next(&mut self) -> Option<Val<'a>> {
        match self {
            ArrIter::J(it) => it.next().map(Val::Ref),
            ArrIter::O(it) => it.next().cloned(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            ArrIter::J(it) => it.size_hint(),
            ArrIter::O(it) => it.size_hint(),
        }
    }
}

impl<'a> DoubleEndedIterator for ArrIter<'_, 'a> {
    fn next_back(&mut self) -> Option<Val<'a>> {
        match self {
            ArrIter::J(it) => it.next_back().map(Val::Ref),
            ArrIter::O(it) => it.next_back().cloned(),
        }
    }
}

impl ExactSizeIterator for ArrIter<'_, '_> {}

/// A read-only view of an object value.
#[derive(Clone, Copy)]
pub(super) enum ObjView<'v, 'a> {
    J(&'a Map<String, Value>),
    O(&'v [(Text<'a>, Val<'a>)]),
}

impl<'v, 'a> ObjView<'v, 'a> {
    pub(super) fn len(self) -> usize {
        match self {
            ObjView::J(m) => m.len(),
            ObjView::O(m) => m.len(),
        }
    }

    pub(super) fn get(self, key: &str) -> Option<Val<'a>> {
        match self {
            ObjView::J(m) => lookup(m, key).map(Val::Ref),
            ObjView::O(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| v.clone()),
        }
    }

    /// Key/value pairs in order.
    pub(super) fn entries(self) -> Vec<(Text<'a>, Val<'a>)> {
        match self {
            ObjView::J(m) => m
                .iter()
                .map(|(k, v)| (Text::B(k.as_str()), Val::Ref(v)))
                .collect(),
            ObjView::O(m) => m.to_vec(),
        }
    }

    pub(super) fn values(self) -> Vec<Val<'a>> {
        match self {
            ObjView::J(m) => m.values().map(Val::Ref).collect(),
            ObjView::O(m) => m.iter().map(|(_, v)| v.clone()).collect(),
        }
    }
}

/// A typed view of a [`Val`].
pub(super) enum View<'v, 'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'v str),
    Arr(ArrView<'v, 'a>),
    Obj(ObjView<'v, 'a>),
}

impl<'a> Val<'a> {
    pub(super) fn view<'v>(&'v self) -> View<'v, 'a> {
        match self {
            Val::Null => View::Null,
            Val::Bool(b) => View::Bool(*b),
            Val::Int(i) => View::Num(Num::I(*i)),
            Val::Float(f) => View::Num(Num::F(*f)),
            Val::Str(s) => View::Str(s.as_str()),
            Val::Arr(a) => View::Arr(ArrView::O(a)),
            Val::Obj(o) => View::Obj(ObjView::O(o)),
            Val::Ref(r) => match r {
                Value::Null => View::Null,
                Value::Bool(b) => View::Bool(*b),
                Value::Number(n) => View::Num(Num::from_json(n)),
                Value::String(s) => View::Str(s),
                Value::Array(a) => View::Arr(ArrView::J(a)),
                Value::Object(o) => View::Obj(ObjView::J(o)),
            },
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Val::Null | Val::Ref(Value::Null))
    }

    pub(super) fn arr(v: Vec<Val<'a>>) -> Val<'a> {
        Val::Arr(Rc::new(v))
    }

    pub(super) fn string(s: impl Into<Rc<str>>) -> Val<'a> {
        Val::Str(Text::O(s.into()))
    }

    /// The string contents, if this is a string.
    pub(super) fn as_text(&self) -> Option<Text<'a>> {
        match self {
            Val::Str(t) => Some(t.clone()),
            Val::Ref(Value::String(s)) => Some(Text::B(s)),
            _ => None,
        }
    }

    pub(super) fn as_num(&self) -> Option<Num> {
        match self.view() {
            View::Num(n) => Some(n),
            _ => None,
        }
    }

    /// Looks up a field; anything but an object (or a missing key) gives null.
    #[inline]
    pub(super) fn field(&self, name: &str) -> Val<'a> {
        match self {
            Val::Ref(Value::Object(m)) => match lookup(m, name) {
                Some(v) => Val::Ref(v),
                None => Val::Null,
            },
            Val::Obj(o) => o
                .iter()
                .find(|(k, _)| k.as_str() == name)
                .map(|(_, v)| v.clone())
                .unwrap_or(Val::Null),
            _ => Val::Null,
        }
    }

    pub(super) fn type_name(&self) -> &'static str {
        match self.view() {
            View::Null => "null",
            View::Bool(_) => "boolean",
            View::Num(_) => "number",
            View::Str(_) => "string",
            View::Arr(_) => "array",
            View::Obj(_) => "object",
        }
    }

    pub(super) fn truthy(&self) -> bool {
        match self.view() {
            View::Null => false,
            View::Bool(b) => b,
            View::Num(_) => true,
            View::Str(s) => !s.is_empty(),
            View::Arr(a) => a.len() > 0,
            View::Obj(o) => o.len() > 0,
        }
    }

    /// Converts into a JSON value, copying borrowed parts.
    pub(super) fn into_value(self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::Number(i.into()),
            Val::Float(f) => float_value(f),
            Val::Str(s) => Value::String(s.as_str().to_owned()),
            Val::Ref(r) => deep_clone(r),
            Val::Arr(a) => match Rc::try_unwrap(a) {
                Ok(v) => Value::Array(v.into_iter().map(Val::into_value).collect()),
                Err(rc) => Value::Array(rc.iter().map(|v| v.clone().into_value()).collect()),
            },
            Val::Obj(o) => {
                let entries = match Rc::try_unwrap(o) {
                    Ok(v) => v,
                    Err(rc) => rc.as_ref().clone(),
                };
                let mut m = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    m.insert(k.as_str().to_owned(), v.into_value());
                }
                Value::Object(m)
            }
        }
    }
}

/// Map lookup; small maps are scanned linearly, which beats hashing the key.
#[inline]
pub(super) fn lookup<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if m.len() <= 16 {
        m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

/// A float as JSON; non-finite values (which JSON cannot hold) become null.
pub(super) fn float_value(f: f64) -> Value {
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Clones a JSON value. Recurses for the first levels (fast) and switches to
/// an explicit stack below that, so arbitrarily deep input is safe.
pub(super) fn deep_clone(v: &Value) -> Value {
    fn rec(v: &Value, budget: usize) -> Value {
        match v {
            Value::Array(a) if !a.is_empty() => {
                if budget == 0 {
                    return iterative_clone(v);
                }
                Value::Array(a.iter().map(|x| rec(x, budget - 1)).collect())
            }
            Value::Object(o) if !o.is_empty() => {
                if budget == 0 {
                    return iterative_clone(v);
                }
                let mut m = Map::with_capacity(o.len());
                for (k, x) in o {
                    m.insert(k.clone(), rec(x, budget - 1));
                }
                Value::Object(m)
            }
            other => other.clone(),
        }
    }
    rec(v, 64)
}

/// Clones a JSON value without recursion.
fn iterative_clone(v: &Value) -> Value {
    fn shallow(v: &Value) -> Option<Value> {
        match v {
            Value::Array(a) if !a.is_empty() => None,
            Value::Object(o) if !o.is_empty() => None,
            other => Some(other.clone()),
        }
    }
    if let Some(s) = shallow(v) {
        return s;
    }
    // Frames: a source container, the next child index and the partial copy.
    enum Partial {
        A(Vec<Value>),
        O(Map<String, Value>),
    }
    struct Frame<'s> {
        src: &'s Value,
        next: usize,
        keys: Option<serde_json::map::Iter<'s>>,
        out: Partial,
    }
    fn frame(src: &Value) -> Frame<'_> {
        match src {
            Value::Object(o) => Frame {
                src,
                next: 0,
                keys: Some(o.iter()),
                out: Partial::O(Map::with_capacity(o.len())),
            },
            Value::Array(a) => Frame {
                src,
                next: 0,
                keys: None,
                out: Partial::A(Vec::with_capacity(a.len())),
            },
            _ => Frame {
                src,
                next: 0,
                keys: None,
                out: Partial::A(Vec::new()),
            },
        }
    }
    let mut stack = vec![frame(v)];
    let mut pending_key: Vec<Option<String>> = vec![None];
    loop {
        let Some(top) = stack.last_mut() else {
            return Value::Null;
        };
        let child: Option<(Option<String>, &Value)> = match (top.src, &mut top.keys) {
            (Value::Array(a), _) => {
                let c = a.get(top.next);
                top.next += 1;
                c.map(|c| (None, c))
            }
            (Value::Object(_), Some(it)) => it.next().map(|(k, c)| (Some(k.clone()), c)),
            _ => None,
        };
        match child {
            Some((key, c)) => match shallow(c) {
                Some(s) => match &mut top.out {
                    Partial::A(a) => a.push(s),
                    Partial::O(o) => {
                        o.insert(key.unwrap_or_default(), s);
                    }
                },
                None => {
                    stack.push(frame(c));
                    pending_key.push(key);
                }
            },
            None => {
                let Some(done) = stack.pop() else {
                    return Value::Null;
                };
                let key = pending_key.pop().flatten();
                let value = match done.out {
                    Partial::A(a) => Value::Array(a),
                    Partial::O(o) => Value::Object(o),
                };
                match stack.last_mut() {
                    None => return value,
                    Some(parent) => match &mut parent.out {
                        Partial::A(a) => a.push(value),
                        Partial::O(o) => {
                            o.insert(key.unwrap_or_default(), value);
                        }
                    },
                }
            }
        }
    }
}

/// Deep equality with numeric comparison across integers and floats.
/// Iterative, so deeply nested values cannot overflow the stack.
pub(super) fn equal<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    if let (Val::Ref(x), Val::Ref(y)) = (a, b) {
        if std::ptr::eq(*x, *y) {
            return true;
        }
    }
    let mut stack: Vec<(Val<'a>, Val<'a>)> = Vec::new();
    let mut cur = (a.clone(), b.clone());
    loop {
        let same = match (cur.0.view(), cur.1.view()) {
            (View::Null, View::Null) => true,
            (View::Bool(x), View::Bool(y)) => x == y,
            (View::Num(x), View::Num(y)) => x.eq(y),
            (View::Str(x), View::Str(y)) => x == y,
            (View::Arr(x), View::Arr(y)) => {
                if x.len() != y.len() {
                    false
                } else {
                    stack.extend(x.iter().zip(y.iter()));
                    true
                }
            }
            (View::Obj(x), View::Obj(y)) => {
                if x.len() != y.len() {
                    false
                } else {
                    let mut ok = true;
                    for (k, v) in x.entries() {
                        match y.get(k.as_str()) {
                            Some(w) => stack.push((v, w)),
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    ok
                }
            }
            _ => false,
        };
        if !same {
            return false;
        }
        match stack.pop() {
            Some(next) => cur = next,
            None => return true,
        }
    }
}

/// Ordering used by sort(): numbers numerically, strings by code point.
/// Callers ensure both sides have the same type.
pub(super) fn sort_cmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a.view(), b.view()) {
        (View::Num(x), View::Num(y)) => x.cmp(y),
        (View::Str(x), View::Str(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Serialises compact JSON (same output as `serde_json::to_string`) without
/// recursion, so arbitrarily deep values are safe.
pub(super) fn to_json_string(v: &Value) -> String {
    enum Step<'v> {
        Arr(std::slice::Iter<'v, Value>, bool),
        Obj(serde_json::map::Iter<'v>, bool),
    }
    fn scalar(v: &Value, out: &mut String) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&serde_json::to_string(n).unwrap_or_default()),
            Value::String(s) => push_str_json(s, out),
            Value::Array(_) => out.push_str("[]"),
            Value::Object(_) => out.push_str("{}"),
        }
    }
    fn open<'v>(v: &'v Value, out: &mut String, stack: &mut Vec<Step<'v>>) {
        match v {
            Value::Array(a) if !a.is_empty() => {
                out.push('[');
                stack.push(Step::Arr(a.iter(), true));
            }
            Value::Object(o) if !o.is_empty() => {
                out.push('{');
                stack.push(Step::Obj(o.iter(), true));
            }
            other => scalar(other, out),
        }
    }
    let mut out = String::new();
    let mut stack: Vec<Step<'_>> = Vec::new();
    open(v, &mut out, &mut stack);
    while let Some(top) = stack.last_mut() {
        let next = match top {
            Step::Arr(it, first) => match it.next() {
                Some(child) => {
                    if !std::mem::take(first) {
                        out.push(',');
                    }
                    Some(child)
                }
                None => {
                    out.push(']');
                    None
                }
            },
            Step::Obj(it, first) => match it.next() {
                Some((k, child)) => {
                    if !std::mem::take(first) {
                        out.push(',');
                    }
                    push_str_json(k, &mut out);
                    out.push(':');
                    Some(child)
                }
                None => {
                    out.push('}');
                    None
                }
            },
        };
        match next {
            Some(child) => open(child, &mut out, &mut stack),
            None => {
                stack.pop();
            }
        }
    }
    out
}

fn push_str_json(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}
