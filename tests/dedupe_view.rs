//! `[destination.dedupe_view]` against the Data Explorer emulator: `provision` creates the
//! deduplicating materialized view (and leaves it alone when run again), refuses to carry on
//! when the view exists with other keys, and after the same messages were ingested twice (as a
//! replay after a crash does with streaming ingestion) the table holds every row twice and the
//! view once. Keys: the event's partition and sequence number (from `$meta`) and the
//! capability, which together identify a row.

mod support;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use std::path::{Path, PathBuf};
use std::process::Output;

const TRANSFORM: &str = "items(telemetry)[*].{Device: $.deviceId, Capability: [0], Value: [1], \
                         Partition: $meta.partition, Sequence: $meta.sequenceNumber}";

fn config(dir: &Path, cluster: &str, keys: &str) -> PathBuf {
    std::fs::write(dir.join("t.jmespath"), TRANSFORM).unwrap();
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"-\"\n[sink]\ntype = \"kusto\"\ncluster = \"{cluster}\"\n\
         [auth]\ntype = \"none\"\n[dead_letter]\npath = \"dl\"\n\
         [[destination]]\nname = \"telemetry\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\n\
         table = \"Telemetry\"\ningestion = \"streaming\"\n\
         columns = \"Device:string, Capability:string, Value:dynamic, Partition:string, Sequence:long\"\n\
         [destination.dedupe_view]\nname = \"TelemetryUnique\"\nkeys = {keys}\n"
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn iotc_adx(args: &[&str], config: &Path, input: &str) -> Output {
    support::run_binary(args, config, input, &[])
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_holds_each_row_once_after_a_replay() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    k.create_database("iot");
    let dir = tempfile::tempdir().unwrap();
    let keys = r#"["Partition", "Sequence", "Capability"]"#;
    let config = config(dir.path(), k.url(), keys);

    ok(&iotc_adx(&["provision"], &config, ""));
    ok(&iotc_adx(&["provision"], &config, ""));
    let view = k.state().databases["iot"].views["TelemetryUnique"].clone();
    assert_eq!(view.source, "Telemetry");
    assert_eq!(
        view.query,
        "Telemetry | summarize take_any(*) by Partition, Sequence, Capability"
    );
    assert_eq!(k.state().databases["iot"].views.len(), 1);

    // Two messages of two readings each, sent twice.
    let messages = r#"{"messageSource":"telemetry","deviceId":"d1","telemetry":{"t":20.5,"h":40}}
{"messageSource":"telemetry","deviceId":"d2","telemetry":{"t":21.5,"h":41}}
"#;
    ok(&iotc_adx(&["run"], &config, messages));
    ok(&iotc_adx(&["run"], &config, messages));
    assert_eq!(
        k.rows("iot", "Telemetry").len(),
        8,
        "the table holds the replay"
    );
    let unique = k.view("iot", "TelemetryUnique").unwrap().rows;
    assert_eq!(unique.len(), 4, "the view holds each row once: {unique:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_with_other_keys_stops_provision_with_both_queries() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    k.create_database("iot");
    let dir = tempfile::tempdir().unwrap();
    let first = config(dir.path(), k.url(), r#"["Partition", "Sequence"]"#);
    ok(&iotc_adx(&["provision"], &first, ""));
    let changed = config(
        dir.path(),
        k.url(),
        r#"["Partition", "Sequence", "Capability"]"#,
    );
    let out = iotc_adx(&["provision"], &changed, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("materialized view iot.TelemetryUnique"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`Telemetry | summarize take_any(*) by Partition, Sequence`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("by Partition, Sequence, Capability`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(".drop materialized-view TelemetryUnique"),
        "{stderr}"
    );
    assert_eq!(
        k.state().databases["iot"].views["TelemetryUnique"].query,
        "Telemetry | summarize take_any(*) by Partition, Sequence",
        "left as it was"
    );
}
