//! Where dead letters go: the store's interface and its one error, beside the letters and
//! the stores that implement it.

use super::letter::DeadLetter;

/// A dead letter could not be stored. The pipeline must stop: going on would lose it.
#[derive(Debug, thiserror::Error)]
#[error("cannot write dead letter to {location}: {source}")]
pub struct DeadLetterError {
    /// Where the store tried to write.
    pub location: String,
    /// Why it failed.
    #[source]
    pub source: std::io::Error,
}

/// Where dead letters are kept.
pub trait DeadLetterStore: Send {
    /// Stores one dead letter (it may be buffered until [`DeadLetterStore::flush`]).
    fn put(&mut self, letter: &DeadLetter) -> Result<(), DeadLetterError>;
    /// Makes everything stored so far durable.
    fn flush(&mut self) -> Result<(), DeadLetterError>;
    /// Where the letters are, for people (a directory, a container URL).
    fn location(&self) -> String;
}
