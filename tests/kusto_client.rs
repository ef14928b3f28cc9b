//! The Kusto client (`iotc_adx_kusto`, `crates/kusto`) against the testkit's Data Explorer emulator (with
//! Azurite for queued ingestion, and the identity server for bearer tokens): commands, queries,
//! streaming ingestion and how each failure is classified, queued ingestion with dedupe tags,
//! failure reports and an expired SAS, and a real `ClientSecretCredential`.

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::Transport;
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use bytes::Bytes;
use iotc_adx_kusto::{
    ClientOptions, ErrorKind, KustoClient, KustoError, QueuedRequest, StreamingRequest,
};
use iotc_adx_testkit::identity::{
    AppRegistration, IdentityOptions, IdentityServer, TokenAuthority,
};
use iotc_adx_testkit::kusto::{
    AuthMode, Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass, StorageMode,
};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAPPING: &str = r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"dev","Properties":{"Path":"$.d"}},{"column":"n","Properties":{"Path":"$.n"}},{"column":"ts","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixSeconds"}}]'"#;

/// Runs a test body with a time limit, so a hang fails instead of blocking the suite.
async fn bounded<F: Future<Output = ()>>(limit: Duration, body: F) {
    tokio::time::timeout(limit, body)
        .await
        .expect("the test did not finish in time");
}

fn client_with(
    url: &str,
    credential: Option<Arc<dyn TokenCredential>>,
    scope: Option<String>,
) -> KustoClient {
    KustoClient::new(ClientOptions {
        engine: url::Url::parse(url).unwrap(),
        ingest: None,
        credential,
        scope,
        app: "iotc-adx-test".into(),
        timeout: Duration::from_secs(10),
        http: Some(reqwest::Client::builder().no_proxy().build().unwrap()),
    })
    .unwrap()
}

fn client(k: &KustoEmulator) -> KustoClient {
    client_with(k.url(), None, None)
}

fn gzip(data: &[u8]) -> Bytes {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    Bytes::from(enc.finish().unwrap())
}

/// Creates `db1.T (dev:string, n:long, ts:datetime)` with mapping `m1`, through the client.
async fn create_table(c: &KustoClient) {
    c.mgmt("db1", ".create table T (dev:string, n:long, ts:datetime)")
        .await
        .unwrap();
    c.mgmt("db1", MAPPING).await.unwrap();
}

fn streaming<'a>(body: Bytes) -> StreamingRequest<'a> {
    StreamingRequest {
        database: "db1",
        table: "T",
        mapping: "m1",
        body,
        client_request_id: format!("iotc-adx.test;{}", uuid::Uuid::new_v4()),
    }
}

fn queued<'a>(data: &[u8], source_id: uuid::Uuid, tag: Option<&str>) -> QueuedRequest<'a> {
    QueuedRequest {
        database: "db1",
        table: "T",
        mapping: "m1",
        body: gzip(data),
        raw_size: data.len() as u64,
        source_id,
        tags: tag
            .map(|t| vec![format!("ingest-by:{t}")])
            .unwrap_or_default(),
        ingest_if_not_exists: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
        report_failures: true,
        metadata: vec![("testsource".into(), source_id.simple().to_string())],
    }
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(d: &iotc_adx_kusto::Dataset) -> Value {
    d.primary().unwrap().rows[0][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_streaming_ingestion_and_queries() {
    bounded(Duration::from_secs(30), async {
        let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
        let c = client(&k);
        create_table(&c).await;
        let schema = c.mgmt("db1", ".show table T cslschema").await.unwrap();
        let t = schema.primary().unwrap();
        assert_eq!(
            t.rows[0][t.column("Schema").unwrap()],
            "dev:string,n:long,ts:datetime"
        );
        c.mgmt("db1", ".alter table T policy streamingingestion enable")
            .await
            .unwrap();

        let id = format!("iotc-adx.test;{}", uuid::Uuid::new_v4());
        let mut req = streaming(gzip(
            br#"{"d":"a","n":1,"t":1600000000} {"d":"b","n":2,"t":1600000001}"#,
        ));
        req.client_request_id = id.clone();
        c.streaming_ingest(req).await.unwrap();

        let d = c.query("db1", "T | count").await.unwrap();
        assert_eq!(count(&d), json!(2));
        let d = c.query("db1", "T").await.unwrap();
        let p = d.primary().unwrap();
        assert_eq!(p.kind.as_deref(), Some("PrimaryResult"));
        assert_eq!(
            p.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["dev", "n", "ts"]
        );
        assert_eq!(p.columns[1].r#type, "long");
        assert_eq!(
            p.rows[0],
            vec![json!("a"), json!(1), json!("2020-09-13T12:26:40.0000000Z")]
        );
        assert!(
            d.tables.len() > 1,
            "v2 answers carry more than the primary result"
        );

        // The headers of every request.
        let log = k.requests();
        let ingest = log
            .iter()
            .find(|r| r.path == "/v1/rest/ingest/db1/T")
            .unwrap();
        assert_eq!(ingest.headers.get("x-ms-client-request-id"), Some(&id));
        assert_eq!(
            ingest.headers.get("content-encoding").map(String::as_str),
            Some("gzip")
        );
        let query = ingest.query.as_deref().unwrap_or("");
        assert!(
            query.contains("streamFormat=multijson") && query.contains("mappingName=m1"),
            "{query}"
        );
        for r in &log {
            assert_eq!(
                r.headers.get("x-ms-app").map(String::as_str),
                Some("iotc-adx-test"),
                "{r:?}"
            );
            assert_eq!(
                r.headers.get("x-ms-client-version").map(String::as_str),
                Some(concat!("iotc-adx/", env!("CARGO_PKG_VERSION")))
            );
            assert!(
                !r.authorized_header,
                "no credential, no Authorization header"
            );
        }
        let mgmt = log.iter().find(|r| r.path == "/v1/rest/mgmt").unwrap();
        assert!(mgmt.headers["x-ms-client-request-id"].starts_with("iotc-adx.mgmt;"));
        assert_eq!(
            mgmt.headers["content-type"],
            "application/json; charset=utf-8"
        );
        let q = log.iter().find(|r| r.path == "/v2/rest/query").unwrap();
        assert!(q.headers["x-ms-client-request-id"].starts_with("iotc-adx.query;"));

        // A query on a missing table: permanent, with the service's words.
        let e = c.query("db1", "Missing | count").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Permanent, "{e}");
        assert_eq!(e.status(), Some(400));
        assert!(e.to_string().contains("POST http://127.0.0.1:"), "{e}");
        // A bad control command too.
        let e = c.mgmt("db1", ".frobnicate table T").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Permanent, "{e}");
    })
    .await;
}

fn assert_kind(e: &KustoError, kind: ErrorKind) {
    assert_eq!(e.kind(), kind, "{e}");
    assert!(e.client_request_id().is_some(), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_failures_are_classified() {
    bounded(Duration::from_secs(30), async {
        let k = KustoEmulator::start(KustoOptions {
            max_streaming_request_bytes: 2048,
            ..KustoOptions::default()
        })
        .await
        .unwrap();
        let c = client(&k);
        create_table(&c).await;
        let row = br#"{"d":"a","n":1,"t":1600000000}"#;

        // The table's streaming policy is off.
        let e = c.streaming_ingest(streaming(gzip(row))).await.unwrap_err();
        assert_kind(&e, ErrorKind::StreamingDisabled);
        assert!(
            e.code()
                .unwrap()
                .contains("StreamingIngestionPolicyNotEnabled"),
            "{e}"
        );
        k.set_table_streaming("db1", "T", true);

        // Too large: incompressible data above the emulator's 2 KiB limit.
        let noise: Vec<u8> = (0..8192).map(|_| fastrand::u8(..)).collect();
        let e = c
            .streaming_ingest(streaming(gzip(&noise)))
            .await
            .unwrap_err();
        assert_kind(&e, ErrorKind::TooLarge);
        assert_eq!(e.status(), Some(413));

        // Throttled, with the service's Retry-After.
        k.inject(Fault {
            class: RouteClass::Ingest,
            kind: FaultKind::Throttle {
                retry_after_secs: 7,
            },
            count: 1,
        });
        let e = c.streaming_ingest(streaming(gzip(row))).await.unwrap_err();
        assert_kind(&e, ErrorKind::Throttled);
        assert_eq!(
            (e.status(), e.retry_after()),
            (Some(429), Some(Duration::from_secs(7)))
        );
        assert!(e.activity_id().is_some(), "{e}");

        // 5xx and a reset connection: transient.
        for status in [500, 503, 504] {
            k.inject(Fault {
                class: RouteClass::Ingest,
                kind: FaultKind::Status(status),
                count: 1,
            });
            let e = c.streaming_ingest(streaming(gzip(row))).await.unwrap_err();
            assert_kind(&e, ErrorKind::Transient);
            assert_eq!((e.status(), e.retry_after()), (Some(status), None));
        }
        k.inject(Fault {
            class: RouteClass::Ingest,
            kind: FaultKind::Reset,
            count: 1,
        });
        let e = c.streaming_ingest(streaming(gzip(row))).await.unwrap_err();
        assert_kind(&e, ErrorKind::Transient);
        assert_eq!(e.status(), None);

        // A row the table cannot take: permanent, with the service's message.
        let e = c
            .streaming_ingest(streaming(gzip(br#"{"d":"a","n":"many","t":1}"#)))
            .await
            .unwrap_err();
        assert_kind(&e, ErrorKind::Permanent);
        assert_eq!(e.status(), Some(400));
        let message = e.message().unwrap();
        assert!(
            message.contains("Bad streaming ingestion request to db1.T"),
            "{message}"
        );
        assert!(e.to_string().contains(message), "{e}");

        // Throttled commands and queries too.
        k.inject(Fault {
            class: RouteClass::Query,
            kind: FaultKind::Throttle {
                retry_after_secs: 2,
            },
            count: 1,
        });
        let e = c.query("db1", "T | count").await.unwrap_err();
        assert_eq!(
            (e.kind(), e.retry_after()),
            (ErrorKind::Throttled, Some(Duration::from_secs(2)))
        );

        // After all that, one good request lands exactly once.
        c.streaming_ingest(streaming(gzip(row))).await.unwrap();
        assert_eq!(k.rows("db1", "T").len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_ingestion_dedupes_and_reports_failures() {
    bounded(Duration::from_secs(50), async {
        let k = KustoEmulator::start(KustoOptions {
            storage: StorageMode::Own,
            queued_batching_time: Some(Duration::from_millis(200)),
            queue_poll_interval: Duration::from_millis(100),
            ..KustoOptions::default()
        })
        .await
        .unwrap();
        let c = client(&k);
        create_table(&c).await;
        let ingestor = c.queued();

        let source = uuid::Uuid::new_v4();
        let data = br#"{"d":"a","n":1,"t":1600000000} {"d":"b","n":2,"t":1600000001}"#;
        let receipt = ingestor
            .ingest(queued(data, source, Some("batch-1")))
            .await
            .unwrap();
        assert_eq!(receipt.source_id, source);
        assert_eq!(receipt.account, "devstoreaccount1");
        assert!(
            receipt
                .blob
                .ends_with(&format!("/db1__T__{source}__iotc-adx.multijson.gz")),
            "{}",
            receipt.blob
        );
        assert!(!receipt.blob.contains('?'), "{}", receipt.blob);
        wait_for("the queued rows", || k.rows("db1", "T").len() == 2).await;
        let d = c.query("db1", "T | count").await.unwrap();
        assert_eq!(count(&d), json!(2));

        // The same batch again (a retry): skipped by its ingest-by tag, reported as a failure.
        ingestor
            .ingest(queued(data, source, Some("batch-1")))
            .await
            .unwrap();
        wait_for("the skipped retry", || k.state().failures.len() == 1).await;
        // Data the table cannot take.
        let bad = uuid::Uuid::new_v4();
        ingestor
            .ingest(queued(br#"{"d":"c","n":"many","t":1}"#, bad, None))
            .await
            .unwrap();
        wait_for("the bad batch", || k.state().failures.len() == 2).await;
        assert_eq!(k.rows("db1", "T").len(), 2, "rows ingested once");

        let mut failures = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while failures.len() < 2 {
            assert!(
                Instant::now() < deadline,
                "failure reports did not arrive: {failures:?}"
            );
            let taken = ingestor
                .take_failures(10, Duration::from_secs(30), &|_| true)
                .await
                .unwrap();
            failures.extend(taken);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        failures.sort_by_key(|f| f.failure.error_code.clone());
        assert_eq!(failures.len(), 2, "{failures:?}");
        // The batch's blob can be read back: its metadata and its rows.
        let blob = failures[0].failure.blob.clone().unwrap();
        let (metadata, body) = ingestor.read_blob(&blob).await.unwrap();
        assert_eq!(
            metadata,
            vec![("testsource".to_string(), bad.simple().to_string())]
        );
        let mut rows = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut rows)
            .unwrap();
        assert_eq!(rows, r#"{"d":"c","n":"many","t":1}"#);
        for f in &failures {
            ingestor.settle_failure(f).await.unwrap();
        }
        let failures: Vec<_> = failures.into_iter().map(|f| f.failure).collect();
        assert_eq!(failures[0].error_code, "BadRequest_InvalidData");
        assert_eq!(failures[0].source_id, Some(bad));
        assert!(failures[0].permanent);
        assert_eq!(
            (failures[0].database.as_str(), failures[0].table.as_str()),
            ("db1", "T")
        );
        assert!(!failures[0].details.is_empty());
        assert!(failures[0]
            .blob
            .as_deref()
            .is_some_and(|b| b.contains(&bad.to_string()) && !b.contains('?')));
        assert_eq!(failures[1].error_code, "Skipped_IngestByTagAlreadyExists");
        assert_eq!(failures[1].source_id, Some(source));
        // Taken and settled: nothing left.
        let left = ingestor
            .take_failures(10, Duration::from_secs(30), &|_| true)
            .await
            .unwrap();
        assert!(left.is_empty(), "{left:?}");

        // Resources and identity token were fetched once for all of it.
        let mgmt_calls = k
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/rest/mgmt")
            .count();
        assert_eq!(
            mgmt_calls,
            2 + 2,
            "table and mapping, then resources and token once each"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_ingestion_refreshes_an_expired_sas() {
    bounded(Duration::from_secs(50), async {
        let k = KustoEmulator::start(KustoOptions {
            storage: StorageMode::Own,
            queued_batching_time: Some(Duration::from_millis(200)),
            queue_poll_interval: Duration::from_millis(100),
            ..KustoOptions::default()
        })
        .await
        .unwrap();
        let c = client(&k);
        create_table(&c).await;
        // Long enough for the emulator to fetch the first blob under load, short enough to wait out.
        k.set_sas_lifetime(Some(Duration::from_secs(4)));
        c.queued()
            .ingest(queued(
                br#"{"d":"a","n":1,"t":1}"#,
                uuid::Uuid::new_v4(),
                None,
            ))
            .await
            .unwrap();
        let before = k
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/rest/mgmt")
            .count();
        wait_for("the first batch", || k.rows("db1", "T").len() == 1).await;
        // The cached SAS expires; the next resources are good again.
        tokio::time::sleep(Duration::from_millis(4100)).await;
        k.set_sas_lifetime(None);
        c.queued()
            .ingest(queued(
                br#"{"d":"b","n":2,"t":2}"#,
                uuid::Uuid::new_v4(),
                None,
            ))
            .await
            .unwrap();
        let after = k
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/rest/mgmt")
            .count();
        assert_eq!(
            after - before,
            1,
            "exactly one re-fetch of the ingestion resources"
        );
        wait_for("both batches", || k.rows("db1", "T").len() == 2).await;
        assert!(k.state().failures.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bearer_tokens_from_a_client_secret_credential() {
    bounded(Duration::from_secs(30), async {
        const APP: &str = "11111111-1111-1111-1111-111111111111";
        const SECRET: &str = "s3cret~value";
        let identity = IdentityServer::start(
            TokenAuthority::default(),
            IdentityOptions {
                applications: vec![AppRegistration::with_secret(APP, SECRET)],
                ..IdentityOptions::default()
            },
        )
        .await
        .unwrap();
        let k = KustoEmulator::start(KustoOptions {
            auth: AuthMode::Tokens {
                authority: identity.authority().clone(),
                audiences: vec![],
            },
            ..KustoOptions::default()
        })
        .await
        .unwrap();
        // As testkit's identity tests do: the server as a custom cloud's authority host, over
        // HTTPS with a transport trusting its CA.
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = identity.authority_host();
        let options = azure_core::http::ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
            transport: Some(Transport::new(Arc::new(identity.https_client().unwrap()))),
            ..Default::default()
        };
        let credential: Arc<dyn TokenCredential> = ClientSecretCredential::new(
            identity.authority().tenant(),
            APP.to_string(),
            Secret::new(SECRET.to_string()),
            Some(ClientSecretCredentialOptions {
                client_options: options,
            }),
        )
        .unwrap();

        // The default scope (<engine>/.default) is the audience the emulator expects.
        let c = client_with(k.url(), Some(credential.clone()), None);
        c.mgmt("db1", ".create table T (dev:string, n:long, ts:datetime)")
            .await
            .unwrap();
        let d = c.query("db1", "T | count").await.unwrap();
        assert_eq!(count(&d), json!(0));
        assert!(k
            .requests()
            .iter()
            .all(|r| r.authorized_header && r.status == 200));
        assert_eq!(
            identity.requests().len(),
            1,
            "the credential cached its token"
        );

        // No credential, or a token for another audience: refused, and said so.
        let e = client(&k).mgmt("db1", ".show version").await.unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::Unauthorized, Some(401)),
            "{e}"
        );
        let other = client_with(
            k.url(),
            Some(credential),
            Some("https://other.kusto.windows.net/.default".into()),
        );
        let e = other.query("db1", "T | count").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
        assert!(e.message().unwrap().contains("audience"), "{e}");
        assert!(!e.to_string().contains("eyJ"), "no token in the text: {e}");

        // A credential that cannot get a token at all.
        let bad: Arc<dyn TokenCredential> = ClientSecretCredential::new(
            identity.authority().tenant(),
            APP.to_string(),
            Secret::new("wrong".to_string()),
            Some(ClientSecretCredentialOptions {
                client_options: azure_core::http::ClientOptions {
                    cloud: Some(Arc::new(CloudConfiguration::from({
                        let mut cloud = CustomConfiguration::default();
                        cloud.authority_host = identity.authority_host();
                        cloud
                    }))),
                    transport: Some(Transport::new(Arc::new(identity.https_client().unwrap()))),
                    ..Default::default()
                },
            }),
        )
        .unwrap();
        let e = client_with(k.url(), Some(bad), None)
            .mgmt("db1", ".show version")
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::Unauthorized, None),
            "{e}"
        );
        assert!(
            std::error::Error::source(&e).is_some(),
            "the credential's error is kept"
        );
    })
    .await;
}
