//! Queued ingestion, as the official SDKs do it: upload the gzipped batch as a blob to one of
//! the cluster's TempStorage containers, then post a base64 JSON ingestion message to one of its
//! ingestion queues; the data-management service ingests it later. Failures the service
//! reports (ReportLevel 0, ReportMethod 0) are read back from the FailedIngestionsQueue (see
//! `failures.rs`).
//!
//! One attempt per call, except that storage refusing the SAS (expired) makes the ingestor
//! fetch fresh ingestion resources and try once more at once.

use super::error::{ErrorKind, KustoError};
use super::resources::{Accounts, IngestionResources, ResourceCache};
use super::storage::Storage;
use super::transport::Transport;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Queued ingestion against one data-management endpoint. Caches the ingestion resources and
/// identity token; cheap to share through [`super::KustoClient::queued`].
#[derive(Debug)]
pub struct QueuedIngestor {
    pub(super) cache: ResourceCache,
    pub(super) storage: Storage,
    blob_accounts: Accounts,
    queue_accounts: Accounts,
}

/// One batch to ingest through the queue.
#[derive(Debug, Clone)]
pub struct QueuedRequest<'a> {
    /// Database name.
    pub database: &'a str,
    /// Table name.
    pub table: &'a str,
    /// Name of the table's JSON ingestion mapping.
    pub mapping: &'a str,
    /// The records, multi-JSON, already gzipped.
    pub body: Bytes,
    /// Size before compression (`RawDataSize`, used by the service's batching).
    pub raw_size: u64,
    /// Chosen by the caller: a retry of the same batch reuses it, so it lands on the same blob
    /// name and carries the same message `Id`.
    pub source_id: uuid::Uuid,
    /// Extent tags (`"ingest-by:<x>"` for deduplication tags).
    pub tags: Vec<String>,
    /// Skip the batch when an extent with `ingest-by:<x>` already exists for one of these.
    pub ingest_if_not_exists: Vec<String>,
    /// Ask for failure reports on the FailedIngestionsQueue (ReportLevel 0, ReportMethod 0);
    /// false asks for no reports (ReportLevel 1).
    pub report_failures: bool,
    /// Metadata set on the blob (ASCII names and values): what a failure report's reader
    /// needs to know about the batch, whichever process reads it.
    pub metadata: Vec<(String, String)>,
}

/// Where a queued batch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedReceipt {
    /// The batch's source id (as requested).
    pub source_id: uuid::Uuid,
    /// The blob's URL, without SAS.
    pub blob: String,
    /// The storage account that holds it.
    pub account: String,
}

/// A failure the data-management service reported for a queued batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestionFailure {
    /// `IngestionSourceId`: the request's source id.
    pub source_id: Option<uuid::Uuid>,
    /// Database name.
    pub database: String,
    /// Table name.
    pub table: String,
    /// `ErrorCode`, e.g. `BadRequest_InvalidData` or `Skipped_IngestByTagAlreadyExists`.
    pub error_code: String,
    /// `Details`: the service's explanation.
    pub details: String,
    /// `FailureStatus` is `Permanent` (else retrying may help).
    pub permanent: bool,
    /// `IngestionSourcePath`: the blob, without SAS.
    pub blob: Option<String>,
}

/// The blob name of a batch: `{db}__{table}__{source_id}__iotc-adx.multijson.gz`.
pub(super) fn blob_name(database: &str, table: &str, source_id: uuid::Uuid) -> String {
    format!("{database}__{table}__{source_id}__iotc-adx.multijson.gz")
}

/// The ingestion message for `req`, whose blob is at `blob_path` (with SAS).
pub(super) fn message(
    req: &QueuedRequest<'_>,
    blob_path: &str,
    authorization_context: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Value {
    let mut props = Map::new();
    props.insert("authorizationContext".into(), json!(authorization_context));
    props.insert("format".into(), json!("multijson"));
    props.insert("ingestionMappingReference".into(), json!(req.mapping));
    props.insert("ingestionMappingType".into(), json!("Json"));
    // Lists travel as JSON-encoded strings.
    if !req.tags.is_empty() {
        props.insert(
            "tags".into(),
            json!(Value::from(req.tags.clone()).to_string()),
        );
    }
    if !req.ingest_if_not_exists.is_empty() {
        props.insert(
            "ingestIfNotExists".into(),
            json!(Value::from(req.ingest_if_not_exists.clone()).to_string()),
        );
    }
    let (level, method) = if req.report_failures { (0, 0) } else { (1, 0) };
    json!({
        "Id": req.source_id.to_string(),
        "BlobPath": blob_path,
        "RawDataSize": req.raw_size,
        "DatabaseName": req.database,
        "TableName": req.table,
        "RetainBlobOnSuccess": true,
        "FlushImmediately": false,
        "IgnoreSizeLimit": false,
        "ReportLevel": level,
        "ReportMethod": method,
        "SourceMessageCreationTime": created.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        "AdditionalProperties": Value::Object(props),
    })
}

/// Reads a FailedIngestionsQueue message (base64 JSON).
pub(super) fn parse_failure(text: &str) -> Result<IngestionFailure, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let permanent = match v.get("FailureStatus").and_then(Value::as_str) {
        Some(status) => status.eq_ignore_ascii_case("Permanent"),
        None => v.get("ShouldRetry").and_then(Value::as_bool) == Some(false),
    };
    let blob = s("IngestionSourcePath");
    Ok(IngestionFailure {
        source_id: uuid::Uuid::parse_str(&s("IngestionSourceId")).ok(),
        database: s("Database"),
        table: s("Table"),
        error_code: s("ErrorCode"),
        details: s("Details"),
        permanent,
        // Never hand a SAS on.
        blob: (!blob.is_empty()).then(|| super::error::strip_query(&blob).to_string()),
    })
}

/// A failed step, with the account to skip for a while when the failure may be the account's.
struct StepError {
    error: KustoError,
    account: String,
}

impl QueuedIngestor {
    pub(super) fn new(transport: Arc<Transport>, endpoint: url::Url) -> Self {
        QueuedIngestor {
            storage: Storage::new(transport.http.clone(), transport.timeout),
            cache: ResourceCache::new(transport, endpoint),
            blob_accounts: Accounts::default(),
            queue_accounts: Accounts::default(),
        }
    }

    /// The data-management endpoint in use.
    pub fn endpoint(&self) -> &url::Url {
        self.cache.endpoint()
    }

    /// Uploads the batch and queues its ingestion message. Returns once the message is queued;
    /// the rows appear after the table's batching time.
    pub async fn ingest(&self, req: QueuedRequest<'_>) -> Result<QueuedReceipt, KustoError> {
        let mut refreshed = false;
        loop {
            let resources = self.cache.resources().await?;
            match self.try_ingest(&resources, &req).await {
                Ok(receipt) => return Ok(receipt),
                Err(step) if step.error.kind() == ErrorKind::StorageAuth && !refreshed => {
                    tracing::debug!(error = %step.error, "storage refused the SAS: fetching fresh ingestion resources");
                    self.cache.invalidate_resources(resources.generation).await;
                    refreshed = true;
                }
                Err(step) => {
                    self.after_failure(&resources, &step).await;
                    return Err(step.error);
                }
            }
        }
    }

    /// Skips the failing account for a while, and drops resources that may be stale.
    async fn after_failure(&self, resources: &IngestionResources, step: &StepError) {
        match step.error.kind() {
            ErrorKind::Transient | ErrorKind::Throttled => {
                self.blob_accounts.penalize(&step.account);
                self.queue_accounts.penalize(&step.account);
                if step.error.status() == Some(404) {
                    self.cache.invalidate_resources(resources.generation).await;
                }
            }
            ErrorKind::StorageAuth => self.cache.invalidate_resources(resources.generation).await,
            _ => {}
        }
    }

    async fn try_ingest(
        &self,
        resources: &IngestionResources,
        req: &QueuedRequest<'_>,
    ) -> Result<QueuedReceipt, StepError> {
        let no_account = |what: &str| StepError {
            error: KustoError::new(ErrorKind::Transient, "queued ingest")
                .with_message(format!("the ingestion resources list no {what}")),
            account: String::new(),
        };
        let container = self
            .blob_accounts
            .pick(&resources.temp_storage)
            .ok_or_else(|| no_account("TempStorage"))?;
        let queue = self
            .queue_accounts
            .pick(&resources.queues)
            .ok_or_else(|| no_account("ingestion queue"))?;
        let name = blob_name(req.database, req.table, req.source_id);
        let blob = self
            .storage
            .put_blob(container, &name, req.body.clone(), &req.metadata)
            .await
            .map_err(|error| StepError {
                error,
                account: container.account(),
            })?;
        let blob_path = container.blob_url(&name);
        let token = self
            .cache
            .identity_token()
            .await
            .map_err(|error| StepError {
                error,
                account: String::new(),
            })?;
        let text = STANDARD
            .encode(message(req, blob_path.as_str(), &token, chrono::Utc::now()).to_string());
        self.storage
            .put_message(queue, &text)
            .await
            .map_err(|error| StepError {
                error,
                account: queue.account(),
            })?;
        Ok(QueuedReceipt {
            source_id: req.source_id,
            blob,
            account: container.account(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(report: bool, tags: &[&str], ine: &[&str]) -> QueuedRequest<'static> {
        QueuedRequest {
            database: "db1",
            table: "T1",
            mapping: "m1",
            body: Bytes::from_static(b"gz"),
            raw_size: 1234,
            source_id: uuid::Uuid::parse_str("6f0f5b5e-9a4e-4c43-9d1e-2f0f7c1e0a01").unwrap(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ingest_if_not_exists: ine.iter().map(|t| t.to_string()).collect(),
            report_failures: report,
            metadata: Vec::new(),
        }
    }

    #[test]
    fn message_shape() {
        let created = chrono::DateTime::parse_from_rfc3339("2026-11-22T03:30:15.089339Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let req = request(true, &["ingest-by:p3-1200-1499"], &["p3-1200-1499"]);
        let m = message(&req, "http://h/a/c/b?sig=s", "tok", created);
        assert_eq!(
            m,
            json!({"Id":"6f0f5b5e-9a4e-4c43-9d1e-2f0f7c1e0a01","BlobPath":"http://h/a/c/b?sig=s",
                "RawDataSize":1234,"DatabaseName":"db1","TableName":"T1",
                "RetainBlobOnSuccess":true,"FlushImmediately":false,"IgnoreSizeLimit":false,
                "ReportLevel":0,"ReportMethod":0,"SourceMessageCreationTime":"2026-11-22T03:30:15.089339",
                "AdditionalProperties":{"authorizationContext":"tok","format":"multijson",
                    "ingestionMappingReference":"m1","ingestionMappingType":"Json",
                    "tags":"[\"ingest-by:p3-1200-1499\"]","ingestIfNotExists":"[\"p3-1200-1499\"]"}})
        );
        // Field order as the SDK sends it.
        let text = m.to_string();
        assert!(text.starts_with("{\"Id\":"), "{text}");
        assert!(text.find("\"ReportLevel\"") < text.find("\"AdditionalProperties\""));

        let m = message(&request(false, &[], &[]), "u", "tok", created);
        assert_eq!(
            (m["ReportLevel"].as_i64(), m["ReportMethod"].as_i64()),
            (Some(1), Some(0))
        );
        let props = m["AdditionalProperties"].as_object().unwrap();
        assert!(!props.contains_key("tags") && !props.contains_key("ingestIfNotExists"));
    }

    #[test]
    fn blob_names() {
        let id = uuid::Uuid::nil();
        assert_eq!(
            blob_name("db1", "T", id),
            "db1__T__00000000-0000-0000-0000-000000000000__iotc-adx.multijson.gz"
        );
    }

    #[test]
    fn failure_reports_parse() {
        let report = json!({"OperationId":"o","Database":"db1","Table":"T",
            "IngestionSourceId":"6f0f5b5e-9a4e-4c43-9d1e-2f0f7c1e0a01",
            "IngestionSourcePath":"http://h/a/c/b?sig=secret","RootActivityId":"r",
            "FailedOn":"2026-01-01T00:00:00Z","Details":"bad data","ErrorCode":"BadRequest_InvalidData",
            "FailureStatus":"Permanent","OriginatesFromUpdatePolicy":false,"ShouldRetry":false});
        let f = parse_failure(&STANDARD.encode(report.to_string())).unwrap();
        assert_eq!(f.source_id, Some(request(true, &[], &[]).source_id));
        assert_eq!((f.database.as_str(), f.table.as_str()), ("db1", "T"));
        assert_eq!(f.error_code, "BadRequest_InvalidData");
        assert_eq!(f.details, "bad data");
        assert!(f.permanent);
        assert_eq!(f.blob.as_deref(), Some("http://h/a/c/b"));
        let transient = json!({"FailureStatus":"Transient","ShouldRetry":true});
        assert!(
            !parse_failure(&STANDARD.encode(transient.to_string()))
                .unwrap()
                .permanent
        );
        assert!(parse_failure("!!").is_err());
        assert!(parse_failure(&STANDARD.encode("nope")).is_err());
    }
}
