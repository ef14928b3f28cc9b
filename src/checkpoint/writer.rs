//! Checkpoint writes beside the read loop. A [`Checkpointer`] may write to a remote store
//! (Event Hubs: a blob per partition), so it runs in a task of its own: the loop hands it
//! progress without waiting, and a write that is slow or hangs holds back only the
//! checkpoints, never deliveries, batch deadlines or shutdown. Progress handed over while a
//! write is under way is merged (the latest position per partition) and written next.

use super::{CheckpointError, Checkpointer, Progress};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the loop has handed over and the task has not taken yet.
#[derive(Default)]
struct Handed {
    /// The latest progress per partition.
    progress: Vec<Progress>,
    /// The run is over: write what is left, then finish the checkpointer.
    closing: bool,
}

#[derive(Default)]
struct Shared {
    handed: Mutex<Handed>,
    wake: Notify,
}

/// The handle on the task that owns the source's checkpointer: what the pipeline hands its
/// confirmed progress to.
pub struct CheckpointWriter {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Result<(), CheckpointError>>>,
}

impl CheckpointWriter {
    /// Moves `checkpointer` into a task of its own.
    pub fn spawn<C: Checkpointer>(checkpointer: C) -> Self {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(write(checkpointer, shared.clone()));
        CheckpointWriter {
            shared,
            task: Some(task),
        }
    }

    /// Hands `progress` over without waiting. Also with nothing new: the checkpointer may
    /// write what it held back.
    pub fn submit(&self, progress: Vec<Progress>) {
        {
            let mut handed = self.handed();
            for p in progress {
                match handed
                    .progress
                    .iter_mut()
                    .find(|q| q.partition == p.partition)
                {
                    Some(q) => *q = p,
                    None => handed.progress.push(p),
                }
            }
        }
        self.shared.wake.notify_one();
    }

    /// Completes when a write failed, with its error; pending otherwise.
    pub async fn failed(&mut self) -> CheckpointError {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let ended = task.await;
        self.task = None;
        match ended {
            Ok(Err(e)) => e,
            Ok(Ok(())) => std::future::pending().await,
            Err(e) => CheckpointError::Aborted(e),
        }
    }

    /// Writes what was handed over and not written yet, then finishes the checkpointer
    /// (final checkpoints, partitions released).
    pub async fn finish(mut self) -> Result<(), CheckpointError> {
        self.handed().closing = true;
        self.shared.wake.notify_one();
        match self.task.take() {
            Some(task) => task.await.map_err(CheckpointError::Aborted)?,
            None => Ok(()),
        }
    }

    fn handed(&self) -> std::sync::MutexGuard<'_, Handed> {
        self.shared
            .handed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for CheckpointWriter {
    fn drop(&mut self) {
        // A run that ended without `finish` (an error): drop the checkpointer, which then
        // releases what the source holds, without further writes.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn write<C: Checkpointer>(
    mut checkpointer: C,
    shared: Arc<Shared>,
) -> Result<(), CheckpointError> {
    loop {
        shared.wake.notified().await;
        let (progress, closing) = {
            let mut handed = shared.handed.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut handed.progress), handed.closing)
        };
        checkpointer.commit(progress).await?;
        if closing {
            return checkpointer.finish().await;
        }
    }
}
