//! `iotc-adx provision` puts back what drifted in the cluster since the last run: a JSON
//! mapping whose columns were edited by hand, a streaming policy turned off, a batching policy
//! changed. Checked in the Data Explorer emulator's state after each run, and shown by
//! ingesting through the repaired mapping.

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn config(dir: &Path, cluster: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("t.jmespath"),
        "{Device: deviceId, Rate: telemetry.rate}",
    )
    .unwrap();
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"-\"\n[sink]\ntype = \"kusto\"\ncluster = \"{cluster}\"\n\
         [auth]\ntype = \"none\"\n[dead_letter]\npath = \"dl\"\n\
         [[destination]]\nname = \"live\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Live\"\n\
         columns = \"Device:string, Rate:long\"\ningestion = \"streaming\"\n\
         [[destination]]\nname = \"bulk\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Bulk\"\n\
         columns = \"Device:string, Rate:long\"\ningestion = \"queued\"\n\
         [destination.batching_policy]\nmax_time_s = 30\nmax_items = 500\n"
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn provision(config: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(["provision", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The mapping `iotc_adx` of `iot.table` as (column, path) pairs.
fn mapping(k: &KustoEmulator, table: &str) -> Vec<(String, String)> {
    let state = k.state();
    let t = state.table("iot", table).expect("the table");
    t.json_mappings["iotc_adx"]
        .iter()
        .map(|c| {
            let path = c
                .path
                .as_ref()
                .map(|p| format!("{p:?}"))
                .unwrap_or_default();
            (c.column.clone(), path)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_repairs_mappings_and_policies_changed_by_hand() {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), k.url());
    provision(&config);
    let good = mapping(&k, "Live");
    assert_eq!(good.len(), 2);
    let good_policy = k.state().table("iot", "Bulk").unwrap().batching.clone();
    assert_eq!(
        good_policy.as_ref().map(|p| p.maximum_batching_time_span),
        Some(Duration::from_secs(30))
    );

    // By hand: the mapping reads Rate from the wrong key, streaming is off, the batching
    // policy is 5 minutes.
    let client = reqwest::Client::new();
    let mgmt = |csl: &str| {
        let body = serde_json::json!({"db": "iot", "csl": csl});
        let request = client.post(format!("{}/v1/rest/mgmt", k.url())).json(&body);
        async move {
            let status = request.send().await.unwrap().status();
            assert!(status.is_success(), "{status}");
        }
    };
    mgmt(
        r#".create-or-alter table Live ingestion json mapping 'iotc_adx' '[{"column":"Device","Properties":{"Path":"$.Device"}},{"column":"Rate","Properties":{"Path":"$.rate_old"}}]'"#,
    )
    .await;
    mgmt(".alter table Live policy streamingingestion disable").await;
    mgmt(r#".alter table Bulk policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:05:00"}'"#)
        .await;
    assert_ne!(mapping(&k, "Live"), good);
    assert_eq!(
        k.state().table("iot", "Live").unwrap().streaming,
        Some(false)
    );

    provision(&config);
    assert_eq!(
        mapping(&k, "Live"),
        good,
        "the mapping is the configured one again"
    );
    assert_eq!(
        k.state().table("iot", "Live").unwrap().streaming,
        Some(true)
    );
    assert_eq!(
        k.state().table("iot", "Bulk").unwrap().batching,
        good_policy
    );

    // The repaired mapping and policy carry a row: streaming into Live, Rate included.
    let mut run = Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(["run", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    run.stdin
        .take()
        .unwrap()
        .write_all(br#"{"messageSource":"telemetry","deviceId":"d1","telemetry":{"rate":72}}"#)
        .unwrap();
    let out = run.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = k.rows("iot", "Live");
    assert_eq!(
        rows,
        vec![vec![serde_json::json!("d1"), serde_json::json!(72)]]
    );
}
