//! Queued ingestion, playing the data-management service: polls Azurite's
//! `readyforaggregation-secured` queue, decodes each base64 JSON message, fetches `BlobPath`
//! (gunzipping when needed), applies the mapping, and commits the rows after the batching
//! time, honouring `ingestIfNotExists` and `ingest-by:` tags. Outcomes are posted to the
//! status queues per `ReportLevel` and failures recorded for `.show ingestion failures`.

use super::formats::{self, Format};
use super::shared::Shared;
use super::state::IngestionFailure;
use super::storage::Storage;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Polls the ingestion queue until `stopped`.
pub(super) async fn run(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let Some(storage) = shared.storage.as_ref() else {
        return;
    };
    loop {
        match storage
            .get_messages(&storage.ready, 16, Duration::from_secs(60))
            .await
        {
            Ok(messages) => {
                for message in messages {
                    let outcome = prepare(&shared, storage, &message.text).await;
                    if let Err(e) = storage.delete_message(&storage.ready, &message).await {
                        tracing::warn!(error = %e, "cannot delete an ingestion message");
                    }
                    match outcome {
                        Ok(job) => {
                            let shared = shared.clone();
                            tokio::spawn(async move { commit(shared, job).await });
                        }
                        Err(failure) => report_failure(&shared, failure).await,
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "polling the ingestion queue failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(shared.options.queue_poll_interval) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// What a message asks, after its blob was read and decoded.
struct Job {
    meta: Meta,
    rows: Vec<Vec<Value>>,
    ingest_if_not_exists: Vec<String>,
    /// Every tag of the ingestion (`ingest-by:` ones included).
    tags: Vec<String>,
    /// Bytes of the data (decompressed).
    original_size: u64,
}

/// The message fields reports need.
#[derive(Clone, Default)]
struct Meta {
    id: String,
    database: String,
    table: String,
    blob_path: String,
    report_level: i64,
    report_method: i64,
}

/// A failed message, with its meta (as far as it was readable).
struct Failure {
    meta: Meta,
    code: &'static str,
    details: String,
    permanent: bool,
}

fn string_list(props: &Value, key: &str) -> Vec<String> {
    let raw = props
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v);
    match raw {
        Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s).unwrap_or_default(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn prop(props: &Value, key: &str) -> Option<String> {
    props
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

async fn prepare(shared: &Shared, storage: &Storage, text: &str) -> Result<Job, Failure> {
    let mut meta = Meta {
        report_level: 1,
        ..Meta::default()
    };
    let fail = |meta: &Meta, code: &'static str, details: String| Failure {
        meta: meta.clone(),
        code,
        details,
        permanent: true,
    };
    let decoded = STANDARD.decode(text.trim()).map_err(|e| {
        fail(
            &meta,
            "BadRequest_InvalidMessage",
            format!("the message is not base64: {e}"),
        )
    })?;
    let message: Value = serde_json::from_slice(&decoded).map_err(|e| {
        fail(
            &meta,
            "BadRequest_InvalidMessage",
            format!("the message is not JSON: {e}"),
        )
    })?;
    let get = |k: &str| {
        message
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    meta = Meta {
        id: get("Id"),
        database: get("DatabaseName"),
        table: get("TableName"),
        blob_path: get("BlobPath"),
        report_level: message
            .get("ReportLevel")
            .and_then(Value::as_i64)
            .unwrap_or(1),
        report_method: message
            .get("ReportMethod")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    };
    let props = message
        .get("AdditionalProperties")
        .cloned()
        .unwrap_or(Value::Null);
    if prop(&props, "authorizationContext").is_none_or(|a| a != shared.identity_token) {
        return Err(fail(
            &meta,
            "BadRequest_InvalidAuthorizationContext",
            "the message's authorizationContext is missing or was not issued by this cluster"
                .into(),
        ));
    }
    let format = Format::parse(&prop(&props, "format").unwrap_or_else(|| "csv".into()))
        .map_err(|e| fail(&meta, "BadRequest_FormatNotSupported", e))?;
    let mapping_name = prop(&props, "ingestionMappingReference").filter(|m| !m.is_empty());
    let blob = storage
        .get_blob(&meta.blob_path)
        .await
        .map_err(|e| Failure {
            meta: meta.clone(),
            code: "BadRequest_InvalidBlob",
            details: e.to_string(),
            permanent: true,
        })?;
    let data = formats::maybe_gunzip(&blob, shared.options.max_decompressed_bytes)
        .map_err(|e| fail(&meta, "BadRequest_InvalidBlob", e.to_string()))?;
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(
            &meta,
            "BadRequest_EmptyBlob",
            "the blob is empty".into(),
        ));
    }
    let location = meta.blob_path.split('?').next().unwrap_or("").to_string();
    let rows = {
        let state = shared.state();
        let table = state.table(&meta.database, &meta.table).ok_or_else(|| {
            fail(
                &meta,
                "BadRequest_EntityNotFound",
                format!(
                    "Table '{}' was not found in database '{}'.",
                    meta.table, meta.database
                ),
            )
        })?;
        let mapping = match &mapping_name {
            Some(m) => Some(
                table
                    .json_mappings
                    .get(m)
                    .ok_or_else(|| {
                        fail(
                            &meta,
                            "BadRequest_MappingReferenceWasNotFound",
                            format!("mapping '{m}' was not found on table '{}'", meta.table),
                        )
                    })?
                    .as_slice(),
            ),
            None => None,
        };
        formats::to_rows(table, format, mapping, &data, &location)
            .map_err(|e| fail(&meta, "BadRequest_InvalidData", e.to_string()))?
    };
    Ok(Job {
        ingest_if_not_exists: string_list(&props, "ingestIfNotExists"),
        tags: string_list(&props, "tags"),
        original_size: data.len() as u64,
        rows,
        meta,
    })
}

async fn commit(shared: Arc<Shared>, job: Job) {
    let wait = shared.options.queued_batching_time.unwrap_or_else(|| {
        shared
            .state()
            .databases
            .get(&job.meta.database)
            .map(|d| d.batching(&job.meta.table).maximum_batching_time_span)
            .unwrap_or_default()
    });
    tokio::time::sleep(wait).await;
    let skipped = {
        let mut state = shared.state();
        match state.table_mut(&job.meta.database, &job.meta.table) {
            None => Some((
                "BadRequest_EntityNotFound",
                format!(
                    "Table '{}' was dropped before the ingestion was committed.",
                    job.meta.table
                ),
            )),
            Some(t) => match job
                .ingest_if_not_exists
                .iter()
                .find(|tag| t.ingested_tags.contains(*tag))
            {
                Some(tag) => Some((
                    "Skipped_IngestByTagAlreadyExists",
                    format!(
                        "an extent tagged 'ingest-by:{tag}' already exists in table '{}'",
                        job.meta.table
                    ),
                )),
                None => {
                    t.commit(job.rows, job.original_size, job.tags);
                    None
                }
            },
        }
    };
    match skipped {
        Some((code, details)) => {
            report_failure(
                &shared,
                Failure {
                    meta: job.meta,
                    code,
                    details,
                    permanent: true,
                },
            )
            .await
        }
        None => {
            tracing::debug!(db = %job.meta.database, table = %job.meta.table, "queued ingestion committed");
            if job.meta.report_level == 2 && job.meta.report_method != 1 {
                let m = &job.meta;
                let status = json!({
                    "OperationId": uuid::Uuid::new_v4().to_string(), "Database": m.database, "Table": m.table,
                    "IngestionSourceId": m.id, "IngestionSourcePath": m.blob_path.split('?').next().unwrap_or(""),
                    "RootActivityId": uuid::Uuid::new_v4().to_string(),
                    "SucceededOn": super::values::format_datetime(&chrono::Utc::now()),
                });
                post_status(&shared, Kind::Success, &status).await;
            }
        }
    }
}

async fn report_failure(shared: &Shared, failure: Failure) {
    let m = &failure.meta;
    tracing::debug!(code = failure.code, details = %failure.details, "queued ingestion failed");
    let operation_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let source = m.blob_path.split('?').next().unwrap_or("").to_string();
    let kind = if failure.permanent {
        "Permanent"
    } else {
        "Transient"
    };
    shared.state().failures.push(IngestionFailure {
        operation_id: operation_id.clone(),
        database: m.database.clone(),
        table: m.table.clone(),
        failed_on: now,
        ingestion_source_path: source.clone(),
        ingestion_source_id: m.id.clone(),
        details: failure.details.clone(),
        error_code: failure.code.into(),
        failure_kind: kind.into(),
    });
    if (m.report_level == 0 || m.report_level == 2) && m.report_method != 1 {
        let status = json!({
            "OperationId": operation_id, "Database": m.database, "Table": m.table,
            "IngestionSourceId": m.id, "IngestionSourcePath": source,
            "RootActivityId": uuid::Uuid::new_v4().to_string(),
            "FailedOn": super::values::format_datetime(&now), "Details": failure.details,
            "ErrorCode": failure.code, "FailureStatus": kind, "OriginatesFromUpdatePolicy": false,
            "ShouldRetry": !failure.permanent,
        });
        post_status(shared, Kind::Failure, &status).await;
    }
}

/// Which status queue.
enum Kind {
    Success,
    Failure,
}

async fn post_status(shared: &Shared, kind: Kind, status: &Value) {
    if let Some(storage) = &shared.storage {
        let queue = match kind {
            Kind::Success => &storage.success,
            Kind::Failure => &storage.failure,
        };
        if let Err(e) = storage
            .put_message(queue, &STANDARD.encode(status.to_string()))
            .await
        {
            tracing::warn!(error = %e, "cannot post an ingestion status");
        }
    }
}
