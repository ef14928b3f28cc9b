//! [`KustoClient`]: management commands, queries and streaming ingestion against one cluster,
//! one attempt per call, with the headers Kusto expects (client request id, app, version,
//! bearer token) and every failure classified. The [`Transport`] underneath is shared with the
//! queued ingestor, which runs its own commands against the data-management endpoint.

use super::error::{ErrorKind, KustoError};
use super::options::{
    check_base, check_token_transport, default_scope, ingest_endpoint, join, ClientOptions,
};
use super::queued::QueuedIngestor;
use super::request::RequestProperties;
use super::response::Dataset;
use super::status::{Attempt, Service};
use super::transport::Transport;
use bytes::Bytes;
use std::sync::Arc;

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

    /// Runs a query (`v2 == true`) or a control command with client request properties:
    /// query parameters, the service's time and truncation limits, the request id and the
    /// client's time limit for this call. Reports run through here.
    pub async fn run_with(
        &self,
        db: &str,
        csl: &str,
        v2: bool,
        props: &RequestProperties,
    ) -> Result<Dataset, KustoError> {
        self.inner
            .transport
            .command_with(&self.inner.engine, db, csl, v2, props)
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
        send(&c.queued().ingest(crate::QueuedRequest {
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
                .take_failures(1, std::time::Duration::from_secs(1), &|_| true),
        );
    }
}
