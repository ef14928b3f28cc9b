//! A public, read-only view of an evaluation result.
//!
//! [`Expression::search`](super::Expression::search) turns its result into a
//! `serde_json::Value`, which copies every key and every referenced piece of
//! the input. A caller that only reads the result once (the row encoder, which
//! writes each cell straight into a payload) can use
//! [`Expression::search_view`](super::Expression::search_view) instead and
//! walk the result through a [`View`] without that copy.
//!
//! A view shows exactly what `search` would have returned: the same JSON
//! types, the same keys in the same order, the same numbers (a non-finite
//! float, which `search` turns into null, is null here too).

use std::fmt;

use serde_json::Value;

use super::value::{deep_clone, Text, Val};

/// The JSON type of a viewed value, so callers can branch without
/// materialising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// An integer or a finite float.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// The type of a `serde_json::Value`.
    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// The type's name as error messages spell it (`"null"`, `"boolean"`,
    /// `"number"`, `"string"`, `"array"`, `"object"`), the names JMESPath's `type()` gives
    /// (and iotc-adx's messages use for a `serde_json::Value`).
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// A borrowed, read-only view of a JSON value produced by an expression.
///
/// It exists so that a result can be consumed without first being copied into
/// a `serde_json::Value`: parts of the result that point into the input (or a
/// variable, or a literal) are available as `&serde_json::Value` through
/// [`View::as_json`], and values built during evaluation are read through the
/// typed accessors. Cheap to copy.
#[derive(Clone, Copy)]
pub struct View<'v> {
    repr: Repr<'v>,
}

/// What a view points at. A `Val::Ref` is always unwrapped to `Json`.
#[derive(Clone, Copy)]
enum Repr<'v> {
    Json(&'v Value),
    Val(&'v Val<'v>),
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("View").field(&self.to_value()).finish()
    }
}

impl<'v> View<'v> {
    /// A view of a plain JSON value, so code written against views (such as
    /// the row encoder) also serves callers that already hold a
    /// `serde_json::Value`.
    pub fn json(value: &'v Value) -> View<'v> {
        View {
            repr: Repr::Json(value),
        }
    }

    /// A view of an evaluation-time value.
    pub(super) fn of(val: &'v Val<'v>) -> View<'v> {
        match val {
            Val::Ref(r) => View::json(r),
            other => View {
                repr: Repr::Val(other),
            },
        }
    }

    /// The JSON type of the value, as `search` would return it.
    pub fn json_type(self) -> JsonType {
        match self.repr {
            Repr::Json(v) => match v {
                Value::Null => JsonType::Null,
                Value::Bool(_) => JsonType::Bool,
                Value::Number(_) => JsonType::Number,
                Value::String(_) => JsonType::String,
                Value::Array(_) => JsonType::Array,
                Value::Object(_) => JsonType::Object,
            },
            Repr::Val(v) => match v {
                Val::Null => JsonType::Null,
                Val::Bool(_) => JsonType::Bool,
                Val::Int(_) => JsonType::Number,
                Val::Float(f) if f.is_finite() => JsonType::Number,
                Val::Float(_) => JsonType::Null,
                Val::Str(_) => JsonType::String,
                Val::Arr(_) => JsonType::Array,
                Val::Obj(_) => JsonType::Object,
                Val::Ref(r) => View::json(r).json_type(),
            },
        }
    }

    /// Whether the value is null.
    pub fn is_null(self) -> bool {
        self.json_type() == JsonType::Null
    }

    /// The value itself when it is part of the input, a variable or a literal
    /// (the common case for cells such as `$.deviceId`): callers can use it
    /// directly, with nothing copied. `None` for values built by the
    /// expression.
    pub fn as_json(self) -> Option<&'v Value> {
        match self.repr {
            Repr::Json(v) => Some(v),
            Repr::Val(Val::Ref(v)) => Some(v),
            Repr::Val(_) => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(self) -> Option<bool> {
        match self.repr {
            Repr::Json(v) => v.as_bool(),
            Repr::Val(Val::Bool(b)) => Some(*b),
            Repr::Val(Val::Ref(v)) => v.as_bool(),
            Repr::Val(_) => None,
        }
    }

    /// The number, if it is an integer that fits an `i64` (a float such as
    /// `3.0` is not: `search` keeps it a float).
    pub fn as_i64(self) -> Option<i64> {
        match self.repr {
            Repr::Json(v) => v.as_i64(),
            Repr::Val(Val::Int(i)) => Some(*i),
            Repr::Val(Val::Ref(v)) => v.as_i64(),
            Repr::Val(_) => None,
        }
    }

    /// The number as a float, if the value is a number (integer or finite
    /// float).
    pub fn as_f64(self) -> Option<f64> {
        match self.repr {
            Repr::Json(v) => v.as_f64(),
            Repr::Val(Val::Int(i)) => Some(*i as f64),
            Repr::Val(Val::Float(f)) if f.is_finite() => Some(*f),
            Repr::Val(Val::Ref(v)) => v.as_f64(),
            Repr::Val(_) => None,
        }
    }

    /// The text, if the value is a string.
    pub fn as_str(self) -> Option<&'v str> {
        match self.repr {
            Repr::Json(v) => v.as_str(),
            Repr::Val(Val::Str(t)) => Some(t.as_str()),
            Repr::Val(Val::Ref(v)) => v.as_str(),
            Repr::Val(_) => None,
        }
    }

    /// The key/value pairs in order, if the value is an object. Keys are
    /// unique.
    pub fn entries(self) -> Option<Entries<'v>> {
        match self.repr {
            Repr::Json(Value::Object(m)) => Some(Entries(EntriesRepr::Json(m.iter()))),
            Repr::Val(Val::Obj(o)) => Some(Entries(EntriesRepr::Val(o.iter()))),
            Repr::Val(Val::Ref(v)) => View::json(v).entries(),
            _ => None,
        }
    }

    /// The elements in order, if the value is an array.
    pub fn elements(self) -> Option<Elements<'v>> {
        match self.repr {
            Repr::Json(Value::Array(a)) => Some(Elements(ElementsRepr::Json(a.iter()))),
            Repr::Val(Val::Arr(a)) => Some(Elements(ElementsRepr::Val(a.iter()))),
            Repr::Val(Val::Ref(v)) => View::json(v).elements(),
            _ => None,
        }
    }

    /// Copies the value into a `serde_json::Value`, equal to what `search`
    /// returns. For the cases the accessors above do not cover cheaply.
    pub fn to_value(self) -> Value {
        match self.repr {
            Repr::Json(v) => deep_clone(v),
            Repr::Val(v) => v.clone().into_value(),
        }
    }
}

/// Iterator over an object's `(key, value)` pairs, from [`View::entries`].
pub struct Entries<'v>(EntriesRepr<'v>);

enum EntriesRepr<'v> {
    Json(serde_json::map::Iter<'v>),
    Val(std::slice::Iter<'v, (Text<'v>, Val<'v>)>),
}

impl<'v> Iterator for Entries<'v> {
    type Item = (&'v str, View<'v>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            EntriesRepr::Json(it) => it.next().map(|(k, v)| (k.as_str(), View::json(v))),
            EntriesRepr::Val(it) => it.next().map(|(k, v)| (k.as_str(), View::of(v))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            EntriesRepr::Json(it) => it.size_hint(),
            EntriesRepr::Val(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for Entries<'_> {}

/// Iterator over an array's elements, from [`View::elements`].
pub struct Elements<'v>(ElementsRepr<'v>);

enum ElementsRepr<'v> {
    Json(std::slice::Iter<'v, Value>),
    Val(std::slice::Iter<'v, Val<'v>>),
}

impl<'v> Iterator for Elements<'v> {
    type Item = View<'v>;

    #[inline]
    fn next(&mut self) -> Option<View<'v>> {
        match &mut self.0 {
            ElementsRepr::Json(it) => it.next().map(View::json),
            ElementsRepr::Val(it) => it.next().map(View::of),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            ElementsRepr::Json(it) => it.size_hint(),
            ElementsRepr::Val(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for Elements<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expression;
    use serde_json::json;

    /// Runs `expr` on `input` both ways and checks the view agrees with `search`.
    fn agree(expr: &str, input: &Value) {
        let e = Expression::compile(expr).unwrap();
        let expected = e.search(input).unwrap();
        let viewed = e
            .search_view(input, &[], |v| (v.to_value(), v.json_type()))
            .unwrap();
        assert_eq!(viewed.0, expected, "{expr}");
        assert_eq!(viewed.1.name(), JsonType::of(&expected).name(), "{expr}");
    }

    fn input() -> Value {
        json!({"a": 1, "s": "x", "o": {"k": [1, 2.5, null, true]}, "f": 1.5, "big": 18446744073709551615_u64})
    }

    #[test]
    fn views_agree_with_search() {
        let input = input();
        for expr in [
            "@",
            "a",
            "s",
            "o",
            "o.k",
            "missing",
            "a + `1`",
            "f * `2`",
            "`1` / `3`",
            "!a",
            "to_string(a)",
            "{x: a, y: [s, o]}",
            "items(@)",
            "o.k[?@]",
            "`[null, 1]`",
            "big",
            "merge(o, {z: a})",
        ] {
            agree(expr, &input);
        }
    }

    #[test]
    fn references_are_borrowed_and_built_values_are_not() {
        let input = input();
        let e = Expression::compile("{r: o, b: a + `1`, s: join('', [s, s]), k: items(o)[0][0]}")
            .unwrap();
        e.search_view(&input, &[], |v| {
            assert_eq!(v.json_type(), JsonType::Object);
            assert!(v.as_json().is_none(), "a built object is not borrowed");
            let entries: Vec<(&str, View<'_>)> = v.entries().unwrap().collect();
            assert_eq!(
                entries.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
                ["r", "b", "s", "k"]
            );
            let r = entries[0].1.as_json().unwrap();
            assert!(
                std::ptr::eq(r, &input["o"]),
                "the reference points into the input"
            );
            assert_eq!(entries[1].1.as_i64(), Some(2));
            assert_eq!(entries[1].1.as_json(), None);
            assert_eq!(entries[2].1.as_str(), Some("xx"));
            assert_eq!(entries[3].1.as_str(), Some("k"));
            assert!(v.elements().is_none());
        })
        .unwrap();
        let e = Expression::compile("@").unwrap();
        e.search_view(&input, &[], |v| {
            assert!(std::ptr::eq(v.as_json().unwrap(), &input))
        })
        .unwrap();
    }

    #[test]
    fn scalar_accessors() {
        let e = Expression::compile("[`1.0` * `3`, `7`, `true`, `\"t\"`, `null`, a]").unwrap();
        e.search_view(&json!({"a": -4}), &[], |v| {
            let els: Vec<View<'_>> = v.elements().unwrap().collect();
            assert_eq!(els.len(), 6);
            assert_eq!(
                (els[0].as_i64(), els[0].as_f64()),
                (None, Some(3.0)),
                "a float stays a float"
            );
            assert_eq!((els[1].as_i64(), els[1].as_f64()), (Some(7), Some(7.0)));
            assert_eq!(els[2].as_bool(), Some(true));
            assert_eq!(els[3].as_str(), Some("t"));
            assert!(els[4].is_null());
            assert_eq!(els[5].as_i64(), Some(-4));
            assert!(els.iter().all(|e| e.entries().is_none()));
        })
        .unwrap();
    }

    #[test]
    fn errors_are_returned_and_the_closure_not_called() {
        let e = Expression::compile("a / `0`").unwrap();
        let mut called = false;
        assert!(e
            .search_view(&json!({"a": 1}), &[], |_| called = true)
            .is_err());
        assert!(!called);
    }

    #[test]
    fn variables_are_borrowed() {
        let meta = json!({"p": "3"});
        let e = Expression::compile("$meta.p").unwrap();
        e.search_view(&json!({}), &[("meta", &meta)], |v| {
            assert!(std::ptr::eq(v.as_json().unwrap(), &meta["p"]))
        })
        .unwrap();
    }
}
