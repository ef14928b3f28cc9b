//! Plan tests: the commands each destination gets, and type conflicts explained.

use super::*;
use crate::config::load_str;
use crate::sink::kusto::TableError;

fn destination(extra: &str, ingestion: &str) -> DestinationSettings {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jmespath"), "{Device: deviceId}\n").unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "").unwrap();
    let text = format!(
        "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n[sink]\ntype = \"file\"\npath = \"out\"\n\
         [[destination]]\nname = \"telemetry\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Telemetry\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, ['Value-x']:dynamic\"\ningestion = \"{ingestion}\"\n{extra}"
    );
    load_str(&text, dir.path()).unwrap().destinations.remove(0)
}

#[test]
fn a_new_managed_table_gets_table_mapping_and_streaming_policy() {
    let d = destination("", "managed");
    let steps = plan(&d, None).unwrap();
    let csl: Vec<&str> = steps.iter().map(|s| s.csl.as_str()).collect();
    assert_eq!(
        csl[0],
        ".create-merge table Telemetry (EnqueuedTime:datetime, Device:string, ['Value-x']:dynamic)"
    );
    assert!(
        csl[1]
            .starts_with(".create-or-alter table Telemetry ingestion json mapping 'iotc_adx' '[{"),
        "{}",
        csl[1]
    );
    assert!(csl[1].contains(r#""Path":"$[\'Value-x\']""#), "{}", csl[1]);
    assert_eq!(
        csl[2],
        ".alter table Telemetry policy streamingingestion enable"
    );
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s.database == "iot"));
}

#[test]
fn queued_tables_get_the_batching_policy_and_no_streaming() {
    let d = destination(
        "[destination.batching_policy]\nmax_time_s = 30\nmax_items = 500\n",
        "queued",
    );
    let steps = plan(&d, None).unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(
        steps[2].csl,
        r#".alter table Telemetry policy ingestionbatching '{"MaximumBatchingTimeSpan":"00:00:30","MaximumNumberOfItems":500}'"#
    );
}

#[test]
fn a_type_conflict_names_table_column_and_both_types() {
    let d = destination("", "managed");
    let existing = TableSchema::parse("EnqueuedTime:datetime, Device:long, Extra:string").unwrap();
    let e = plan(&d, Some(&existing)).unwrap_err().to_string();
    assert!(
        e.contains("iot.Telemetry")
            && e.contains("column Device")
            && e.contains("type long")
            && e.contains("configures string"),
        "{e}"
    );
    // Extra columns in the cluster, and missing ones, are fine for provisioning.
    let existing = TableSchema::parse("EnqueuedTime:datetime, Other:string").unwrap();
    assert!(plan(&d, Some(&existing)).is_ok());
    assert!(matches!(
        compare(&d, &existing, true),
        Err(TableError::MissingColumn { .. })
    ));
}

#[test]
fn the_mapping_reads_each_column_by_name() {
    let d = destination("", "queued");
    let m: serde_json::Value = serde_json::from_str(&mapping_json(&d.schema)).unwrap();
    assert_eq!(
        m[0],
        serde_json::json!({"column": "EnqueuedTime", "datatype": "datetime", "Properties": {"Path": "$['EnqueuedTime']"}})
    );
    assert_eq!(m[2]["Properties"]["Path"], "$['Value-x']");
}

#[test]
fn a_dedupe_view_is_created_when_missing_keyed_as_configured() {
    let d = destination(
        "[destination.dedupe_view]\nname = \"TelemetryUnique\"\nkeys = [\"Device\", \"EnqueuedTime\"]\n",
        "streaming",
    );
    let steps = plan(&d, None).unwrap();
    assert_eq!(steps.len(), 4);
    assert_eq!(
        steps[3].csl,
        ".create ifnotexists materialized-view with (backfill=true) TelemetryUnique on table Telemetry \
         { Telemetry | summarize take_any(*) by Device, EnqueuedTime }"
    );
}
