//! Error types: [`CompileError`] (with a source position) and [`EvalError`].

/// An expression could not be compiled.
///
/// Displays as `line L, column C: message`. Messages for unknown functions,
/// wrong argument counts and (in strict mode) unbound variables start with the
/// JMESPath error name (`unknown-function: ...`, `invalid-arity: ...`,
/// `undefined-variable: ...`); syntax errors carry no prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// What went wrong: what was expected and what was found.
    pub message: String,
    /// Byte offset into the expression text.
    pub offset: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl CompileError {
    /// Builds an error at byte `offset` of `text`, computing line and column.
    pub(super) fn at(text: &str, offset: usize, message: impl Into<String>) -> CompileError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        CompileError {
            message: message.into(),
            offset,
            line,
            column,
        }
    }

    /// The JMESPath error name (`syntax`, `unknown-function`, `invalid-arity`,
    /// `invalid-type`, `invalid-value`, `undefined-variable`).
    pub fn kind(&self) -> &str {
        kind_of(&self.message).unwrap_or("syntax")
    }
}

/// Evaluation failed (wrong argument type, division by zero, unbound variable...).
///
/// The message starts with the JMESPath error name, e.g.
/// `invalid-type: sum() expects argument 1 to be array[number], got string`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// Human-readable description, prefixed with the JMESPath error name.
    pub message: String,
}

impl EvalError {
    pub(super) fn new(kind: &str, detail: impl std::fmt::Display) -> EvalError {
        EvalError {
            message: format!("{kind}: {detail}"),
        }
    }

    pub(super) fn invalid_type(detail: impl std::fmt::Display) -> EvalError {
        EvalError::new("invalid-type", detail)
    }

    pub(super) fn invalid_value(detail: impl std::fmt::Display) -> EvalError {
        EvalError::new("invalid-value", detail)
    }

    pub(super) fn not_a_number(detail: impl std::fmt::Display) -> EvalError {
        EvalError::new("not-a-number", detail)
    }

    /// The JMESPath error name (`invalid-type`, `invalid-value`,
    /// `not-a-number`, `undefined-variable`, ...).
    pub fn kind(&self) -> &str {
        kind_of(&self.message).unwrap_or("error")
    }
}

fn kind_of(message: &str) -> Option<&str> {
    let (head, _) = message.split_once(": ")?;
    if !head.is_empty() && head.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        Some(head)
    } else {
        None
    }
}
