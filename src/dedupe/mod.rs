//! Dedupe: events read again (after a crash, a takeover or a lost link) whose rows a table
//! already holds are skipped instead of ingested twice.
//!
//! - `ledger.rs`: the [`Ledger`] of which sequence ranges of each partition each destination
//!   holds, consulted for every event of a resumable destination;
//! - the lookups that fill it, asking the sink ([`crate::sink::Sink::ingested`]) beside the
//!   read loop while the partition's events wait: `src/pipeline/lookups.rs`;
//! - how Data Explorer records the ranges (the `ingest-by:` tags of queued ingestion) and reads
//!   them back: `src/sink/kusto/dedupe.rs` and `src/sink/kusto/held.rs`.

mod ledger;

pub use ledger::{Ledger, SeqRange};
