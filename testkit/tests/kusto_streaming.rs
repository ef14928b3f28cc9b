//! Streaming ingestion into the Data Explorer emulator, and queries over what was ingested.

mod kusto_common;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use kusto_common::*;
use serde_json::json;

async fn table_with_mapping(k: &KustoEmulator) {
    let url = k.url();
    let (s, _) = mgmt(url, "db1", ".create table T (dev:string, ts:datetime, enq:datetime, temp:real, src:string, raw:dynamic)").await;
    assert_eq!(s, 200);
    let mapping = r#".create-or-alter table T ingestion json mapping 'm1' '[
        {"column":"dev","Properties":{"Path":"$.device.id"}},
        {"column":"ts","datatype":"datetime","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixMilliseconds"}},
        {"column":"enq","Properties":{"Path":"$[\'x-opt-enqueued-time\']"}},
        {"column":"temp","Properties":{"Path":"$.telemetry.temp"}},
        {"column":"src","Properties":{"ConstValue":"iotc"}},
        {"column":"raw","Properties":{"Path":"$"}}]'"#;
    let (s, body) = mgmt(url, "db1", mapping).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = mgmt(
        url,
        "db1",
        ".alter table T policy streamingingestion enable",
    )
    .await;
    assert_eq!(s, 200);
}

const RECORDS: &str = r#"{"device":{"id":"d1"},"t":1600000000000,"x-opt-enqueued-time":"2020-09-13T12:26:41.5Z","telemetry":{"temp":21.5}}
{"device":{"id":"d2"},"t":1600000001000,"x-opt-enqueued-time":"2020-09-13T12:26:42Z","telemetry":{"temp":"22"}}"#;

#[tokio::test]
async fn json_with_mapping_lands_and_is_queryable() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    table_with_mapping(&k).await;
    let (s, body) = ingest(
        k.url(),
        "db1",
        "T",
        "streamFormat=multijson&mappingName=m1",
        RECORDS.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["Tables"][0]["Columns"][0]["ColumnName"],
        "ConsumedRecordsCount"
    );
    assert_eq!(v1_rows(&body)[0][0], 2);

    let (s, frames) = query(k.url(), "db1", "T").await;
    assert_eq!(s, 200, "{frames}");
    let kinds: Vec<_> = frames
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FrameType"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "DataSetHeader",
            "DataTable",
            "DataTable",
            "DataTable",
            "DataSetCompletion"
        ]
    );
    let rows = primary_rows(&frames);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "d1");
    assert_eq!(rows[0][1], "2020-09-13T12:26:40.0000000Z");
    assert_eq!(rows[0][2], "2020-09-13T12:26:41.5000000Z");
    assert_eq!(rows[0][3], 21.5);
    assert_eq!(rows[1][3], 22.0);
    assert_eq!(rows[0][4], "iotc");
    assert_eq!(rows[0][5]["device"]["id"], "d1");

    let (_, frames) = query(k.url(), "db1", "T | count").await;
    assert_eq!(primary_rows(&frames), vec![json!([2])]);
    let (s, body) = post(
        k.url(),
        "/v1/rest/query",
        json!({"db": "db1", "csl": "T | count"}),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v1_rows(&body), vec![json!([2])]);
    assert_eq!(body["Tables"][0]["Columns"][0]["DataType"], "Int64");

    // A query the engine cannot run is a 400 naming the problem.
    let (s, body) = query(k.url(), "db1", "Nope | count").await;
    assert_eq!(s, 400);
    assert!(
        body["error"]["@message"].as_str().unwrap().contains("Nope"),
        "{body}"
    );
}

#[tokio::test]
async fn gzip_is_sniffed_and_csv_works() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    table_with_mapping(&k).await;
    // gzipped, with Content-Encoding: gzip (the helper always sends it, as Python does)
    let (s, body) = ingest(
        k.url(),
        "db1",
        "T",
        "streamFormat=json&mappingName=m1",
        gzip(RECORDS.as_bytes()),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // gzipped without any Content-Encoding
    let response = client()
        .post(format!(
            "{}/v1/rest/ingest/db1/T?streamFormat=MultiJSON&mappingName=m1",
            k.url()
        ))
        .body(gzip(RECORDS.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // CSV maps by position, no mapping needed
    let (s, body) = ingest(
        k.url(),
        "db1",
        "T",
        "streamFormat=csv",
        b"d9,2021-01-01T00:00:00Z,,1.5,\"a,b\",{\"k\":1}\n".to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let rows = k.rows("db1", "T");
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[4],
        json!(["d9", "2021-01-01T00:00:00.0000000Z", null, 1.5, "a,b", {"k": 1}])
            .as_array()
            .unwrap()
            .clone()
    );
}

#[tokio::test]
async fn refusals_follow_the_service() {
    let k = KustoEmulator::start(KustoOptions {
        max_streaming_request_bytes: 1024,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    table_with_mapping(&k).await;
    let url = k.url();

    // Too large: 413 Stream_InputStreamTooLarge, permanent.
    let big = RECORDS.repeat(10).into_bytes();
    let (s, body) = ingest(
        url,
        "db1",
        "T",
        "streamFormat=multijson&mappingName=m1",
        big,
    )
    .await;
    assert_eq!(s, 413, "{body}");
    assert_eq!(body["error"]["code"], "Stream_InputStreamTooLarge");
    assert_eq!(body["error"]["@permanent"], true);

    // JSON without a mapping, an unknown mapping, an unknown format, an empty body.
    for q in [
        "streamFormat=json",
        "streamFormat=json&mappingName=zz",
        "streamFormat=xml",
        "streamFormat=",
    ] {
        let (s, body) = ingest(url, "db1", "T", q, RECORDS.as_bytes().to_vec()).await;
        assert_eq!(s, 400, "{q}: {body}");
        assert!(body["error"]["@message"].is_string());
    }
    let (s, body) = ingest(
        url,
        "db1",
        "T",
        "streamFormat=json&mappingName=m1",
        Vec::new(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body["error"]["@message"]
        .as_str()
        .unwrap()
        .contains("empty"));

    // A value that does not fit: nothing of the request lands.
    let bad = br#"{"device":{"id":"d1"},"t":1,"x-opt-enqueued-time":"2020-01-01T00:00:00Z"}
{"device":{"id":"d2"},"t":1,"x-opt-enqueued-time":"yesterday"}"#;
    let (s, body) = ingest(
        url,
        "db1",
        "T",
        "streamFormat=json&mappingName=m1",
        bad.to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let message = body["error"]["@message"].as_str().unwrap();
    assert!(
        message.contains("enq") && message.contains("yesterday"),
        "{message}"
    );
    assert_eq!(body["error"]["@permanent"], true);
    assert!(k.rows("db1", "T").is_empty());

    // Unknown table / database.
    let (s, _) = ingest(url, "db1", "Nope", "streamFormat=csv", b"x".to_vec()).await;
    assert_eq!(s, 400);
    let (s, _) = ingest(url, "nodb", "T", "streamFormat=csv", b"x".to_vec()).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn streaming_policy_off_is_refused() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (a:string)").await;
    // Off by default.
    let (s, body) = ingest(url, "db1", "T", "streamFormat=csv", b"x\n".to_vec()).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["error"]["code"]
        .as_str()
        .unwrap()
        .contains("StreamingIngestionPolicyNotEnabled"));
    assert_eq!(body["error"]["@permanent"], false);
    // Enabled on the database: allowed.
    mgmt(
        url,
        "db1",
        ".alter database db1 policy streamingingestion enable",
    )
    .await;
    let (s, _) = ingest(url, "db1", "T", "streamFormat=csv", b"x\n".to_vec()).await;
    assert_eq!(s, 200);
    // Turned off on the table by the test (fault): refused again.
    k.set_table_streaming("db1", "T", false);
    let (s, _) = ingest(url, "db1", "T", "streamFormat=csv", b"x\n".to_vec()).await;
    assert_eq!(s, 400);
    assert_eq!(k.rows("db1", "T").len(), 1);
}

/// The emulator answers real KQL over what was ingested (the `kql` engine behind `/v2/rest/query`),
/// and refuses what is outside the subset with a Kusto-shaped 400.
#[tokio::test]
async fn summarize_queries_over_ingested_rows() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    table_with_mapping(&k).await;
    let (s, body) = ingest(
        k.url(),
        "db1",
        "T",
        "streamFormat=multijson&mappingName=m1",
        RECORDS.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, frames) =
        query(k.url(), "db1", "T | where temp > 21 | summarize n = count(), hottest = max(temp) by dev | order by dev asc").await;
    assert_eq!(s, 200, "{frames}");
    assert_eq!(
        primary_rows(&frames),
        vec![json!(["d1", 1, 21.5]), json!(["d2", 1, 22.0])]
    );
    let (s, error) = query(k.url(), "db1", "T | make-series n = count() on ts step 1h").await;
    assert_eq!(s, 400, "{error}");
    assert!(
        error["error"]["@message"]
            .as_str()
            .unwrap_or_default()
            .contains("make-series"),
        "{error}"
    );
}
