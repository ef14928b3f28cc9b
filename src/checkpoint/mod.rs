//! Acknowledgements and checkpoints: how far each source partition may be checkpointed, and
//! writing that down, so that a restart resumes after it and loses nothing.
//!
//! The path of one event:
//! 1. read: [`AckTracker::open`] gives it a [`Ticket`], with one reference held by the
//!    pipeline while it processes the event;
//! 2. batched: each batch taking rows of it adds a reference ([`AckTracker::add_batch_ref`])
//!    and carries the ticket;
//! 3. released: the pipeline drops its own reference once the event is processed, and each
//!    batch drops its reference once the sink accepted or refused it (its rows then
//!    dead-lettered) ([`AckTracker::release`]);
//! 4. done: an event without references is done; a partition's checkpoint moves across an
//!    unbroken run of done events only ([`AckTracker::take_progress`] gives a [`Progress`]);
//! 5. checkpointed: the pipeline makes the dead letters durable, then hands the progress to
//!    the [`CheckpointWriter`], which runs the source's [`Checkpointer`] in a task of its own
//!    (writes may go over the network; the read loop never waits for them).
//!
//! Here: `acks.rs` (steps 1 to 4), `writer.rs` (5) and `checkpointer.rs` (the trait each
//! source implements). The implementations live with their source: Event Hubs in
//! `src/source/eventhubs/checkpointer.rs` (writing to the blob checkpoint store of
//! `src/source/eventhubs/checkpoint_store/`), dead-letter replay in `src/replay/source.rs`
//! (marking the replay ledger), and [`NoCheckpoints`] for files and standard input.
//! Skipping events read again that a table already holds is [`crate::dedupe`]'s concern.

mod acks;
mod checkpointer;
mod writer;

pub use acks::{AckTracker, Progress, Span, Ticket};
pub use checkpointer::{CheckpointError, Checkpointer, NoCheckpoints};
pub use writer::CheckpointWriter;
