//! Configuration tests: good files load, and every bad one is explained by key path.

use super::*;
use crate::auth::AuthSettings;
use std::io::Write;

/// A directory holding a transform file, to point configurations at.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.jmespath"),
        "# one row\n{Device: deviceId}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "{}\n").unwrap();
    dir
}

const GOOD: &str = r#"
[source]
type = "file"
path = "in.jsonl"

[sink]
type = "file"
path = "out"

[[destination]]
name = "devices"
transform = "t.jmespath"
database = "iot"
table = "Devices"
columns = "Device:string"
ingestion = "queued"
[destination.filter]
message_sources = ["telemetry", "properties"]
message_types = ["connected"]
device_ids = ["vitals-*"]
predicate = "telemetry.HeartRate > `100`"
[destination.batch]
max_rows = 10

[log]
level = "debug"
format = "json"
"#;

fn problems(text: &str) -> Vec<Problem> {
    let dir = fixture();
    load_str(text, dir.path()).unwrap_err().problems
}

fn keys(text: &str) -> Vec<String> {
    problems(text).into_iter().map(|p| p.key).collect()
}

#[test]
fn a_good_file_loads_with_resolved_paths_and_defaults() {
    let dir = fixture();
    let s = load_str(GOOD, dir.path()).unwrap();
    assert_eq!(
        s.source.unwrap(),
        SourceSettings::File {
            input: FileInput::Path(dir.path().join("in.jsonl"))
        }
    );
    assert_eq!(
        s.sink.unwrap(),
        SinkSettings::File {
            dir: dir.path().join("out"),
            gzip: false
        }
    );
    let d = &s.destinations[0];
    assert_eq!(
        (d.name.as_str(), d.table.as_str(), d.ingestion),
        ("devices", "Devices", IngestionMode::Queued)
    );
    assert_eq!(d.batch.max_rows, 10);
    assert_eq!(
        d.batch.max_age,
        default_batch_limits(IngestionMode::Queued).max_age
    );
    assert_eq!(d.transform.path(), dir.path().join("t.jmespath"));
    assert_eq!(s.dead_letter.dir, dir.path().join("dead-letter"));
    assert_eq!(s.metrics.listen.to_string(), "0.0.0.0:9464");
    assert_eq!(
        s.log,
        LogSettings {
            filter: "debug".into(),
            format: LogFormat::Json
        }
    );
}

#[test]
fn environment_overrides_table_keys() {
    let dir = fixture();
    let path = dir.path().join("c.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(GOOD.as_bytes())
        .unwrap();
    let env = [
        ("IOTC_ADX__LOG__LEVEL".to_string(), "warn".to_string()),
        (
            "IOTC_ADX__METRICS__LISTEN".to_string(),
            "127.0.0.1:9999".to_string(),
        ),
        ("IOTC_ADX__SINK__GZIP".to_string(), "true".to_string()),
        ("UNRELATED".to_string(), "x".to_string()),
    ];
    let s = load_with_env(&path, env).unwrap();
    assert_eq!(s.log.filter, "warn");
    assert_eq!(s.metrics.listen.to_string(), "127.0.0.1:9999");
    assert_eq!(
        s.sink.unwrap(),
        SinkSettings::File {
            dir: dir.path().join("out"),
            gzip: true
        }
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let text = GOOD
        .replace("level = \"debug\"", "level = \"loud\"")
        .replace("max_rows = 10", "max_rows = 0")
        .replace("\"properties\"]", "\"telemetery\"]")
        .replace("path = \"out\"", "path = \"out\"\ncompress = true");
    let all = problems(&format!("{text}\n[metric]\nlisten = 1\n"));
    let keys: Vec<String> = all.iter().map(|p| p.key.clone()).collect();
    assert!(keys.contains(&"metric".to_string()), "{keys:?}");
    // Inside a `type`-tagged section serde reports the section; the message names the key.
    let sink = all.iter().find(|p| p.key == "sink").unwrap();
    assert!(
        sink.message.contains("unknown field `compress`"),
        "{}",
        sink.message
    );
    assert!(
        keys.contains(&"destination[0].batch.max_rows".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"destination[0].filter.message_sources[1]".to_string()),
        "{keys:?}"
    );
    assert!(keys.contains(&"log.level".to_string()), "{keys:?}");
}

#[test]
fn unknown_keys_name_the_expected_ones() {
    let p = problems(&GOOD.replace("table = \"Devices\"", "table = \"Devices\"\ntabel = \"x\""));
    assert_eq!(p[0].key, "destination[0].tabel");
    assert!(
        p[0].message
            .contains("unknown field `tabel`, expected one of"),
        "{}",
        p[0].message
    );
}

#[test]
fn wrong_types_name_the_key_and_the_expectation() {
    let p = problems(&GOOD.replace("max_rows = 10", "max_rows = \"ten\""));
    assert_eq!(p[0].key, "destination[0].batch.max_rows");
    assert!(p[0].message.contains("invalid type"), "{}", p[0].message);
    let p = problems(&GOOD.replace(
        "type = \"file\"\npath = \"in.jsonl\"",
        "type = \"eventhub\"",
    ));
    assert_eq!(p[0].key, "source.type");
    assert!(
        p[0].message
            .contains("unknown variant `eventhub`, expected `file`"),
        "{}",
        p[0].message
    );
}

#[test]
fn missing_transform_files_and_bad_jmespath_name_the_file() {
    let p = problems(&GOOD.replace("t.jmespath", "missing.jmespath"));
    assert_eq!(p[0].key, "destination[0].transform");
    assert!(
        p[0].message.contains("missing.jmespath"),
        "{}",
        p[0].message
    );

    let dir = fixture();
    std::fs::write(
        dir.path().join("t.jmespath"),
        "# header\n{Device: deviceId,,}\n",
    )
    .unwrap();
    let e = load_str(GOOD, dir.path()).unwrap_err();
    assert_eq!(e.problems[0].key, "destination[0].transform");
    assert!(
        e.problems[0].message.contains("t.jmespath:2:"),
        "{}",
        e.problems[0].message
    );
    assert!(e.to_string().contains("has 1 problem:"), "{e}");
}

#[test]
fn bad_predicates_globs_and_columns_are_explained() {
    let text = GOOD
        .replace("telemetry.HeartRate > `100`", "telemetry.[")
        .replace("\"vitals-*\"", "\"vitals-[\"")
        .replace("Device:string", "Device:text");
    let p = problems(&text);
    let find = |k: &str| {
        p.iter()
            .find(|p| p.key == k)
            .unwrap_or_else(|| panic!("{k} in {p:?}"))
            .message
            .clone()
    };
    assert!(find("destination[0].filter.predicate").contains("not a valid JMESPath"));
    assert!(find("destination[0].filter.device_ids[0]").contains("not a valid glob"));
    assert!(find("destination[0].columns").contains("unknown type 'text'"));
}

#[test]
fn structure_problems() {
    let no_dest = GOOD.split("[[destination]]").next().unwrap().to_string();
    assert_eq!(keys(&no_dest), vec!["destination".to_string()]);
    let keys = keys("[log]\nlevel = \"info\"\n");
    assert!(
        keys.contains(&"source".to_string()) && keys.contains(&"sink".to_string()),
        "{keys:?}"
    );
    let twice = format!("{GOOD}\n[[destination]]\nname = \"devices\"\ntransform = \"t.jmespath\"\ndatabase = \"d\"\ntable = \"t\"\ncolumns = \"A:int\"\n");
    let p = problems(&twice);
    assert_eq!(p[0].key, "destination[1].name");
    let e = load_str("[source\n", Path::new(".")).unwrap_err();
    assert_eq!(e.problems[0].key, "(syntax)");
    assert!(
        e.problems[0].message.contains("line 1"),
        "{}",
        e.problems[0].message
    );
}

fn kusto(text: &str) -> String {
    GOOD.replace("[sink]\ntype = \"file\"\npath = \"out\"\n", text)
}

#[test]
fn a_kusto_sink_with_a_service_principal_loads() {
    let dir = fixture();
    let text = kusto(
        "[sink]\ntype = \"kusto\"\ncluster = \"https://c.westeurope.kusto.windows.net\"\nmax_in_flight = 2\n[sink.retry]\nmax_backoff_ms = 5000\n\
         [auth]\ntype = \"service_principal\"\ntenant_id = \"t\"\nclient_id = \"c\"\n",
    );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, &text).unwrap();
    let env = [(
        "IOTC_ADX__AUTH__CLIENT_SECRET".to_string(),
        "s3cret".to_string(),
    )];
    let s = load_with_env(&path, env).unwrap();
    let Some(SinkSettings::Kusto(k)) = &s.sink else {
        panic!("{:?}", s.sink)
    };
    assert_eq!(
        k.cluster.as_str(),
        "https://c.westeurope.kusto.windows.net/"
    );
    assert_eq!(
        (k.max_in_flight, k.dedupe, k.retry.max_backoff.as_millis()),
        (2, true, 5000)
    );
    assert!(
        matches!(&s.auth, crate::auth::AuthSettings::ServicePrincipal { proof: crate::auth::ServicePrincipalProof::Secret(x), .. } if x == "s3cret")
    );
    assert_eq!(s.destinations[0].mapping, DEFAULT_MAPPING);
}

#[test]
fn kusto_and_auth_problems_name_their_keys() {
    let p = problems(&kusto(
        "[sink]\ntype = \"kusto\"\ncluster = \"c.kusto.windows.net\"\nmax_in_flight = 0\n",
    ));
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert!(
        keys.contains(&"sink.cluster")
            && keys.contains(&"sink.max_in_flight")
            && keys.contains(&"auth"),
        "{keys:?}"
    );
    let auth = p.iter().find(|p| p.key == "auth").unwrap();
    assert!(
        auth.message.contains("managed_identity"),
        "{}",
        auth.message
    );

    let p = problems(&kusto(
        "[sink]\ntype = \"kusto\"\ncluster = \"https://c.kusto.windows.net\"\n[auth]\ntype = \"service_principal\"\ntenant_id = \"t\"\nclient_id = \"c\"\n",
    ));
    assert_eq!(p[0].key, "auth.client_secret");
    assert!(
        p[0].message.contains("IOTC_ADX__AUTH__CLIENT_SECRET"),
        "{}",
        p[0].message
    );

    let p = problems(&kusto("[sink]\ntype = \"kusto\"\ncluster = \"https://c.kusto.windows.net\"\n[auth]\ntype = \"managed_identity\"\nclient_id = \"a\"\nobject_id = \"b\"\n"));
    assert_eq!(p[0].key, "auth");
    let p = problems(&kusto("[sink]\ntype = \"kusto\"\ncluster = \"https://c.kusto.windows.net\"\n[auth]\ntype = \"password\"\n"));
    assert_eq!(p[0].key, "auth.type");
}

#[test]
fn batching_policies_and_mappings_are_checked() {
    let text = GOOD
        .replace("table = \"Devices\"", "table = \"Devices\"\nmapping = \"bad name\"")
        .replace("[destination.batch]\nmax_rows = 10", "[destination.batch]\nmax_rows = 10\n[destination.batching_policy]\nmax_time_s = 5\nmax_items = 100");
    let keys = keys(&text);
    assert!(
        keys.contains(&"destination[0].mapping".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"destination[0].batching_policy.max_time_s".to_string()),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&"destination[0].batching_policy.max_items".to_string()),
        "{keys:?}"
    );
}

#[test]
fn dedupe_view_keys_must_be_distinct_groupable_columns() {
    let view = |name: &str, keys: &str| {
        GOOD.replace("columns = \"Device:string\"", "columns = \"Device:string, Seq:long, Body:dynamic\"")
            .replace(
                "[destination.batch]\nmax_rows = 10",
                &format!("[destination.batch]\nmax_rows = 10\n[destination.dedupe_view]\nname = \"{name}\"\nkeys = {keys}"),
            )
    };
    let p = problems(&view(
        "DevicesUnique",
        "[\"Device\", \"Nope\", \"Body\", \"Device\"]",
    ));
    let found: Vec<(String, String)> = p
        .iter()
        .map(|p| (p.key.clone(), p.message.clone()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "destination[0].dedupe_view.keys[1]");
    assert!(
        found[0].1.contains("not one of the destination's columns"),
        "{found:?}"
    );
    assert_eq!(found[1].0, "destination[0].dedupe_view.keys[2]");
    assert!(
        found[1].1.contains("cannot group by a dynamic column"),
        "{found:?}"
    );
    assert_eq!(found[2].0, "destination[0].dedupe_view.keys[3]");
    assert!(found[2].1.contains("listed twice"), "{found:?}");

    let keys = keys(&view("Devices", "[]"));
    assert_eq!(
        keys,
        [
            "destination[0].dedupe_view.name",
            "destination[0].dedupe_view.keys"
        ]
    );
    let dir = fixture();
    let good = load_str(&view("DevicesUnique", "[\"Device\", \"Seq\"]"), dir.path()).unwrap();
    assert_eq!(
        good.destinations[0].dedupe_view,
        Some(super::DedupeView {
            name: "DevicesUnique".into(),
            keys: vec!["Device".into(), "Seq".into()]
        })
    );
}

/// The `[auth]` problem says Event Hubs without a connection string needs credentials: with a
/// file sink, only the source can make it required, and it must.
#[test]
fn an_event_hub_reached_by_namespace_needs_auth() {
    let source = |extra: &str| {
        GOOD.replace(
            "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n",
            &format!(
                "[source]\ntype = \"eventhubs\"\nevent_hub = \"export\"\n\
                 checkpoint_container = \"https://acct.blob.core.windows.net/checkpoints\"\n{extra}"
            ),
        )
    };
    let p = problems(&source("namespace = \"ns.servicebus.windows.net\"\n"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "auth");
    assert!(p[0].message.contains("Event Hubs"), "{}", p[0].message);

    let dir = fixture();
    let with_auth =
        source("namespace = \"ns.servicebus.windows.net\"\n[auth]\ntype = \"azure_cli\"\n");
    assert!(load_str(&with_auth, dir.path()).is_ok());
    let with_key = source(
        "connection_string = \"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5\"\n",
    );
    let s = load_str(&with_key, dir.path()).unwrap();
    assert!(matches!(s.auth, AuthSettings::None));
}
