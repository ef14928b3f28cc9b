//! Why a query was refused, with the position of the culprit.

/// Why a query was refused: a Kusto-like message and the 0-based character offset of the culprit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct KqlError {
    /// Human-readable reason, e.g. "Failed to resolve scalar expression named 'x'".
    pub message: String,
    /// 0-based character (not byte) offset in the query text.
    pub position: usize,
}

impl KqlError {
    /// Builds an error at `position`.
    pub fn new(message: impl Into<String>, position: usize) -> Self {
        KqlError {
            message: message.into(),
            position,
        }
    }
}
