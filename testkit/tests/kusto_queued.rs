//! Queued ingestion through Azurite: the emulator's worker takes messages from
//! `readyforaggregation-secured`, ingests the blobs, honours tags and reports outcomes.

mod kusto_common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
use kusto_common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn resources(url: &str) -> Vec<(String, String)> {
    let (s, body) = mgmt(url, "NetDefaultDB", ".get ingestion resources").await;
    assert_eq!(s, 200, "{body}");
    v1_rows(&body)
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn resource(all: &[(String, String)], kind: &str) -> (String, String) {
    let url = &all.iter().find(|(k, _)| k == kind).unwrap().1;
    let (base, sas) = url.split_once('?').unwrap();
    (base.to_string(), sas.to_string())
}

/// Uploads `data` as a blob and queues an ingestion message for it, as the SDKs do.
async fn queue_ingestion(
    url: &str,
    table: &str,
    data: &[u8],
    extra: Value,
    report_level: i64,
) -> String {
    let all = resources(url).await;
    let (container, sas) = resource(&all, "TempStorage");
    let id = uuid::Uuid::new_v4().to_string();
    let blob = format!("{container}/db1__{table}__{id}__stream.gz?{sas}");
    let put = client()
        .put(&blob)
        .header("x-ms-blob-type", "BlockBlob")
        .body(gzip(data))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);
    let (_, token) = mgmt(url, "NetDefaultDB", ".get kusto identity token").await;
    let mut props = json!({"authorizationContext": v1_rows(&token)[0][0], "format": "multijson", "ingestionMappingReference": "m1", "ingestionMappingType": "Json"});
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let message = json!({"Id": id, "BlobPath": blob, "RawDataSize": data.len(), "DatabaseName": "db1", "TableName": table,
        "RetainBlobOnSuccess": true, "FlushImmediately": false, "IgnoreSizeLimit": false, "ReportLevel": report_level, "ReportMethod": 0,
        "SourceMessageCreationTime": "2026-11-22T03:30:15.089339", "AdditionalProperties": props});
    let (queue, qsas) = resource(&all, "SecuredReadyForAggregationQueue");
    let body = format!(
        "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
        STANDARD.encode(message.to_string())
    );
    let post = client()
        .post(format!("{queue}/messages?{qsas}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(post.status().is_success(), "{:?}", post.text().await);
    id
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Takes the JSON status messages from a status queue.
async fn statuses(all: &[(String, String)], kind: &str) -> Vec<Value> {
    let (queue, sas) = resource(all, kind);
    let xml = client()
        .get(format!("{queue}/messages?numofmessages=32&{sas}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<MessageText>")
        .skip(1)
        .filter_map(|m| m.split("</MessageText>").next())
        .map(|b64| serde_json::from_slice(&STANDARD.decode(b64).unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_blobs_are_ingested_with_tags_and_reports() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        queued_batching_time: Some(Duration::from_millis(300)),
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (dev:string, ts:datetime)").await;
    let (s, _) = mgmt(url, "db1", r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"dev","Properties":{"Path":"$.d"}},{"column":"ts","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixSeconds"}}]'"#).await;
    assert_eq!(s, 200);
    let all = resources(url).await;
    assert_eq!(all.len(), 4);
    assert!(all
        .iter()
        .all(|(_, u)| u.starts_with("http://127.0.0.1:") && u.contains("sig=")));

    // Ingested after the batching time, with its ingest-by tag recorded; ReportLevel 2 reports success.
    let tags = json!({"tags": "[\"ingest-by:batch-1\"]", "ingestIfNotExists": "[\"batch-1\"]"});
    let started = Instant::now();
    let id = queue_ingestion(
        url,
        "T",
        br#"[{"d":"a","t":1600000000},{"d":"b","t":1600000001}]"#,
        tags.clone(),
        2,
    )
    .await;
    wait_for("rows", || k.rows("db1", "T").len() == 2).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        k.rows("db1", "T")[0],
        vec![json!("a"), json!("2020-09-13T12:26:40.0000000Z")]
    );
    assert!(k
        .state()
        .table("db1", "T")
        .unwrap()
        .ingested_tags
        .contains("batch-1"));
    let (_, frames) = query(url, "db1", "T | count").await;
    assert_eq!(primary_rows(&frames), vec![json!([2])]);
    let ok = drain(&all, "SuccessfulIngestionsQueue", 1).await;
    assert_eq!(ok[0]["IngestionSourceId"], id);
    assert_eq!(ok[0]["Table"], "T");

    // The same tag again: skipped, reported (ReportLevel 0 = failures) and listed.
    queue_ingestion(url, "T", br#"{"d":"c","t":1}"#, tags, 0).await;
    // Bad data: a failure too.
    queue_ingestion(url, "T", br#"{"d":"c","t":"soon"}"#, json!({}), 0).await;
    wait_for("failures", || k.state().failures.len() == 2).await;
    assert_eq!(k.rows("db1", "T").len(), 2);
    let (_, body) = mgmt(url, "db1", ".show ingestion failures").await;
    let codes: Vec<String> = v1_rows(&body)
        .iter()
        .map(|r| r[7].as_str().unwrap().to_string())
        .collect();
    assert!(
        codes.contains(&"Skipped_IngestByTagAlreadyExists".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"BadRequest_InvalidData".to_string()),
        "{codes:?}"
    );
    let failed = drain(&all, "FailedIngestionsQueue", 2).await;
    assert!(failed
        .iter()
        .all(|f| f["FailureStatus"] == "Permanent" && f["Database"] == "db1"));
}

/// Collects at least `n` status messages from a status queue.
async fn drain(all: &[(String, String)], kind: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    while got.len() < n {
        assert!(Instant::now() < deadline, "timed out waiting for {kind}");
        got.extend(statuses(all, kind).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn sas_can_expire_early() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    k.set_sas_lifetime(Some(Duration::from_secs(1)));
    let all = resources(k.url()).await;
    let (container, sas) = resource(&all, "TempStorage");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let put = client()
        .put(format!("{container}/x?{sas}"))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 403);
    k.set_sas_lifetime(None);
    let (container, sas) = resource(&resources(k.url()).await, "TempStorage");
    let put = client()
        .put(format!("{container}/x?{sas}"))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_from_a_blob_uri() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (a:string, n:long)").await;
    mgmt(
        url,
        "db1",
        ".alter table T policy streamingingestion enable",
    )
    .await;
    let (container, sas) = resource(&resources(url).await, "TempStorage");
    let blob = format!("{container}/data.csv.gz?{sas}");
    let put = client()
        .put(&blob)
        .header("x-ms-blob-type", "BlockBlob")
        .body(gzip(b"x,1\ny,2\n"))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let response = client()
        .post(format!(
            "{url}/v1/rest/ingest/db1/T?streamFormat=csv&sourceKind=uri"
        ))
        .json(&json!({"sourceUri": blob}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{:?}",
        response.text().await
    );
    assert_eq!(
        k.rows("db1", "T"),
        vec![vec![json!("x"), json!(1)], vec![json!("y"), json!(2)]]
    );
    // A blob that does not exist is a permanent 400.
    let (s, body) = post(
        url,
        "/v1/rest/ingest/db1/T?streamFormat=csv&sourceKind=uri",
        json!({"sourceUri": format!("{container}/missing?{sas}")}),
        None,
    )
    .await;
    assert_eq!(s, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn emulators_can_share_one_azurite() {
    let azurite = std::sync::Arc::new(
        tokio::task::spawn_blocking(iotc_adx_testkit::azurite::Azurite::start)
            .await
            .unwrap()
            .unwrap(),
    );
    let mut emulators = Vec::new();
    for _ in 0..2 {
        let k = KustoEmulator::start(KustoOptions {
            storage: StorageMode::Shared(azurite.clone()),
            ..KustoOptions::default()
        })
        .await
        .unwrap();
        mgmt(k.url(), "db1", ".create table T (dev:string)").await;
        mgmt(k.url(), "db1", r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"dev","Properties":{"Path":"$.d"}}]'"#).await;
        emulators.push(k);
    }
    assert_ne!(
        resources(emulators[0].url()).await,
        resources(emulators[1].url()).await
    );
    queue_ingestion(emulators[0].url(), "T", br#"{"d":"first"}"#, json!({}), 0).await;
    queue_ingestion(
        emulators[1].url(),
        "T",
        br#"{"d":"second"} {"d":"second"}"#,
        json!({}),
        0,
    )
    .await;
    wait_for("rows in both", || {
        emulators[0].rows("db1", "T").len() == 1 && emulators[1].rows("db1", "T").len() == 2
    })
    .await;
    assert_eq!(emulators[0].rows("db1", "T")[0][0], "first");
    assert!(emulators.iter().all(|k| k.state().failures.is_empty()));
}

/// Extent tags of `.show table T extents [where ...]`, one entry per extent.
async fn extent_tags(url: &str, command: &str) -> Vec<String> {
    let (s, body) = mgmt(url, "db1", command).await;
    assert_eq!(s, 200, "{body}");
    let columns = body["Tables"][0]["Columns"].as_array().unwrap();
    let tags = columns
        .iter()
        .position(|c| c["ColumnName"] == "Tags")
        .unwrap();
    let rows = columns
        .iter()
        .position(|c| c["ColumnName"] == "RowCount")
        .unwrap();
    let mut out: Vec<String> = v1_rows(&body)
        .iter()
        .inspect(|r| assert!(r[rows].as_i64().unwrap() > 0))
        .map(|r| r[tags].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn extents_list_committed_ingestions_with_their_tags() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        queued_batching_time: Some(Duration::from_millis(100)),
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (dev:string, ts:datetime)").await;
    mgmt(
        url,
        "db1",
        ".alter table T policy streamingingestion enable",
    )
    .await;
    mgmt(url, "db1", r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"dev","Properties":{"Path":"$.d"}},{"column":"ts","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixSeconds"}}]'"#).await;
    for (tag, dev) in [("iotc-adx/d/p3:1-5", "a"), ("iotc-adx/d/p4:1-9", "b")] {
        let props = json!({"tags": format!("[\"ingest-by:{tag}\", \"Plain\"]")});
        queue_ingestion(
            url,
            "T",
            format!(r#"{{"d":"{dev}","t":1}}"#).as_bytes(),
            props,
            0,
        )
        .await;
    }
    let (s, body) = ingest(
        url,
        "db1",
        "T",
        "streamFormat=multijson&mappingName=m1",
        gzip(br#"{"d":"s","t":2}"#),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    wait_for("rows", || k.rows("db1", "T").len() == 3).await;

    let all = extent_tags(url, ".show table T extents").await;
    assert_eq!(
        all,
        vec![
            "",
            "ingest-by:iotc-adx/d/p3:1-5\r\nPlain",
            "ingest-by:iotc-adx/d/p4:1-9\r\nPlain"
        ]
    );
    // `contains`: a substring of some tag, ignoring case.
    assert_eq!(
        extent_tags(
            url,
            ".show table T extents where tags contains 'INGEST-BY:iotc-adx/d/p3:'"
        )
        .await,
        vec!["ingest-by:iotc-adx/d/p3:1-5\r\nPlain"]
    );
    // `has`: a tag equal to the value.
    assert_eq!(
        extent_tags(
            url,
            ".show table ['T'] extents where tags has 'ingest-by:iotc-adx/d/p4:1-9'"
        )
        .await,
        vec!["ingest-by:iotc-adx/d/p4:1-9\r\nPlain"]
    );
    assert!(extent_tags(
        url,
        ".show table T extents where tags has 'ingest-by:iotc-adx/d/p4'"
    )
    .await
    .is_empty());
    // Negations and `and`.
    assert_eq!(
        extent_tags(url, ".show table T extents where tags !has 'Plain'").await,
        vec![""]
    );
    assert_eq!(
        extent_tags(
            url,
            ".show table T extents hot where tags has 'Plain' and tags !contains 'p3:'"
        )
        .await,
        vec!["ingest-by:iotc-adx/d/p4:1-9\r\nPlain"]
    );
    let (s, body) = mgmt(url, "db1", ".show table Missing extents").await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = mgmt(url, "db1", ".show table T extents where tags like 'x'").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("expected 'has'"), "{body}");
}
