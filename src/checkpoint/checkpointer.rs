//! The trait through which the pipeline's confirmed progress reaches a source's checkpoint
//! store, and the error a write can end in.

use super::Progress;
use std::future::Future;

/// A checkpoint could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Recording a checkpoint failed.
    #[error("cannot checkpoint partition {partition}: {source}")]
    Write {
        /// The partition (`*` when several were concerned).
        partition: String,
        /// What the store reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The task writing checkpoints ended without an outcome (it panicked or was cancelled).
    #[error("the checkpoint writer ended abnormally: {0}")]
    Aborted(#[source] tokio::task::JoinError),
}

/// Records how far each partition has been handled, so a restart resumes after it. The
/// pipeline calls it only with progress the sink has confirmed (see [`crate::checkpoint`]).
pub trait Checkpointer: Send + 'static {
    /// Records that every event up to each given position is done. Called by the
    /// [`super::CheckpointWriter`]'s task, one call at a time, after steps of the pipeline and
    /// at least once a second, with an empty list when nothing new is done, so that progress
    /// held back can be written on a quiet partition.
    fn commit(
        &mut self,
        progress: Vec<Progress>,
    ) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// The run is over: write what is still pending and release what the source holds
    /// (partition ownership).
    fn finish(&mut self) -> impl Future<Output = Result<(), CheckpointError>> + Send {
        async { Ok(()) }
    }
}

/// For sources that always start from the beginning (files, standard input): progress is
/// only logged.
#[derive(Debug, Default)]
pub struct NoCheckpoints;

impl Checkpointer for NoCheckpoints {
    async fn commit(&mut self, progress: Vec<Progress>) -> Result<(), CheckpointError> {
        for p in progress {
            tracing::trace!(partition = %p.partition, sequence_number = p.sequence_number, "handled up to");
        }
        Ok(())
    }
}
