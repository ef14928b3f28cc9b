//! What every source promises the pipeline: the [`Source`] trait and why a source cannot
//! read ([`SourceError`]). Apart from the folder's `mod.rs` so that the sources implement it
//! without importing the module that gathers them.

use crate::checkpoint::Checkpointer;
use crate::event::SourceEvent;
use std::future::Future;

/// A source could not read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not connect (unreachable, refused credentials, missing hub). The
    /// cause is kept: the checkpoint store's error, or the event processor's.
    #[error("cannot read {what}: {source}")]
    Connect {
        /// What was being opened.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The checkpoint container's URL has no SAS and `[auth]` names no credential, so the
    /// store could not sign in: add one or the other.
    #[error("cannot read {what}: the checkpoint container URL has no SAS and [auth] gives no credential")]
    NoCheckpointCredential {
        /// What was being opened.
        what: String,
    },
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
    /// How this source records progress (see [`crate::checkpoint`]).
    type Checkpointer: Checkpointer;

    /// The next events, at most `max`; `None` once the source is exhausted.
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<SourceEvent>>, SourceError>> + Send;

    /// The handle the pipeline reports progress to; taken once, before reading starts.
    fn checkpointer(&mut self) -> Self::Checkpointer;
}
