//! TEMPORARY shim over `jmespath_community` with the engine's API, replaced by our own engine.
use serde_json::Value;
use std::sync::Arc;

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Expression { text: Arc<str> }

/// Compile error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError { pub message: String, pub offset: usize, pub line: usize, pub column: usize }

/// Evaluation error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EvalError { pub message: String }

impl Expression {
    /// Compile.
    pub fn compile(text: &str) -> Result<Expression, CompileError> {
        jmespath_community::parse(text).map_err(|e| CompileError { message: e.to_string(), offset: 0, line: 1, column: 1 })?;
        Ok(Expression { text: text.into() })
    }
    /// Search.
    pub fn search(&self, root: &Value) -> Result<Value, EvalError> { self.search_with(root, &[]) }
    /// Search with variables.
    pub fn search_with(&self, root: &Value, vars: &[(&str, &Value)]) -> Result<Value, EvalError> {
        let mut text = String::new();
        for (n, v) in vars { text.push_str(&format!("let ${n} = `{}` in ", serde_json::to_string(v).unwrap_or_default().replace('`', "\\`"))); }
        text.push('('); text.push_str(&self.text); text.push(')');
        let err = |e: jmespath_community::errors::Error| EvalError { message: e.to_string() };
        let ast = jmespath_community::parse(&text).map_err(err)?;
        let data = jmespath_community::Value::from_json(&root.to_string()).map_err(|e| EvalError { message: e.to_string() })?;
        let r = ast.search(&data).map_err(err)?;
        let mut v: Value = serde_json::from_str(&r.to_string()).map_err(|e| EvalError { message: e.to_string() })?;
        fix_ints(&mut v);
        Ok(v)
    }
    /// Source text.
    pub fn as_str(&self) -> &str { &self.text }
}
fn fix_ints(v: &mut Value) {
    match v {
        Value::Number(n) => if let Some(f) = n.as_f64() { if f.fract() == 0.0 && f.abs() < 9e15 && !n.is_i64() { *v = Value::from(f as i64); } },
        Value::Array(a) => a.iter_mut().for_each(fix_ints),
        Value::Object(o) => o.values_mut().for_each(fix_ints),
        _ => {}
    }
}
/// Truthiness.
pub fn is_truthy(v: &Value) -> bool {
    match v { Value::Null => false, Value::Bool(b) => *b, Value::String(s) => !s.is_empty(), Value::Array(a) => !a.is_empty(), Value::Object(o) => !o.is_empty(), Value::Number(_) => true }
}
