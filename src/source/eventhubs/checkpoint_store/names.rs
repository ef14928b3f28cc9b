//! Blob names of the checkpoint store, laid out as the official Event Hubs checkpoint stores lay
//! them out (Go `azeventhubs/checkpoints`, Python `azure-eventhub-checkpointstoreblob-aio`,
//! .NET `Azure.Messaging.EventHubs.Processor`, Rust `azure_messaging_eventhubs_checkpointstore_blob`),
//! so that processors written with other SDKs can share a container with ours:
//!
//! ```text
//! {fully qualified namespace}/{event hub}/{consumer group}/ownership/{partition id}
//! {fully qualified namespace}/{event hub}/{consumer group}/checkpoint/{partition id}
//! ```
//!
//! Names are lowercased, as the Python store writes them (so `$Default` becomes `$default`;
//! `tests/checkpoint_interop.rs` shares a container with it); partition ids are digits, so
//! lowercasing the whole name changes nothing there. The Rust SDK's store keeps the case it is
//! given, so it meets these names only when namespace, hub and consumer group are lowercase.

use super::error::CheckpointStoreError;

/// Which of the two kinds of blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlobKind {
    /// Who owns a partition (metadata `ownerid`).
    Ownership,
    /// How far a partition has been processed (metadata `sequencenumber`, `offset`).
    Checkpoint,
}

impl BlobKind {
    fn folder(self) -> &'static str {
        match self {
            BlobKind::Ownership => "ownership",
            BlobKind::Checkpoint => "checkpoint",
        }
    }
}

/// The prefix under which every blob of `kind` for one hub and consumer group lives, ending in `/`.
pub(super) fn prefix(
    kind: BlobKind,
    namespace: &str,
    event_hub: &str,
    consumer_group: &str,
) -> Result<String, CheckpointStoreError> {
    for (field, value) in [
        ("fully qualified namespace", namespace),
        ("event hub name", event_hub),
        ("consumer group", consumer_group),
    ] {
        check_part(field, value)?;
    }
    Ok(format!(
        "{namespace}/{event_hub}/{consumer_group}/{}/",
        kind.folder()
    )
    .to_lowercase())
}

/// The name of the blob of `kind` for one partition.
pub(super) fn blob_name(
    kind: BlobKind,
    namespace: &str,
    event_hub: &str,
    consumer_group: &str,
    partition_id: &str,
) -> Result<String, CheckpointStoreError> {
    check_part("partition id", partition_id)?;
    Ok(prefix(kind, namespace, event_hub, consumer_group)? + &partition_id.to_lowercase())
}

/// The partition id of a listed blob: what follows `prefix`, when that is one non-empty path
/// segment. Other blobs that happen to share the prefix (deeper paths) are not ours.
pub(super) fn partition_of<'a>(prefix: &str, name: &'a str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// Refuses empty parts (they would shift the layout) and parts holding `/` (they would nest it).
fn check_part(field: &'static str, value: &str) -> Result<(), CheckpointStoreError> {
    if value.is_empty() {
        return Err(CheckpointStoreError::InvalidName {
            field,
            value: value.to_string(),
            reason: "it is empty",
        });
    }
    if value.contains('/') {
        return Err(CheckpointStoreError::InvalidName {
            field,
            value: value.to_string(),
            reason: "it holds a '/'",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_official_layout_in_lowercase() {
        let o = blob_name(
            BlobKind::Ownership,
            "MyNs.servicebus.windows.net",
            "Telemetry",
            "$Default",
            "3",
        )
        .unwrap();
        assert_eq!(
            o,
            "myns.servicebus.windows.net/telemetry/$default/ownership/3"
        );
        let c = blob_name(
            BlobKind::Checkpoint,
            "ns.servicebus.windows.net",
            "hub",
            "cg",
            "12",
        )
        .unwrap();
        assert_eq!(c, "ns.servicebus.windows.net/hub/cg/checkpoint/12");
        assert_eq!(
            prefix(BlobKind::Checkpoint, "NS", "H", "CG").unwrap(),
            "ns/h/cg/checkpoint/"
        );
    }

    #[test]
    fn empty_or_nested_parts_are_refused() {
        let e = blob_name(BlobKind::Ownership, "", "hub", "cg", "0").unwrap_err();
        assert!(e.to_string().contains("fully qualified namespace"), "{e}");
        let e = blob_name(BlobKind::Ownership, "ns", "hub", "cg", "").unwrap_err();
        assert!(e.to_string().contains("partition id"), "{e}");
        assert!(prefix(BlobKind::Ownership, "ns", "a/b", "cg").is_err());
    }

    #[test]
    fn partition_ids_come_from_the_last_segment() {
        let p = "ns/hub/cg/ownership/";
        assert_eq!(partition_of(p, "ns/hub/cg/ownership/7"), Some("7"));
        assert_eq!(partition_of(p, "ns/hub/cg/ownership/"), None);
        assert_eq!(partition_of(p, "ns/hub/cg/ownership/7/x"), None);
        assert_eq!(partition_of(p, "other/7"), None);
    }
}
