//! [`KustoClient`]: management commands, queries and streaming ingestion against one cluster,
//! one attempt per call, with the headers Kusto expects (client request id, app, version,
//! bearer token) and every failure classified. The [`Transport`] underneath is shared with the
//! queued ingestor, which runs its own commands against the data-management endpoint.

use super::error::{ErrorKind, KustoError};
use super::options::{
    check_base, check_token_transport, default_scope, ingest_endpoint, join, ClientOptions,
};
use super::queued::QueuedIngestor;
use super::response::{parse_v1, parse_v2, Dataset, ResponseError};
use super::status::{permanence, Attempt, Service};
use azure_core::credentials::TokenCredential;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// `x-ms-client-version`.
const CLIENT_VERSION: &str = concat!("iotc-adx/", env!("CARGO_PKG_VERSION"));

/// A client for one cluster: the engine (commands, queries, streaming ingestion) and, through
/// [`KustoClient::queued`], its data-management endpoint. Cheap to clone.
#[derive(Clone, Debug)]
pub struct KustoClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    transport: Arc<Transport>,
    engine: url::Url,
    queued: QueuedIngestor,
}

/// One streaming ingestion request: gzipped multi-JSON for one table, through a mapping that
/// already exists on it.
#[derive(Debug, Clone)]
pub struct StreamingRequest<'a> {
    /// Database name.
    pub database: &'a str,
    /// Table name.
    pub table: &'a str,
    /// Name of the table's JSON ingestion mapping.
    pub mapping: &'a str,
    /// The records, multi-JSON, already gzipped.
    pub body: Bytes,
    /// Sent as `x-ms-client-request-id`, so the sink can correlate attempts with the cluster's
    /// logs.
    pub client_request_id: String,
}

/// The HTTP side shared by the engine calls and the queued ingestor: the HTTP client, the
/// credential and the headers every Kusto request carries.
pub(super) struct Transport {
    pub http: reqwest::Client,
    credential: Option<Arc<dyn TokenCredential>>,
    scope: String,
    app: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("credential", &self.credential.is_some())
            .field("scope", &self.scope)
            .field("app", &self.app)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A fresh client request id for `operation`: `iotc-adx.<operation>;<uuid>`.
pub(super) fn request_id(operation: &str) -> String {
    format!("iotc-adx.{operation};{}", uuid::Uuid::new_v4())
}

/// What a credential failure means for the caller.
fn credential_kind(e: &azure_core::Error) -> ErrorKind {
    use azure_core::error::ErrorKind as Az;
    match e.kind() {
        Az::Io | Az::Connection => ErrorKind::Transient,
        _ => match e.http_status().map(u16::from) {
            Some(429) => ErrorKind::Throttled,
            Some(s) if s >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Unauthorized,
        },
    }
}

impl Transport {
    /// The `Authorization` value, fetched per request (the credential caches tokens).
    async fn bearer(&self, attempt: &Attempt<'_>) -> Result<Option<String>, KustoError> {
        let Some(credential) = &self.credential else {
            return Ok(None);
        };
        match credential.get_token(&[self.scope.as_str()], None).await {
            Ok(token) => Ok(Some(format!("Bearer {}", token.token.secret()))),
            Err(e) => Err(attempt
                .base(credential_kind(&e))
                .with_message(format!("cannot get a token for scope {}", self.scope))
                .with_source(e)),
        }
    }

    /// POSTs to a Kusto endpoint and returns the body of a 2xx answer.
    pub async fn post(
        &self,
        attempt: &Attempt<'_>,
        url: url::Url,
        body: Bytes,
        content_type: &str,
        gzipped: bool,
    ) -> Result<Bytes, KustoError> {
        let mut request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header("x-ms-client-request-id", attempt.client_request_id)
            .header("x-ms-app", &self.app)
            .header("x-ms-client-version", CLIENT_VERSION)
            .header("accept", "application/json")
            .header("content-type", content_type)
            .body(body);
        if gzipped {
            request = request.header("content-encoding", "gzip");
        }
        if let Some(bearer) = self.bearer(attempt).await? {
            request = request.header("authorization", bearer);
        }
        attempt.send(request).await
    }

    /// Runs a control command (`v2 == false`, `/v1/rest/mgmt`) or a query (`/v2/rest/query`)
    /// against `endpoint`.
    pub async fn command(
        &self,
        endpoint: &url::Url,
        db: &str,
        csl: &str,
        v2: bool,
    ) -> Result<Dataset, KustoError> {
        let (operation, segments) = if v2 {
            ("query", ["v2", "rest", "query"])
        } else {
            ("mgmt", ["v1", "rest", "mgmt"])
        };
        let url = join(endpoint, &segments)?;
        let id = request_id(operation);
        let url_text = url.to_string();
        let attempt = Attempt {
            operation,
            method: "POST",
            url: &url_text,
            client_request_id: &id,
            service: Service::Kusto,
        };
        let body = json!({"db": db, "csl": csl, "properties": {"Options": {}, "Parameters": {}}});
        let bytes = self
            .post(
                &attempt,
                url,
                Bytes::from(body.to_string()),
                "application/json; charset=utf-8",
                false,
            )
            .await?;
        let parsed = if v2 {
            parse_v2(&bytes)
        } else {
            parse_v1(&bytes)
        };
        parsed.map_err(|e| answer_error(&attempt, e))
    }
}

/// The error for a 200 answer that failed inside or could not be read.
fn answer_error(attempt: &Attempt<'_>, e: ResponseError) -> KustoError {
    match e {
        ResponseError::Malformed(m) => attempt.base(ErrorKind::Transient).with_message(m),
        ResponseError::Failed(errors) => {
            // Permanent as soon as one of the errors is.
            let kind = if errors.iter().all(|e| e.permanent == Some(false)) {
                ErrorKind::Transient
            } else {
                permanence(None)
            };
            let first = errors.first().cloned().unwrap_or_default();
            let mut err = attempt.base(kind);
            err.details.status = Some(200);
            err.details.code = first.code;
            err.details.activity_id = first.activity_id;
            let mut message = first.message.unwrap_or_default();
            if errors.len() > 1 {
                message.push_str(&format!(" (and {} more errors)", errors.len() - 1));
            }
            err.with_message(message)
        }
    }
}

impl KustoClient {
    /// A client for the cluster `options` names. Fails on URLs that cannot carry REST paths,
    /// on a credential with a plain-http URL that is not local, or when the HTTP client cannot
    /// be built.
    pub fn new(options: ClientOptions) -> Result<Self, KustoError> {
        check_base("engine", &options.engine)?;
        let ingest = match &options.ingest {
            Some(u) => u.clone(),
            None => ingest_endpoint(&options.engine)?,
        };
        check_base("ingest", &ingest)?;
        if options.credential.is_some() {
            check_token_transport("engine", &options.engine)?;
            check_token_transport("ingest", &ingest)?;
        }
        let http = match options.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .gzip(true)
                .timeout(options.timeout)
                .build()
                .map_err(|e| {
                    KustoError::new(ErrorKind::Permanent, "client setup")
                        .with_message("cannot build the HTTP client")
                        .with_source(e)
                })?,
        };
        let transport = Arc::new(Transport {
            http,
            credential: options.credential,
            scope: options
                .scope
                .unwrap_or_else(|| default_scope(&options.engine)),
            app: options.app,
            timeout: options.timeout,
        });
        Ok(KustoClient {
            inner: Arc::new(Inner {
                queued: QueuedIngestor::new(transport.clone(), ingest),
                transport,
                engine: options.engine,
            }),
        })
    }

    /// The engine URL.
    pub fn engine(&self) -> &url::Url {
        &self.inner.engine
    }

    /// Runs a control command (text starting with `.`) on the engine: `/v1/rest/mgmt`.
    pub async fn mgmt(&self, db: &str, csl: &str) -> Result<Dataset, KustoError> {
        self.inner
            .transport
            .command(&self.inner.engine, db, csl, false)
            .await
    }

    /// Runs a query on the engine: `/v2/rest/query`. A partial failure reported inside a 200
    /// answer is an error.
    pub async fn query(&self, db: &str, csl: &str) -> Result<Dataset, KustoError> {
        self.inner
            .transport
            .command(&self.inner.engine, db, csl, true)
            .await
    }

    /// Streams one gzipped multi-JSON body into a table through its mapping:
    /// `POST /v1/rest/ingest/{db}/{table}?streamFormat=multijson&mappingName=...`.
    pub async fn streaming_ingest(&self, req: StreamingRequest<'_>) -> Result<(), KustoError> {
        let mut url = join(
            &self.inner.engine,
            &["v1", "rest", "ingest", req.database, req.table],
        )?;
        url.query_pairs_mut()
            .append_pair("streamFormat", "multijson")
            .append_pair("mappingName", req.mapping);
        let url_text = url.to_string();
        let attempt = Attempt {
            operation: "streaming ingest",
            method: "POST",
            url: &url_text,
            client_request_id: &req.client_request_id,
            service: Service::Streaming,
        };
        self.inner
            .transport
            .post(&attempt, url, req.body, "application/json", true)
            .await?;
        Ok(())
    }

    /// Queued ingestion through the cluster's data-management endpoint.
    pub fn queued(&self) -> &QueuedIngestor {
        &self.inner.queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(engine: &str) -> ClientOptions {
        ClientOptions::new(url::Url::parse(engine).unwrap())
    }

    #[test]
    fn credential_failures_are_classified() {
        use azure_core::error::ErrorKind as Az;
        let e = |kind: Az| azure_core::Error::with_message(kind, "x");
        assert_eq!(credential_kind(&e(Az::Io)), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(Az::Connection)), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(Az::Credential)), ErrorKind::Unauthorized);
        let http = |status: u16| Az::HttpResponse {
            status: azure_core::http::StatusCode::from(status),
            error_code: None,
            raw_response: None,
        };
        assert_eq!(credential_kind(&e(http(429))), ErrorKind::Throttled);
        assert_eq!(credential_kind(&e(http(503))), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(http(400))), ErrorKind::Unauthorized);
    }

    #[test]
    fn new_derives_the_ingest_endpoint_and_checks_urls() {
        let c = KustoClient::new(options("https://c.westeurope.kusto.windows.net")).unwrap();
        assert_eq!(
            c.queued().endpoint().as_str(),
            "https://ingest-c.westeurope.kusto.windows.net/"
        );
        let c = KustoClient::new(options("http://127.0.0.1:1234")).unwrap();
        assert_eq!(c.queued().endpoint().as_str(), "http://127.0.0.1:1234/");
        let mut o = options("https://c.kusto.windows.net");
        o.ingest = Some(url::Url::parse("https://dm.example").unwrap());
        assert_eq!(
            KustoClient::new(o).unwrap().queued().endpoint().as_str(),
            "https://dm.example/"
        );
        let e = KustoClient::new(options("ftp://c.kusto.windows.net")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Permanent);
    }

    /// The sink runs these on a multi-threaded runtime: the futures and the error must be Send.
    #[test]
    fn futures_and_errors_are_send() {
        fn send<T: Send>(_: &T) {}
        fn sync_static<T: Send + Sync + 'static>() {}
        sync_static::<KustoError>();
        sync_static::<KustoClient>();
        let c = KustoClient::new(options("http://127.0.0.1:1")).unwrap();
        send(&c.mgmt("db", ".show version"));
        send(&c.query("db", "T"));
        send(&c.streaming_ingest(StreamingRequest {
            database: "db",
            table: "T",
            mapping: "m",
            body: Bytes::new(),
            client_request_id: String::new(),
        }));
        send(&c.queued().ingest(crate::kusto::QueuedRequest {
            database: "db",
            table: "T",
            mapping: "m",
            body: Bytes::new(),
            raw_size: 0,
            source_id: uuid::Uuid::nil(),
            tags: Vec::new(),
            ingest_if_not_exists: Vec::new(),
            report_failures: false,
            metadata: Vec::new(),
        }));
        send(
            &c.queued()
                .take_failures(1, Duration::from_secs(1), &|_| true),
        );
    }

    #[test]
    fn request_ids_name_the_operation() {
        let id = request_id("query");
        let (op, uuid) = id.split_once(';').unwrap();
        assert_eq!(op, "iotc-adx.query");
        assert!(uuid::Uuid::parse_str(uuid).is_ok());
    }
}
