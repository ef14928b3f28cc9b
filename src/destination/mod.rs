//! Destinations: one `[[destination]]` is a Data Explorer table and how messages reach it (its
//! filter, transform, batching and ingestion mode). The pipeline, the sink, `provision` and
//! `replay` all read these settings, so they live here, below every one of them:
//! [`settings`] holds the validated types, [`raw`] the section as written, and `validate`
//! checks the one into the other.

pub mod raw;
pub mod settings;
mod validate;

pub use settings::{
    default_batch_limits, BatchingPolicy, DedupeView, DestinationSettings, IngestionMode,
    DEFAULT_MAPPING,
};

pub(crate) use validate::destinations;
