//! A self-contained JMESPath engine (JMESPath specification plus the JMESPath
//! Community additions: `let` scoping, the `$` root reference, arithmetic and
//! the extra object/string functions).
//!
//! Expressions are compiled once with [`Expression::compile`] and evaluated many
//! times with [`Expression::search`] / [`Expression::search_with`]. Evaluation
//! borrows from the input document and only copies what ends up in the result;
//! [`Expression::search_view`] skips even that copy, handing the result to a
//! closure as a borrowed [`View`].
//!
//! Numbers keep their kind: an integer in the input stays an integer in the
//! output, exact integer arithmetic stays integral (overflow falls back to a
//! float), `/` always yields a float and `//` is floor division.
//!
//! ```
//! use iotc_adx_jmespath::Expression;
//! let expr = Expression::compile("items(@)[*].{k: [0], v: [1]}").unwrap();
//! let out = expr.search(&serde_json::json!({"a": 1})).unwrap();
//! assert_eq!(out, serde_json::json!([{"k": "a", "v": 1}]));
//! ```

mod ast;
mod ctx;
mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod value;
mod view;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

pub use error::{CompileError, EvalError};
pub use view::{Elements, Entries, JsonType, View};

/// A compiled JMESPath expression.
///
/// Compile once at start-up, evaluate per message. Cheap to clone (the syntax
/// tree is shared) and safe to share between threads.
#[derive(Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

struct Inner {
    text: String,
    ast: ast::Node,
    globals: Vec<String>,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.inner.text).finish()
    }
}

impl std::fmt::Display for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.inner.text)
    }
}

impl Expression {
    /// Compiles `text`. Syntax errors, unknown functions, wrong argument
    /// counts and misplaced `&expr` arguments are reported here.
    pub fn compile(text: &str) -> Result<Expression, CompileError> {
        let (ast, globals) = parser::parse(text)?;
        Ok(Expression {
            inner: Arc::new(Inner {
                text: text.to_owned(),
                ast,
                globals,
            }),
        })
    }

    /// Like [`Expression::compile`], but also rejects references to variables
    /// that are neither bound by an enclosing `let` nor listed in `globals`
    /// (names without the `$`). Use this when the set of variables passed to
    /// [`Expression::search_with`] is known at start-up.
    pub fn compile_with_globals(text: &str, globals: &[&str]) -> Result<Expression, CompileError> {
        parser::parse_strict(text, globals)?;
        Expression::compile(text)
    }

    /// Evaluates the expression against `root` (also what `$` refers to).
    pub fn search(&self, root: &Value) -> Result<Value, EvalError> {
        self.search_with(root, &[])
    }

    /// Evaluates the expression with variables pre-bound in the outermost
    /// scope: `[("meta", &meta)]` makes `$meta` available everywhere. Names are
    /// given without the `$`; a `let` binding of the same name shadows them.
    pub fn search_with(&self, root: &Value, vars: &[(&str, &Value)]) -> Result<Value, EvalError> {
        self.evaluate(root, vars, |out| out.into_value())
    }

    /// Like [`Expression::search_with`], but instead of copying the result
    /// into a `serde_json::Value` it passes `f` a [`View`] of it, which
    /// borrows from `root`, `vars` and values built during evaluation, and
    /// returns what `f` returns. This exists for callers that read the result
    /// once and throw it away (the row encoder): copying every key and every
    /// referenced part of the input costs more than evaluating the expression.
    /// `f` is not called when evaluation fails.
    pub fn search_view<R>(
        &self,
        root: &Value,
        vars: &[(&str, &Value)],
        f: impl FnOnce(View<'_>) -> R,
    ) -> Result<R, EvalError> {
        self.evaluate(root, vars, |out| f(View::of(&out)))
    }

    /// Evaluates the expression and hands the internal result to `finish`.
    fn evaluate<R>(
        &self,
        root: &Value,
        vars: &[(&str, &Value)],
        finish: impl FnOnce(value::Val<'_>) -> R,
    ) -> Result<R, EvalError> {
        let mut ctx = ctx::Ctx::new(root, vars);
        let out = ctx.eval(&self.inner.ast, &value::Val::Ref(root))?;
        Ok(finish(out))
    }

    /// The source text this expression was compiled from.
    pub fn as_str(&self) -> &str {
        &self.inner.text
    }

    /// Names (without `$`) of the variables this expression uses that no
    /// enclosing `let` binds; they must be supplied to
    /// [`Expression::search_with`] when evaluation reaches them.
    pub fn free_variables(&self) -> &[String] {
        &self.inner.globals
    }
}

/// JMESPath truthiness: `false`, `null`, `""`, `[]` and `{}` are false,
/// everything else (including `0`) is true.
pub fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(_) => true,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}
