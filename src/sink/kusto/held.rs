//! Which events a destination's table already holds, read back from the `ingest-by:` tags of
//! its extents (`.show table T extents where tags contains ...`), so that a pipeline reading a
//! partition again after a crash or a takeover skips what queued ingestion already stored.

use super::dedupe::{held_ranges, partition_prefix};
use super::shared::{Inner, Target};
use crate::dedupe::SeqRange;
use crate::retry::retry;
use crate::schema::{kql_string, quote_name};
use crate::sink::SinkError;
use iotc_adx_kusto::{ErrorKind, KustoError};

/// Attempts before a throttled or failing lookup is given up (the pipeline then goes on
/// without it: duplicates are possible, losses are not).
const ATTEMPTS: u32 = 4;

/// The sequence ranges of `partition` that `destination`'s table holds.
pub(super) async fn ranges(
    inner: &Inner,
    destination: usize,
    partition: &str,
) -> Result<Vec<SeqRange>, SinkError> {
    let Some(target) = inner.targets.get(destination) else {
        return Ok(Vec::new());
    };
    let prefix = partition_prefix(&target.name, partition);
    let command = format!(
        ".show table {} extents where tags contains {}",
        quote_name(&target.table),
        kql_string(&format!("ingest-by:{prefix}"))
    );
    let data = retry(
        &inner.retry,
        ATTEMPTS,
        |_| inner.client.mgmt(&target.database, &command),
        |e: &KustoError| {
            matches!(e.kind(), ErrorKind::Throttled | ErrorKind::Transient).then(|| e.retry_after())
        },
    )
    .await
    .map_err(|e| failed(target, e))?;
    let unexpected = |what: &str| SinkError::Service {
        target: target.table_name(),
        source: format!("`.show table extents` answered {what}").into(),
    };
    let table = data.primary().ok_or_else(|| unexpected("no table"))?;
    let column = table
        .column("Tags")
        .ok_or_else(|| unexpected("no Tags column"))?;
    let mut ranges: Vec<SeqRange> = table
        .rows
        .iter()
        .filter_map(|row| row.get(column)?.as_str())
        .flat_map(|tags| held_ranges(tags, &prefix).collect::<Vec<_>>())
        .collect();
    ranges.sort_unstable();
    ranges.dedup();
    Ok(ranges)
}

fn failed(target: &Target, source: KustoError) -> SinkError {
    SinkError::Service {
        target: target.table_name(),
        source: Box::new(source),
    }
}
