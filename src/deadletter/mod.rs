//! Dead letters: every message that cannot be decoded, routed, transformed or coerced is
//! kept here with its reason, its stage, the destination concerned and its event metadata,
//! and its original bytes exactly (as text when they are UTF-8, else base64). Nothing is
//! silently dropped: the pipeline goes on, and a person can read, fix and replay the message.
//!
//! The store sits behind [`DeadLetterStore`] so that a blob store can follow the local one.

mod letter;
mod local;
pub mod settings;
mod store;

pub use letter::{DeadLetter, Stage};
pub use local::LocalDirStore;
pub use store::{DeadLetterError, DeadLetterStore};
