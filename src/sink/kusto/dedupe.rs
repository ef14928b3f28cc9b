//! Identity of a batch for queued ingestion: the blob's source id and the `ingest-by:` tag that
//! `ingestIfNotExists` checks, both derived from the destination and the partitions and
//! sequence ranges the batch covers. A batch sent again (a retry after an answer that never
//! came, or the same events batched the same way after a restart) gets the same identity, so
//! Data Explorer skips it instead of ingesting its rows twice.

use crate::ack::Span;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Tags longer than this are replaced by a digest (Data Explorer keeps tags per extent; a
/// batch spanning 32 partitions would otherwise carry a kilobyte-long tag).
const MAX_TAG_LEN: usize = 200;

/// Namespace of the source ids (a fixed random UUID, so ids are stable across versions).
const NAMESPACE: Uuid = Uuid::from_u128(0x6c2f_0a8e_55c1_4d7b_9a3e_41f2_8d0b_7e19);

/// The dedupe identity of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIdentity {
    /// The value after `ingest-by:`, also listed in `ingestIfNotExists`.
    pub tag: String,
    /// The source id (and blob name part) of the ingestion.
    pub source_id: Uuid,
}

impl BatchIdentity {
    /// The identity of a batch for `database.table` covering `origin`.
    pub fn new(database: &str, table: &str, origin: &[Span]) -> Self {
        let ranges: Vec<String> = origin.iter().map(|s| format!("p{}:{}-{}", s.partition, s.first, s.last)).collect();
        let mut tag = format!("iotc-adx/{}", ranges.join(","));
        if tag.len() > MAX_TAG_LEN {
            let digest = Sha256::digest(tag.as_bytes());
            tag = format!("iotc-adx/sha256:{}", hex(&digest[..16]));
        }
        let source_id = Uuid::new_v5(&NAMESPACE, format!("{database}\u{1f}{table}\u{1f}{tag}").as_bytes());
        BatchIdentity { tag, source_id }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(p: &str, first: i64, last: i64) -> Span {
        Span { partition: p.into(), first, last, events: 1 }
    }

    #[test]
    fn same_events_same_identity() {
        let a = BatchIdentity::new("iot", "T", &[span("3", 1200, 1499)]);
        assert_eq!(a.tag, "iotc-adx/p3:1200-1499");
        assert_eq!(a, BatchIdentity::new("iot", "T", &[span("3", 1200, 1499)]));
        assert_ne!(a.source_id, BatchIdentity::new("iot", "Other", &[span("3", 1200, 1499)]).source_id);
        assert_ne!(a.tag, BatchIdentity::new("iot", "T", &[span("3", 1200, 1500)]).tag);
    }

    #[test]
    fn long_tags_become_digests() {
        let spans: Vec<Span> = (0..32).map(|p| span(&p.to_string(), 1_000_000, 2_000_000)).collect();
        let id = BatchIdentity::new("iot", "T", &spans);
        assert!(id.tag.starts_with("iotc-adx/sha256:") && id.tag.len() < MAX_TAG_LEN, "{}", id.tag);
    }
}
