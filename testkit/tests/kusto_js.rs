//! The official JavaScript Data Explorer clients (azure-kusto-data 7.0.4, azure-kusto-ingest
//! 7.0.1, from the npm registry) against the emulator: control commands, streaming and managed
//! streaming ingestion, and a query reading the rows back.

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};

mod js_support;

#[tokio::test]
async fn javascript_clients_ingest_and_query() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let out = js_support::node(
        "kusto_clients.cjs",
        Vec::new(),
        vec![("KUSTO_URL", k.url().to_string())],
    )
    .await;
    assert!(
        out.status.success(),
        "node failed:\n{}",
        js_support::text(&out)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([{"n": 1, "dev": "a"}, {"n": 2, "dev": "b"}, {"n": 3, "dev": "c"}])
    );
    assert_eq!(k.rows("db1", "JsRows").len(), 3);
}
