//! Source stage: where events come from. Each source yields [`SourceEvent`]s in batches,
//! keeping each event's body byte for byte and its position in the hub (or the file).

pub mod eventhubs;
pub mod file;

use crate::ack::Progress;
use crate::event::SourceEvent;
use std::future::Future;

/// A source could not read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not connect (unreachable, refused credentials, missing hub).
    #[error("cannot read {what}: {reason}")]
    Connect {
        /// What was being opened.
        what: String,
        /// Why, in words.
        reason: String,
    },
    /// Recording a checkpoint failed.
    #[error("cannot checkpoint partition {partition}: {reason}")]
    Checkpoint {
        /// The partition.
        partition: String,
        /// Why, in words.
        reason: String,
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
    /// How this source records progress.
    type Checkpointer: Checkpointer;

    /// The next events, at most `max`; `None` once the source is exhausted.
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<SourceEvent>>, SourceError>> + Send;

    /// The handle the pipeline reports progress to; taken once, before reading starts.
    fn checkpointer(&mut self) -> Self::Checkpointer;
}

/// Records how far each partition has been handled, so a restart resumes after it. The
/// pipeline calls it only with progress the sink has confirmed (see [`crate::ack`]).
pub trait Checkpointer: Send + 'static {
    /// Records that every event up to each given position is done. Called after every
    /// step of the pipeline and at least once a second, with an empty list when nothing new
    /// is done, so that progress held back can be written on a quiet partition.
    fn commit(
        &mut self,
        progress: Vec<Progress>,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// The run is over: write what is still pending and release what the source holds
    /// (partition ownership).
    fn finish(&mut self) -> impl Future<Output = Result<(), SourceError>> + Send {
        async { Ok(()) }
    }
}

/// For sources that always start from the beginning (files, standard input): progress is
/// only logged.
#[derive(Debug, Default)]
pub struct NoCheckpoints;

impl Checkpointer for NoCheckpoints {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), SourceError> {
        for p in progress {
            tracing::trace!(partition = %p.partition, sequence_number = p.sequence_number, "handled up to");
        }
        Ok(())
    }
}
