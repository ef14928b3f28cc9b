//! Management commands of the Data Explorer emulator, over HTTP.

mod kusto_common;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use kusto_common::*;
use serde_json::json;

#[tokio::test]
async fn tables_are_created_merged_and_shown() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url();

    let (s, body) = mgmt(url, "db1", ".show version").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["Tables"][0]["Columns"][0]["ColumnName"],
        "BuildVersion"
    );

    let (s, body) = mgmt(url, "db1", ".create table T (a:string, ts:datetime)").await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = mgmt(
        url,
        "db1",
        ".create-merge table T (a:string, n:long, ['x-y']:dynamic)",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = mgmt(url, "db1", ".show table T cslschema").await;
    assert_eq!(
        v1_rows(&body)[0][1],
        "a:string,ts:datetime,n:long,x-y:dynamic"
    );
    assert_eq!(body["Tables"][0]["Columns"][1]["ColumnName"], "Schema");

    // Type conflict and plain create with another schema fail; the schema is unchanged.
    let (s, body) = mgmt(url, "db1", ".create-merge table T (a:long)").await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["error"]["@message"].as_str().unwrap().contains("'a'"),
        "{body}"
    );
    let (s, _) = mgmt(url, "db1", ".create table T (z:int)").await;
    assert_eq!(s, 400);
    assert_eq!(
        k.state().table("db1", "T").unwrap().csl_schema(),
        "a:string,ts:datetime,n:long,x-y:dynamic"
    );

    let (_, body) = mgmt(url, "db1", ".show tables").await;
    assert_eq!(v1_rows(&body), vec![json!(["T", "db1", "", ""])]);

    // Python sends properties as a JSON string.
    let (s, body) = post(
        url,
        "/v1/rest/mgmt",
        json!({"db": "db1", "csl": ".show tables", "properties": "{\"Options\":{}}"}),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // Unknown database.
    let (s, body) = mgmt(url, "nope", ".show tables").await;
    assert_eq!(s, 400);
    assert!(body["error"]["@message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn mappings_and_policies_are_stored() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (a:string, ts:datetime)").await;
    let mapping = r#".create-or-alter table T ingestion json mapping 'm1' '[{"column":"a","Properties":{"Path":"$[\'x-y\']"}},{"column":"ts","datatype":"datetime","Properties":{"Path":"$.t","Transform":"DateTimeFromUnixSeconds"}}]'"#;
    let (s, body) = mgmt(url, "db1", mapping).await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = mgmt(url, "db1", ".show table T ingestion json mappings").await;
    assert_eq!(v1_rows(&body)[0][0], "m1");
    assert_eq!(
        k.state().table("db1", "T").unwrap().json_mappings["m1"].len(),
        2
    );

    // A mapping to a missing column, or not JSON, is refused.
    let (s, _) = mgmt(url, "db1", r#".create-or-alter table T ingestion json mapping 'm2' '[{"column":"zz","Properties":{"Path":"$.z"}}]'"#).await;
    assert_eq!(s, 400);
    let (s, _) = mgmt(
        url,
        "db1",
        ".create-or-alter table T ingestion json mapping 'm2' 'not json'",
    )
    .await;
    assert_eq!(s, 400);

    let (s, _) = mgmt(
        url,
        "db1",
        ".alter table T policy streamingingestion enable",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(k.state().table("db1", "T").unwrap().streaming, Some(true));
    let (s, _) = mgmt(url, "db1", r#".alter table T policy streamingingestion '{"IsEnabled": false, "HintAllocatedRate": 2.1}'"#).await;
    assert_eq!(s, 200);
    assert_eq!(k.state().table("db1", "T").unwrap().streaming, Some(false));
    let (s, _) = mgmt(
        url,
        "db1",
        ".alter database db1 policy streamingingestion enable",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(k.state().databases["db1"].streaming, Some(true));

    let (s, body) = mgmt(url, "db1", r#".alter table T policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:00:30","MaximumNumberOfItems":20}'"#).await;
    assert_eq!(s, 200, "{body}");
    let policy = k.state().databases["db1"].batching("T");
    assert_eq!(
        policy.maximum_batching_time_span,
        std::time::Duration::from_secs(30)
    );
    assert_eq!(policy.maximum_number_of_items, 20);
    assert_eq!(policy.maximum_raw_data_size_mb, 1024);
}

#[tokio::test]
async fn cluster_commands_and_errors() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url();
    let (s, body) = mgmt(url, "NetDefaultDB", ".get kusto identity token").await;
    assert_eq!(s, 200);
    assert_eq!(
        body["Tables"][0]["Columns"][0]["ColumnName"],
        "AuthorizationContext"
    );
    assert!(!v1_rows(&body)[0][0].as_str().unwrap().is_empty());
    let (s, body) = mgmt(url, "db1", ".show ingestion failures").await;
    assert_eq!(s, 200);
    // A well-formed, empty answer: the table with its columns and no rows (a parser that
    // returned nothing for a malformed answer would not pass).
    assert_eq!(
        body["Tables"][0]["Columns"][0]["ColumnName"], "OperationId",
        "{body}"
    );
    assert_eq!(body["Tables"][0]["Rows"], json!([]), "{body}");
    // No storage configured: queued ingestion resources are an error.
    let (s, _) = mgmt(url, "NetDefaultDB", ".get ingestion resources").await;
    assert_eq!(s, 400);

    let (s, body) = mgmt(url, "db1", ".frobnicate the cluster").await;
    assert_eq!(s, 400);
    let e = &body["error"];
    assert_eq!(e["code"], "BadRequest");
    assert_eq!(e["@permanent"], true);
    assert!(e["@type"].as_str().unwrap().starts_with("Kusto."));
    assert!(
        e["@message"].as_str().unwrap().contains(".frobnicate"),
        "{body}"
    );

    // Malformed bodies get OneApiErrors too.
    let response = client()
        .post(format!("{url}/v1/rest/mgmt"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BadRequest");

    // Metadata is 404 so clients fall back to the default resource.
    assert_eq!(
        client()
            .get(format!("{url}/v1/rest/auth/metadata"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn control_runs_a_command_or_says_why_not() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    k.control("db1", ".create table T (a:string)")
        .await
        .unwrap();
    assert!(k.state().table_mut("db1", "T").is_some());
    let e = k.control("db1", ".frobnicate table T").await.unwrap_err();
    assert!(e.starts_with(".frobnicate table T: 400"), "{e}");
}
