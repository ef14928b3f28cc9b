//! What the report tests share: the Data Explorer emulator with a table `T`, rows added to
//! it, and a runner built from `[[report]]` TOML.
#![allow(dead_code)] // Each test file uses some of these.

use chrono::{DateTime, Utc};
use iotc_adx::config::load_str_with_env;
use iotc_adx::report::{setup, Runner};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use serde_json::{json, Value};

/// The emulator with table `T (dev:string, ts:datetime, n:long)` in database `iot`.
pub async fn emulator() -> KustoEmulator {
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    k.create_table(
        "iot",
        "T",
        &[("dev", "string"), ("ts", "datetime"), ("n", "long")],
    );
    k
}

pub fn at(t: DateTime<Utc>) -> Value {
    json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Appends rows `(dev, ts, n)` to `T`.
pub fn add(k: &KustoEmulator, rows: &[(&str, DateTime<Utc>, i64)]) {
    let mut state = k.state();
    let table = state
        .databases
        .get_mut("iot")
        .unwrap()
        .tables
        .get_mut("T")
        .unwrap();
    for (dev, ts, n) in rows {
        table.data.rows.push(vec![json!(dev), at(*ts), json!(n)]);
    }
}

/// Settings for `reports` (TOML of `[[report]]` tables) against `k`, with the history in
/// `dir`.
pub fn runner_for(
    k: &KustoEmulator,
    dir: &std::path::Path,
    reports: &str,
) -> (Runner, iotc_adx::report::ReportsSettings) {
    let text = format!(
        "[auth]\ntype = \"none\"\n[reports]\ncluster = \"{}\"\ndatabase = \"iot\"\nhistory.path = \"reports.db\"\n{reports}",
        k.url()
    );
    runner_with_env(&text, dir, Vec::new())
}

/// Settings from the whole configuration `text`, with `env` as the environment.
pub fn runner_with_env(
    text: &str,
    dir: &std::path::Path,
    env: Vec<(String, String)>,
) -> (Runner, iotc_adx::report::ReportsSettings) {
    let settings = load_str_with_env(text, dir, env)
        .unwrap_or_else(|e| panic!("{e}"))
        .reports;
    (setup::runner(&settings, None).unwrap(), settings)
}
