//! Event Hubs as a source. For now only the pieces the official `azure_messaging_eventhubs`
//! event processor needs from us: a [`checkpoint_store`] that keeps partition ownership and
//! checkpoints in Azure Blob Storage, shared by every replica of the service.

pub mod checkpoint_store;
