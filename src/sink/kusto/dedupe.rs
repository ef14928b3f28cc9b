//! Identity of a batch for queued ingestion: the blob's source id and the `ingest-by:` tag that
//! `ingestIfNotExists` checks, both derived from the destination and the partitions and
//! sequence ranges the batch covers. A batch sent again (a retry after an answer that never
//! came, or the same events batched the same way after a restart) gets the same identity, so
//! Data Explorer skips it instead of ingesting its rows twice.
//!
//! The tags also tell a restarted pipeline which events a table already holds
//! ([`held_ranges`]): `ingest-by:iotc-adx/<destination>/p<partition>:<first>-<last>`.

use crate::checkpoint::Span;
use crate::dedupe::SeqRange;
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
    /// The identity of a batch of destination `destination` for `database.table` covering
    /// `origin`. The destination is part of it: two destinations may fill one table from the
    /// same events.
    pub fn new(database: &str, table: &str, destination: &str, origin: &[Span]) -> Self {
        let ranges: Vec<String> = origin
            .iter()
            .map(|s| format!("p{}:{}-{}", s.partition, s.first, s.last))
            .collect();
        let mut tag = format!("iotc-adx/{}/{}", tag_safe(destination), ranges.join(","));
        if tag.len() > MAX_TAG_LEN {
            let digest = Sha256::digest(tag.as_bytes());
            tag = format!(
                "iotc-adx/{}/sha256:{}",
                tag_safe(destination),
                hex(&digest[..16])
            );
        }
        let source_id = Uuid::new_v5(
            &NAMESPACE,
            format!("{database}\u{1f}{table}\u{1f}{tag}").as_bytes(),
        );
        BatchIdentity { tag, source_id }
    }
}

/// The part every tag of `destination`'s batches of `partition` starts with, after
/// `ingest-by:` (what `.show table T extents where tags contains ...` looks for).
pub fn partition_prefix(destination: &str, partition: &str) -> String {
    format!("iotc-adx/{}/p{partition}:", tag_safe(destination))
}

/// The ranges that the tags in `tags` (an extent's `Tags` column: tags separated by line
/// breaks) record for the partition whose [`partition_prefix`] is `prefix`.
pub fn held_ranges<'a>(tags: &'a str, prefix: &'a str) -> impl Iterator<Item = SeqRange> + 'a {
    tags.split_whitespace().filter_map(move |tag| {
        let range = tag.strip_prefix("ingest-by:")?.strip_prefix(prefix)?;
        let (first, last) = range.split_once('-')?;
        Some(SeqRange::new(first.parse().ok()?, last.parse().ok()?))
    })
}

/// The destination's name as it appears in tags: characters other than letters, digits, `_`,
/// `.` and `-` become `_` (tags are listed one per line and matched as substrings).
fn tag_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(p: &str, first: i64, last: i64) -> Span {
        Span {
            partition: p.into(),
            first,
            last,
            events: 1,
        }
    }

    #[test]
    fn same_events_same_identity() {
        let a = BatchIdentity::new("iot", "T", "telemetry", &[span("3", 1200, 1499)]);
        assert_eq!(a.tag, "iotc-adx/telemetry/p3:1200-1499");
        assert_eq!(
            a,
            BatchIdentity::new("iot", "T", "telemetry", &[span("3", 1200, 1499)])
        );
        assert_ne!(
            a.source_id,
            BatchIdentity::new("iot", "Other", "telemetry", &[span("3", 1200, 1499)]).source_id
        );
        assert_ne!(
            a.tag,
            BatchIdentity::new("iot", "T", "telemetry", &[span("3", 1200, 1500)]).tag
        );
        assert_ne!(
            a.tag,
            BatchIdentity::new("iot", "T", "properties", &[span("3", 1200, 1499)]).tag
        );
    }

    #[test]
    fn long_tags_become_digests() {
        let spans: Vec<Span> = (0..32)
            .map(|p| span(&p.to_string(), 1_000_000, 2_000_000))
            .collect();
        let id = BatchIdentity::new("iot", "T", "all", &spans);
        assert!(
            id.tag.starts_with("iotc-adx/all/sha256:") && id.tag.len() < MAX_TAG_LEN,
            "{}",
            id.tag
        );
    }

    #[test]
    fn held_ranges_are_read_back_from_tags() {
        let prefix = partition_prefix("my table", "3");
        assert_eq!(prefix, "iotc-adx/my_table/p3:");
        let tag = BatchIdentity::new("iot", "T", "my table", &[span("3", 1200, 1499)]).tag;
        let other = BatchIdentity::new("iot", "T", "my table", &[span("33", 1, 2)]).tag;
        let tags = format!("ingest-by:{tag}\r\ningest-by:{other}\r\nsome-tag\r\ningest-by:iotc-adx/my_table/p3:1500-1600\r\ningest-by:iotc-adx/my_table/p3:bad");
        let ranges: Vec<SeqRange> = held_ranges(&tags, &prefix).collect();
        assert_eq!(
            ranges,
            vec![SeqRange::new(1200, 1499), SeqRange::new(1500, 1600)]
        );
    }
}
