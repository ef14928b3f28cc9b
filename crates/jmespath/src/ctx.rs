//! The state of one `search` call: the input's root, the caller's global variables and the
//! values bound by enclosing `let` expressions. The evaluator (`eval.rs`) and the built-in
//! functions both work on it.

use serde_json::Value;

use super::value::Val;

/// Evaluation state for one `search` call.
pub(super) struct Ctx<'a> {
    pub(super) root: &'a Value,
    pub(super) vars: &'a [(&'a str, &'a Value)],
    /// Values bound by enclosing `let` expressions, outermost first.
    pub(super) env: Vec<Val<'a>>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(root: &'a Value, vars: &'a [(&'a str, &'a Value)]) -> Ctx<'a> {
        Ctx {
            root,
            vars,
            env: Vec::new(),
        }
    }
}
