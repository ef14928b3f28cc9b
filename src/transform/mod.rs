//! Transform stage: a destination's JMESPath expression, loaded from a file in `transforms/`
//! and compiled once at start-up, turns one message into the rows of its table.
//!
//! The expression sees the message body as `@` (and `$`, the root, which stays reachable
//! inside projections), and the event's metadata as the variable `$meta` (see
//! [`crate::event::EventMeta`]). Its result is an object (one row), an array of objects (one
//! row each) or null (no row); [`coerce`] then fits each row to the table's columns.
//!
//! Transform files may hold full-line `#` comments: they are blanked before compiling, so
//! error positions still point at the right line and column.

pub mod coerce;
pub mod jmespath;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use self::jmespath::{is_truthy, CompileError, EvalError, Expression};

/// A compiled transform, tied to the file it came from.
#[derive(Clone)]
pub struct Transform {
    path: PathBuf,
    expression: Expression,
}

impl fmt::Debug for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transform").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Why a transform file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read transform file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no expression (only comments or whitespace).
    #[error("transform file {} holds no expression (only comments or blank lines)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The expression does not compile.
    #[error("{}:{}:{}: {}\n{}", path.display(), error.line, error.column, error.message, snippet)]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The compiler's error, with its position.
        error: CompileError,
        /// The offending line with a caret under the column.
        snippet: String,
    },
}

/// A transform failed on one message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("transform {} failed: {error}", path.display())]
pub struct TransformError {
    /// The transform file.
    pub path: PathBuf,
    /// What went wrong.
    pub error: EvalError,
}

impl Transform {
    /// Reads and compiles a transform file.
    pub fn from_file(path: &Path) -> Result<Transform, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
        Transform::compile(path, &text)
    }

    /// Compiles transform text; `path` names it in errors.
    pub fn compile(path: &Path, text: &str) -> Result<Transform, LoadError> {
        let expression = compile_commented(text).map_err(|e| match e {
            None => LoadError::Empty { path: path.to_path_buf() },
            Some(error) => {
                let snippet = caret_snippet(text, error.line, error.column);
                LoadError::Syntax { path: path.to_path_buf(), error, snippet }
            }
        })?;
        Ok(Transform { path: path.to_path_buf(), expression })
    }

    /// The file this transform came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The expression's text, comments blanked.
    pub fn expression(&self) -> &str {
        self.expression.as_str()
    }

    /// Whether the expression reads `$meta` (when none does, the pipeline skips building it).
    pub fn uses_meta(&self) -> bool {
        uses_meta(&self.expression)
    }

    /// Runs the transform on a message body with its metadata bound to `$meta`.
    pub fn apply(&self, message: &Value, meta: &Value) -> Result<Value, TransformError> {
        self.expression
            .search_with(message, &[("meta", meta)])
            .map_err(|error| TransformError { path: self.path.clone(), error })
    }
}

/// The variables every transform and predicate may use besides its own `let` bindings.
pub const GLOBALS: [&str; 1] = ["meta"];

/// Compiles JMESPath text that may hold full-line `#` comments, refusing variables other
/// than [`GLOBALS`] and `let` bindings. `Err(None)` means there was nothing but comments.
pub fn compile_commented(text: &str) -> Result<Expression, Option<CompileError>> {
    let blanked = blank_comments(text);
    if blanked.trim().is_empty() {
        return Err(None);
    }
    Expression::compile_with_globals(&blanked, &GLOBALS).map_err(Some)
}

/// Whether an expression reads the `$meta` variable.
pub fn uses_meta(expression: &Expression) -> bool {
    expression.free_variables().iter().any(|v| v == "meta")
}

/// Replaces each full-line `#` comment with spaces, keeping every other byte in place.
fn blank_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with('#') {
                let body_len = line.trim_end_matches(['\n', '\r']).len();
                let mut blank = " ".repeat(body_len);
                blank.push_str(&line[body_len..]);
                blank
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// The 1-based `line` of `text`, with a caret under the 1-based `column`.
pub fn caret_snippet(text: &str, line: usize, column: usize) -> String {
    let Some(source_line) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let pad: String = source_line
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("  | {source_line}\n  | {pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_are_blanked_in_place() {
        let text = "# rows per capability\n  # another\n{a: deviceId}\n";
        let blanked = blank_comments(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.lines().nth(2), Some("{a: deviceId}"));
        let t = Transform::compile(Path::new("t.jmespath"), text).unwrap();
        assert_eq!(t.apply(&json!({"deviceId": "d"}), &Value::Null).unwrap(), json!({"a": "d"}));
    }

    #[test]
    fn meta_is_a_variable() {
        let t = Transform::compile(Path::new("t"), "{p: $meta.partition, d: deviceId}").unwrap();
        assert!(t.uses_meta());
        assert!(!Transform::compile(Path::new("t"), "let $meta = @ in $meta.a").unwrap().uses_meta());
        let out = t.apply(&json!({"deviceId": "x"}), &json!({"partition": "3"})).unwrap();
        assert_eq!(out, json!({"p": "3", "d": "x"}));
    }

    #[test]
    fn empty_files_and_syntax_errors_name_the_file() {
        let e = Transform::compile(Path::new("transforms/x.jmespath"), "# nothing\n\n").unwrap_err();
        assert!(matches!(e, LoadError::Empty { .. }));
        assert!(e.to_string().contains("transforms/x.jmespath"));
        let e = Transform::compile(Path::new("transforms/y.jmespath"), "# c\n{a: b,, c: d}").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("transforms/y.jmespath:2:"), "{text}");
        let e = Transform::from_file(Path::new("/nonexistent/z.jmespath")).unwrap_err();
        assert!(e.to_string().contains("cannot read transform file /nonexistent/z.jmespath"), "{e}");
    }

    #[test]
    fn unknown_variables_fail_at_compile_time() {
        let e = Transform::compile(Path::new("t"), "{a: $metadata.partition}").unwrap_err();
        assert!(e.to_string().contains("$metadata"), "{e}");
    }

    #[test]
    fn caret_points_at_the_column() {
        assert_eq!(caret_snippet("a\nfoo.[bar\n", 2, 5), "  | foo.[bar\n  |     ^");
        assert_eq!(caret_snippet("a", 9, 1), "");
    }
}
