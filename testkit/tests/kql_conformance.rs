//! KQL conformance: examples of documented Kusto behaviour (written for this project, with
//! its own values: `kql_conformance/cases.json`) sent to the Data Explorer emulator's v2
//! query endpoint, each with the rows the reference says it returns or the name the emulator
//! must refuse; and the same cases through the official Python client.

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use serde_json::{json, Value};
use std::process::Command;

fn cases() -> Vec<Value> {
    let path = format!(
        "{}/tests/kql_conformance/cases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The primary result's rows, or the error message.
async fn query(http: &reqwest::Client, url: &str, csl: &str) -> Result<Value, String> {
    let response = http
        .post(format!("{url}/v2/rest/query"))
        .json(&json!({"db": "db1", "csl": csl}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(body.to_string());
    }
    let frames = body.as_array().cloned().unwrap_or_default();
    frames
        .iter()
        .find(|f| f["TableKind"] == "PrimaryResult")
        .map(|f| f["Rows"].clone())
        .ok_or_else(|| format!("no PrimaryResult in {body}"))
}

#[tokio::test]
async fn the_emulator_answers_as_the_reference_documents() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let q = case["query"].as_str().unwrap();
        let got = query(&http, k.url(), q).await;
        match (&case["rows"], case["error"].as_str(), got) {
            (rows, None, Ok(got)) if *rows == got => {}
            (_, Some(name), Err(e)) if e.contains(name) => {}
            (rows, error, got) => failures.push(format!(
                "{}\n  query: {q}\n  expected: {}\n  got: {got:?}",
                case["about"],
                error.map_or(rows.to_string(), |e| format!("an error naming {e}"))
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_client_reads_the_same_answers() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url().to_string();
    let out = tokio::task::spawn_blocking(move || {
        let python = iotc_adx_testkit::python::python().expect("python venv");
        let dir = env!("CARGO_MANIFEST_DIR");
        Command::new(python)
            .arg(format!("{dir}/tests/python/kql_conformance.py"))
            .arg(format!("{dir}/tests/kql_conformance/cases.json"))
            .env("KUSTO_URL", url)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
