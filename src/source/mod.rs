//! Source stage: where events come from. Each source yields [`SourceEvent`]s in batches,
//! keeping each event's body byte for byte and its position in the hub (or the file).

pub mod file;

use crate::event::SourceEvent;

/// A source could not read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Reading a local file or standard input failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file, directory or `standard input`.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A stream of events. Sources run in a task of their own, feeding the pipeline through a
/// bounded channel, so their futures must be `Send`.
pub trait Source: Send + 'static {
    /// The next events, at most `max`; `None` once the source is exhausted.
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl std::future::Future<Output = Result<Option<Vec<SourceEvent>>, SourceError>> + Send;
}
