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
mod json_text;
/// The JMESPath engine (its own crate, `crates/jmespath`), under the name the stages use.
pub use iotc_adx_jmespath as jmespath;
mod number_text;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use self::coerce::{encode_view, RowError};
pub use self::jmespath::{is_truthy, CompileError, EvalError, Expression};
use crate::schema::TableSchema;

/// A compiled transform, tied to the file it came from.
#[derive(Clone)]
pub struct Transform {
    path: PathBuf,
    expression: Expression,
}

impl fmt::Debug for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transform")
            .field("path", &self.path)
            .finish_non_exhaustive()
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

/// Why [`Transform::apply_encoded`] produced no rows: the two stages it fuses fail
/// separately, and the pipeline reports them under different stage names.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApplyError {
    /// Evaluating the expression failed (the "transform" stage).
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// The result does not fit the table (the "coerce" stage).
    #[error(transparent)]
    Rows(#[from] RowError),
}

impl Transform {
    /// Reads and compiles a transform file.
    pub fn from_file(path: &Path) -> Result<Transform, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Transform::compile(path, &text)
    }

    /// Compiles transform text; `path` names it in errors.
    pub fn compile(path: &Path, text: &str) -> Result<Transform, LoadError> {
        let expression = compile_commented(text).map_err(|e| match e {
            None => LoadError::Empty {
                path: path.to_path_buf(),
            },
            Some(error) => {
                let snippet = caret_snippet(text, error.line, error.column);
                LoadError::Syntax {
                    path: path.to_path_buf(),
                    error,
                    snippet,
                }
            }
        })?;
        Ok(Transform {
            path: path.to_path_buf(),
            expression,
        })
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
            .map_err(|error| TransformError {
                path: self.path.clone(),
                error,
            })
    }

    /// Runs the transform and encodes its rows for `schema` into `out` in one go, returning
    /// how many rows were written. Same result as [`Transform::apply`] followed by
    /// [`coerce::encode_rows`], without copying the result into a `serde_json::Value` first
    /// (that copy used to cost more than the evaluation). On error `out` is left as it was.
    pub fn apply_encoded(
        &self,
        message: &Value,
        meta: &Value,
        schema: &TableSchema,
        out: &mut Vec<u8>,
    ) -> Result<usize, ApplyError> {
        let rows = self
            .expression
            .search_view(message, &[("meta", meta)], |result| {
                encode_view(result, schema, out)
            })
            .map_err(|error| TransformError {
                path: self.path.clone(),
                error,
            })?;
        Ok(rows?)
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
        assert_eq!(
            t.apply(&json!({"deviceId": "d"}), &Value::Null).unwrap(),
            json!({"a": "d"})
        );
    }

    #[test]
    fn meta_is_a_variable() {
        let t = Transform::compile(Path::new("t"), "{p: $meta.partition, d: deviceId}").unwrap();
        assert!(t.uses_meta());
        assert!(
            !Transform::compile(Path::new("t"), "let $meta = @ in $meta.a")
                .unwrap()
                .uses_meta()
        );
        let out = t
            .apply(&json!({"deviceId": "x"}), &json!({"partition": "3"}))
            .unwrap();
        assert_eq!(out, json!({"p": "3", "d": "x"}));
    }

    #[test]
    fn empty_files_and_syntax_errors_name_the_file() {
        let e =
            Transform::compile(Path::new("transforms/x.jmespath"), "# nothing\n\n").unwrap_err();
        assert!(matches!(e, LoadError::Empty { .. }));
        assert!(e.to_string().contains("transforms/x.jmespath"));
        let e = Transform::compile(Path::new("transforms/y.jmespath"), "# c\n{a: b,, c: d}")
            .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("transforms/y.jmespath:2:"), "{text}");
        let e = Transform::from_file(Path::new("/nonexistent/z.jmespath")).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot read transform file /nonexistent/z.jmespath"),
            "{e}"
        );
    }

    #[test]
    fn unknown_variables_fail_at_compile_time() {
        let e = Transform::compile(Path::new("t"), "{a: $metadata.partition}").unwrap_err();
        assert!(e.to_string().contains("$metadata"), "{e}");
    }

    /// A message with one value of every JSON type and some strings in wire form.
    fn message() -> Value {
        json!({
            "s": "text \"q\" é", "n": 12, "neg": -5, "f": 2.5, "b": true, "o": {"k": 1}, "a": [1, "x"],
            "dt": "2020-08-05T22:26:55.455Z", "big": 18446744073709551615_u64, "z": null,
        })
    }

    /// Cells covering borrowed values, every kind of built value and the general paths.
    const CELLS: [&str; 31] = [
        "s",
        "n",
        "neg",
        "f",
        "b",
        "o",
        "a",
        "dt",
        "big",
        "z",
        "missing",
        "n + `0`",
        "neg * `1`",
        "`3000000000` + `0`",
        "`1` / `4`",
        "`1.0` * `3`",
        "f * `2`",
        "big + `0`",
        "!`false`",
        "!b",
        "to_string(n)",
        "to_string(f)",
        "join('', ['2020-08-05T22:26:55.455', 'Z'])",
        "join('', ['2020-08-05 22:26:55'])",
        "join('', ['TRUE'])",
        "join('', [' 42 '])",
        "join('', ['{1DFFA667-9BEE-4F16-B243-25AD4151475E}'])",
        "join('', ['1.02:03:04.5'])",
        "items(o)",
        "{k: s, v: [n]}",
        "sum(`[1e308, 1e308]`)",
    ];

    /// What the pipeline did before `apply_encoded`: copy the result, then encode it.
    fn encoded_after_copy(
        t: &Transform,
        message: &Value,
        schema: &TableSchema,
    ) -> Result<String, String> {
        let mut out = b"keep\n".to_vec();
        let result = t
            .apply(message, &Value::Null)
            .map_err(|e| format!("transform: {e}"))?;
        coerce::encode_rows(&result, schema, &mut out).map_err(|e| format!("rows: {e}"))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn encoded_from_view(
        t: &Transform,
        message: &Value,
        schema: &TableSchema,
    ) -> Result<String, String> {
        let mut out = b"keep\n".to_vec();
        let outcome = t.apply_encoded(message, &Value::Null, schema, &mut out);
        assert!(
            outcome.is_ok() || out == b"keep\n",
            "a failure leaves the buffer as it was"
        );
        match outcome {
            Ok(_) => Ok(String::from_utf8_lossy(&out).into_owned()),
            Err(ApplyError::Transform(e)) => Err(format!("transform: {e}")),
            Err(ApplyError::Rows(e)) => Err(format!("rows: {e}")),
        }
    }

    fn same_both_ways(expression: &str, columns: &str) {
        let t = Transform::compile(Path::new("t.jmespath"), expression).unwrap();
        let schema = TableSchema::parse(columns).unwrap();
        let message = message();
        assert_eq!(
            encoded_from_view(&t, &message, &schema),
            encoded_after_copy(&t, &message, &schema),
            "{expression} into {columns}"
        );
    }

    #[test]
    fn every_type_and_cell_encodes_as_before() {
        for kind in crate::schema::KustoType::ALL {
            for cell in CELLS {
                same_both_ways(&format!("{{C: {cell}}}"), &format!("C:{kind}"));
                same_both_ways(
                    &format!("[{{D: n, C: {cell}}}, `null`, {{C: {cell}}}]"),
                    &format!("C:{kind}, D:long"),
                );
            }
        }
    }

    #[test]
    fn row_shapes_encode_as_before() {
        let all = "s:string, n:int, neg:long, f:real, b:bool, o:dynamic, a:dynamic, dt:datetime, big:decimal, z:guid";
        for (expression, columns) in [
            ("@", all),
            ("[@, `null`, @]", all),
            ("`[null]`", "C:string"),
            ("`null`", "C:string"),
            ("missing", "C:string"),
            ("[`1`]", "C:string"),
            ("[n]", "C:string"),
            ("s", "C:string"),
            ("`{\"C\": 1}`", "C:string"),
            ("{C: s, Nope: n}", "C:string"),
            ("{C: s, D: n}", "D:string, C:string"),
            ("{C: o, Nope: n}", "C:int"),
            ("items(@)[*].{K: [0], V: [1]}", "K:string, V:dynamic"),
            ("items(@)[*].{K: [0], V: [1]}", "K:string, V:string"),
            ("items(@)[*].{K: [0], V: [1]}", "K:string, V:long"),
            ("n / `0`", "C:string"),
        ] {
            same_both_ways(expression, columns);
        }
    }

    #[test]
    fn apply_encoded_tells_the_stages_apart() {
        let schema = TableSchema::parse("C:int").unwrap();
        let t = Transform::compile(Path::new("t.jmespath"), "{C: n / `0`}").unwrap();
        let e = t
            .apply_encoded(&message(), &Value::Null, &schema, &mut Vec::new())
            .unwrap_err();
        assert!(matches!(e, ApplyError::Transform(_)), "{e}");
        assert_eq!(
            e.to_string(),
            t.apply(&message(), &Value::Null).unwrap_err().to_string()
        );
        let t = Transform::compile(Path::new("t.jmespath"), "{C: s, X: n}").unwrap();
        let e = t
            .apply_encoded(&message(), &Value::Null, &schema, &mut Vec::new())
            .unwrap_err();
        assert!(
            matches!(&e, ApplyError::Rows(coerce::RowError::UnknownColumn { field, .. }) if field == "X"),
            "{e}"
        );
        let t = Transform::compile(Path::new("t.jmespath"), "{C: s}").unwrap();
        let e = t
            .apply_encoded(&message(), &Value::Null, &schema, &mut Vec::new())
            .unwrap_err();
        assert!(
            matches!(e, ApplyError::Rows(coerce::RowError::BadValue { .. })),
            "{e}"
        );
    }

    #[test]
    fn apply_encoded_binds_meta() {
        let schema = TableSchema::parse("P:string, D:string").unwrap();
        let t = Transform::compile(Path::new("t"), "{P: $meta.partition, D: deviceId}").unwrap();
        let mut out = Vec::new();
        let rows = t
            .apply_encoded(
                &json!({"deviceId": "x"}),
                &json!({"partition": "3"}),
                &schema,
                &mut out,
            )
            .unwrap();
        assert_eq!(
            (rows, out.as_slice()),
            (1, &b"{\"P\":\"3\",\"D\":\"x\"}\n"[..])
        );
    }

    #[test]
    fn caret_points_at_the_column() {
        assert_eq!(
            caret_snippet("a\nfoo.[bar\n", 2, 5),
            "  | foo.[bar\n  |     ^"
        );
        assert_eq!(caret_snippet("a", 9, 1), "");
    }
}
