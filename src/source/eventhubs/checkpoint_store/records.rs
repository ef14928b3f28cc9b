//! What the store writes into blob metadata and how a listed blob turns back into an
//! [`Ownership`] or a [`Checkpoint`]. The keys are the official stores' (Go, Python, .NET and
//! Rust all write them in lowercase): `ownerid` on ownership blobs, `sequencenumber` and `offset`
//! on checkpoint blobs. Blob storage compares metadata names without regard to case and older
//! .NET stores wrote `OwnerId`, so reading ignores case. The blob's ETag is the ownership's
//! version and its `Last-Modified` the time of the last claim.

use super::names::partition_of;
use azure_core::http::Etag;
use azure_core::time::{parse_rfc7231, OffsetDateTime};
use azure_messaging_eventhubs::models::{Checkpoint, Ownership};
use iotc_adx_storage::list::ListedBlob;
use iotc_adx_storage::quoted_etag;

/// Metadata key of the owner's id on ownership blobs.
pub(super) const OWNER_ID: &str = "ownerid";
/// Metadata key of the sequence number on checkpoint blobs.
pub(super) const SEQUENCE_NUMBER: &str = "sequencenumber";
/// Metadata key of the offset on checkpoint blobs.
pub(super) const OFFSET: &str = "offset";

/// Metadata to write, as (key, value) pairs.
pub(super) type Metadata = Vec<(&'static str, String)>;

/// The metadata of an ownership blob. An ownership without owner (a relinquished partition)
/// is written with an empty `ownerid`, as the .NET and Python stores do.
pub(super) fn ownership_metadata(o: &Ownership) -> Result<Metadata, String> {
    let owner = o.owner_id.clone().unwrap_or_default();
    check_value(OWNER_ID, &owner)?;
    Ok(vec![(OWNER_ID, owner)])
}

/// The metadata of a checkpoint blob; `None` when the checkpoint holds no position at all.
pub(super) fn checkpoint_metadata(c: &Checkpoint) -> Result<Option<Metadata>, String> {
    let mut m = Metadata::new();
    if let Some(sequence_number) = c.sequence_number {
        m.push((SEQUENCE_NUMBER, sequence_number.to_string()));
    }
    if let Some(offset) = &c.offset {
        check_value(OFFSET, offset)?;
        m.push((OFFSET, offset.clone()));
    }
    Ok((!m.is_empty()).then_some(m))
}

/// Metadata travels in `x-ms-meta-*` headers: printable ASCII only.
fn check_value(key: &str, value: &str) -> Result<(), String> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(format!(
            "{key} {value:?} holds characters a metadata header cannot carry"
        ))
    }
}

/// Parses an HTTP date (`Sun, 22 Nov 2026 07:30:52 GMT`).
pub(super) fn http_date(raw: &str) -> Result<OffsetDateTime, String> {
    parse_rfc7231(raw.trim()).map_err(|e| format!("Last-Modified {raw:?} is not an HTTP date: {e}"))
}

fn metadata<'a>(blob: &'a ListedBlob, key: &str) -> Option<&'a str> {
    blob.metadata
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The hub a listing is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope<'a> {
    /// Fully qualified namespace, as the processor gave it.
    pub namespace: &'a str,
    /// Event hub name, as given.
    pub event_hub: &'a str,
    /// Consumer group, as given.
    pub consumer_group: &'a str,
}

/// The ownership a listed blob records; `Ok(None)` for a blob under the prefix that is not an
/// ownership blob (a deeper path). An empty or missing `ownerid` reads as no owner, which the
/// load balancer treats as a free partition.
pub(super) fn ownership_from(
    scope: Scope<'_>,
    prefix: &str,
    blob: &ListedBlob,
) -> Result<Option<Ownership>, String> {
    let Some(partition_id) = partition_of(prefix, &blob.name) else {
        return Ok(None);
    };
    let last_modified_time = blob.last_modified.as_deref().map(http_date).transpose()?;
    Ok(Some(Ownership {
        fully_qualified_namespace: scope.namespace.to_string(),
        event_hub_name: scope.event_hub.to_string(),
        consumer_group: scope.consumer_group.to_string(),
        partition_id: partition_id.to_string(),
        owner_id: metadata(blob, OWNER_ID).map(str::to_string),
        etag: blob.etag.as_deref().map(|e| Etag::from(quoted_etag(e))),
        last_modified_time,
    }))
}

/// The checkpoint a listed blob records; `Ok(None)` for a blob under the prefix that is not a
/// checkpoint blob. A missing value stays `None`; a sequence number that is not an integer is
/// an error (starting elsewhere than recorded would lose or repeat events).
pub(super) fn checkpoint_from(
    scope: Scope<'_>,
    prefix: &str,
    blob: &ListedBlob,
) -> Result<Option<Checkpoint>, String> {
    let Some(partition_id) = partition_of(prefix, &blob.name) else {
        return Ok(None);
    };
    let sequence_number = match metadata(blob, SEQUENCE_NUMBER) {
        None => None,
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| format!("{SEQUENCE_NUMBER} {s:?} is not an integer"))?,
        ),
    };
    Ok(Some(Checkpoint {
        fully_qualified_namespace: scope.namespace.to_string(),
        event_hub_name: scope.event_hub.to_string(),
        consumer_group: scope.consumer_group.to_string(),
        partition_id: partition_id.to_string(),
        offset: metadata(blob, OFFSET).map(str::to_string),
        sequence_number,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: Scope<'static> = Scope {
        namespace: "NS.servicebus.windows.net",
        event_hub: "Hub",
        consumer_group: "$Default",
    };

    fn listed(name: &str, metadata: &[(&str, &str)]) -> ListedBlob {
        ListedBlob {
            name: name.into(),
            etag: Some("0x8DC0FFEE".into()),
            last_modified: Some("Sun, 22 Nov 2026 07:30:52 GMT".into()),
            metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn ownership_blobs_read_back_with_etag_and_time() {
        let prefix = "ns.servicebus.windows.net/hub/$default/ownership/";
        let o = ownership_from(
            SCOPE,
            prefix,
            &listed(&format!("{prefix}2"), &[("OwnerId", "abc")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.partition_id, "2");
        assert_eq!(o.owner_id.as_deref(), Some("abc"));
        assert_eq!(o.event_hub_name, "Hub", "the caller's spelling is kept");
        assert_eq!(
            o.etag.as_ref().map(|e| e.to_string()),
            Some("\"0x8DC0FFEE\"".to_string())
        );
        let t = o.last_modified_time.unwrap();
        assert_eq!(
            (t.year(), t.hour(), t.minute(), t.second()),
            (2026, 7, 30, 52)
        );

        let relinquished = ownership_from(
            SCOPE,
            prefix,
            &listed(&format!("{prefix}3"), &[("ownerid", "")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(relinquished.owner_id, None);
        assert!(
            ownership_from(SCOPE, prefix, &listed(&format!("{prefix}3/x"), &[]))
                .unwrap()
                .is_none()
        );

        let mut bad = listed(&format!("{prefix}1"), &[]);
        bad.last_modified = Some("yesterday".into());
        assert!(ownership_from(SCOPE, prefix, &bad)
            .unwrap_err()
            .contains("yesterday"));
    }

    #[test]
    fn checkpoint_blobs_read_back() {
        let prefix = "ns/hub/cg/checkpoint/";
        let c = checkpoint_from(
            SCOPE,
            prefix,
            &listed(
                "ns/hub/cg/checkpoint/0",
                &[("sequencenumber", "42"), ("offset", "8192")],
            ),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                c.partition_id.as_str(),
                c.sequence_number,
                c.offset.as_deref()
            ),
            ("0", Some(42), Some("8192"))
        );
        let only_offset = checkpoint_from(
            SCOPE,
            prefix,
            &listed("ns/hub/cg/checkpoint/1", &[("Offset", "7")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (only_offset.sequence_number, only_offset.offset.as_deref()),
            (None, Some("7"))
        );
        let e = checkpoint_from(
            SCOPE,
            prefix,
            &listed("ns/hub/cg/checkpoint/1", &[("sequencenumber", "x1")]),
        )
        .unwrap_err();
        assert!(e.contains("x1"), "{e}");
    }

    #[test]
    fn metadata_round_trips_what_the_processor_writes() {
        let c = Checkpoint {
            sequence_number: Some(-1),
            offset: Some("123".into()),
            ..Default::default()
        };
        assert_eq!(
            checkpoint_metadata(&c).unwrap().unwrap(),
            vec![
                (SEQUENCE_NUMBER, "-1".to_string()),
                (OFFSET, "123".to_string())
            ]
        );
        assert_eq!(checkpoint_metadata(&Checkpoint::default()).unwrap(), None);
        let bad = Checkpoint {
            offset: Some("a\nb".into()),
            ..Default::default()
        };
        assert!(checkpoint_metadata(&bad).is_err());
        let o = Ownership {
            owner_id: Some("me".into()),
            ..Default::default()
        };
        assert_eq!(
            ownership_metadata(&o).unwrap(),
            vec![(OWNER_ID, "me".to_string())]
        );
        assert_eq!(
            ownership_metadata(&Ownership::default()).unwrap(),
            vec![(OWNER_ID, String::new())]
        );
    }
}
