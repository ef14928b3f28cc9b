//! Fuzzing of decode → route → transform → coerce with arbitrary input (issue: nothing is
//! lost, nothing crashes): random bytes, random JSON, IoT Central-shaped messages with random
//! field values, and mutated real samples go through the same processor the pipeline runs,
//! configured with every shipped transform, one destination per column type and a `$meta`
//! predicate. Every input must end, without a panic, as exactly one of: a decode failure
//! (the whole message dead-lettered with a reason), or per destination unrouted, a failure
//! with a reason (dead-lettered), or rows that parse as JSON objects whose fields are table
//! columns holding values of the column's type.
//!
//! `PROPTEST_CASES` sets the cases per input kind (default 2,000 here; a longer run:
//! `PROPTEST_CASES=200000 cargo test --release --test pipeline_fuzz`).

mod support;

use iotc_adx::config::load_str;
use iotc_adx::deadletter::Stage;
use iotc_adx::pipeline::{Output, Processor};
use iotc_adx::schema::KustoType;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Every folder of the shipped transform library (each has a `destination.toml`).
fn folders() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(support::repo().join("transforms"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("destination.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert!(found.len() >= 6, "the library's folders: {found:?}");
    found
}

const TYPES: &[&str] = &[
    "bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid", "dynamic",
];

/// The processor under test, built once: every shipped transform, a destination per column
/// type taking `telemetry.v`, and one routed by a predicate over `$meta` and the body.
fn processor() -> &'static Processor {
    static PROCESSOR: OnceLock<Processor> = OnceLock::new();
    PROCESSOR.get_or_init(|| {
        let repo = support::repo();
        let dir = tempfile::tempdir().unwrap().keep();
        let mut text = support::CONFIG_HEAD.to_string();
        for folder in folders() {
            let path = repo.join("transforms").join(folder);
            let block = std::fs::read_to_string(path.join("destination.toml")).unwrap();
            let absolute = path.join("transform.jmespath");
            text.push_str(&block.replace(
                "transform = \"transform.jmespath\"",
                &format!("transform = {:?}", absolute.to_string_lossy()),
            ));
            text.push('\n');
        }
        std::fs::write(dir.join("v.jmespath"), "{V: telemetry.v}").unwrap();
        for kind in TYPES {
            text.push_str(&format!(
                "[[destination]]\nname = \"{kind}\"\ntransform = \"v.jmespath\"\ndatabase = \"d\"\n\
                 table = \"T_{kind}\"\ncolumns = \"V:{kind}\"\n\n"
            ));
        }
        std::fs::write(
            dir.join("meta.jmespath"),
            "items(telemetry)[*].{Device: $.deviceId, Partition: $meta.partition, Name: [0], Value: [1]}",
        )
        .unwrap();
        text.push_str(
            "[[destination]]\nname = \"meta\"\ntransform = \"meta.jmespath\"\ndatabase = \"d\"\n\
             table = \"M\"\ncolumns = \"Device:string, Partition:string, Name:string, Value:dynamic\"\n\
             [destination.filter]\npredicate = \"$meta.partition == 'file' && length(deviceId) > `2`\"\n",
        );
        let settings = load_str(&text, &dir).unwrap_or_else(|e| panic!("{e}"));
        Processor::new(settings.destinations)
    })
}

/// Whether `value` is what a column of `kind` may hold in a row.
fn fits(kind: KustoType, value: &Value) -> bool {
    match (kind, value) {
        (_, Value::Null) | (KustoType::Dynamic, _) => true,
        (KustoType::Bool, v) => v.is_boolean(),
        (KustoType::Int, v) => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        (KustoType::Long, v) => v.is_i64(),
        // NaN and the infinities travel as strings.
        (KustoType::Real, v) => {
            v.is_number() || matches!(v.as_str(), Some("NaN" | "Infinity" | "-Infinity"))
        }
        (_, v) => v.is_string(),
    }
}

/// How long one input may take before the run is called hung (each takes well under a
/// millisecond; this only catches an endless loop).
const HANG: Duration = Duration::from_secs(20);

/// Per test thread, the input being processed and since when, watched by `watchdog`.
type Running = HashMap<ThreadId, (Instant, Vec<u8>)>;

fn running() -> std::sync::MutexGuard<'static, Running> {
    static RUNNING: OnceLock<Mutex<Running>> = OnceLock::new();
    let lock = RUNNING.get_or_init(Default::default).lock();
    lock.unwrap_or_else(|e| e.into_inner())
}

/// Starts, once, a thread that aborts the test process when one input runs longer than
/// `HANG`, printing it: a hang fails the test instead of stalling CI.
fn watchdog() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_secs(1));
            for (since, body) in running().values() {
                if since.elapsed() > HANG {
                    eprintln!(
                        "hung for {HANG:?} on input {:?}",
                        String::from_utf8_lossy(body)
                    );
                    std::process::abort();
                }
            }
        });
    });
}

/// Cases per input kind: `PROPTEST_CASES`, or 2,000.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig::with_cases(cases)
}

/// Runs one input and checks that it ended as exactly one accounted outcome per destination;
/// tells whether it decoded.
fn account_for(body: &[u8]) -> Result<bool, TestCaseError> {
    let p = processor();
    watchdog();
    let mut out = Output::new(p.destinations().len());
    let me = std::thread::current().id();
    running().insert(me, (Instant::now(), body.to_vec()));
    p.process(&support::event(body, "fuzz:1", 7), &mut out);
    running().remove(&me);
    for f in &out.failures {
        prop_assert!(
            !f.reason.trim().is_empty(),
            "a failure without a reason: {f:?}"
        );
    }
    if let Some(decode) = out.failures.iter().find(|f| f.stage == Stage::Decode) {
        prop_assert_eq!(out.failures.len(), 1, "a decode failure is the only one");
        prop_assert_eq!(decode.destination, None);
        prop_assert_eq!(out.matched(), 0, "nothing is routed after a decode failure");
        return Ok(false);
    }
    for (i, d) in p.destinations().iter().enumerate() {
        let failures: Vec<_> = out
            .failures
            .iter()
            .filter(|f| f.destination == Some(i))
            .collect();
        prop_assert!(failures.len() <= 1, "{}: {failures:?}", d.name);
        let (rows, n) = out.rows(i);
        if let Some(f) = failures.first() {
            prop_assert_eq!(f.stage == Stage::Route, !out.accepted(i));
            prop_assert_eq!(n, 0, "{}: rows and a failure for one message", d.name);
            continue;
        }
        if !out.accepted(i) {
            prop_assert_eq!(n, 0, "{}: rows from an unrouted message", d.name);
            continue;
        }
        // `{V: telemetry.v}` makes one row of every message: none means a lost failure.
        if TYPES.contains(&d.name.as_str()) {
            prop_assert_eq!(
                n,
                1,
                "{}: an accepted message without a row or a failure",
                d.name
            );
        }
        let lines: Vec<&[u8]> = rows
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        prop_assert_eq!(lines.len(), n, "{}: the row count matches the rows", d.name);
        for line in lines {
            let row: Map<String, Value> = serde_json::from_slice(line)
                .map_err(|e| TestCaseError::fail(format!("{}: a row is not JSON: {e}", d.name)))?;
            for (key, value) in &row {
                let column = d.schema.index_of(key).map(|c| &d.schema.columns()[c]);
                let Some(column) = column else {
                    return Err(TestCaseError::fail(format!(
                        "{}: {key} is no column",
                        d.name
                    )));
                };
                prop_assert!(
                    fits(column.kind, value),
                    "{}: column {key} ({}) holds {value}",
                    d.name,
                    column.kind.name()
                );
            }
        }
    }
    Ok(true)
}

/// Any JSON value, a few levels deep, with the keys IoT Central messages use.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("2026-12-03T10:00:00Z"),
            Just("2026-13-45T99:00:00Z"),
            Just("1.02:03:04.5"),
            Just("00000000-0000-0000-0000-00000000000g"),
            Just("6f1c4c6e-1d2b-4f57-9b6e-3b8c1e0f4a11"),
            Just("1e400"),
            Just("NaN"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "messageSource",
            "messageType",
            "deviceId",
            "applicationId",
            "templateId",
            "enqueuedTime",
            "telemetry",
            "properties",
            "enrichments",
            "module",
            "component",
            "name",
            "value",
            "v",
            "actor",
            "resource",
            "updated",
            "schema",
        ])
        .prop_map(str::to_string),
        "\\PC{0,6}",
    ]
}

/// An export message of a known source, well-formed where decoding requires it (string
/// fields, an object of telemetry, an array of properties) with anything inside; or, for one
/// case in eight, with one of those fields of a random type. Gives the message and whether it
/// is well-formed.
fn iot_central_shaped() -> impl Strategy<Value = (Value, bool)> {
    let source = prop::sample::select(vec![
        "telemetry",
        "properties",
        "deviceConnectivity",
        "deviceLifecycle",
        "deviceTemplateLifecycle",
        "audit",
        "somethingNew",
    ]);
    let time = prop_oneof![
        Just("2026-12-03T10:00:00.1234567Z".to_string()),
        Just("2026-12-03T10:00:00+01:00".to_string()),
        "\\PC{0,24}",
    ];
    let property = (key(), any_json(), any_json()).prop_map(
        |(name, value, component)| json!({"name": name, "value": value, "component": component}),
    );
    (
        (
            source,
            "\\PC{0,16}",
            time,
            prop::collection::btree_map(key(), any_json(), 0..6),
        ),
        (
            prop::collection::vec(property, 0..4),
            any_json(),
            any_json(),
            0..48u8,
            any_json(),
        ),
    )
        .prop_map(
            |((source, device, time, telemetry), (properties, v, extra, broken, noise))| {
                let mut telemetry: Map<String, Value> = telemetry.into_iter().collect();
                telemetry.insert("v".into(), v);
                let mut message = json!({
                    "messageSource": source, "deviceId": device, "enqueuedTime": time,
                    "applicationId": "app", "templateId": "dtmi:x;1", "schema": "default@v1",
                    "messageType": "devicePropertyReportedChange", "telemetry": telemetry,
                    "properties": properties, "enrichments": {"simulated": extra},
                    "actor": {"id": "a", "type": "user"}, "resource": {"id": "r", "type": "device"},
                    "updated": noise.clone(),
                });
                // One case in eight: a field decoding checks, holding anything.
                let fields = [
                    "deviceId",
                    "enqueuedTime",
                    "messageType",
                    "telemetry",
                    "properties",
                    "enrichments",
                ];
                let well_formed = broken % 8 != 0;
                if !well_formed {
                    message[fields[usize::from(broken / 8) % fields.len()]] = noise;
                }
                (message, well_formed)
            },
        )
}

/// The shipped samples, one per line, to mutate.
fn samples() -> Vec<Vec<u8>> {
    let repo = support::repo();
    folders()
        .iter()
        .flat_map(|f| support::lines(&repo.join("transforms").join(f).join("sample.jsonl")))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_are_accounted_for(body in prop::collection::vec(any::<u8>(), 0..512)) {
        account_for(&body)?;
    }

    #[test]
    fn arbitrary_json_is_accounted_for(value in any_json()) {
        account_for(value.to_string().as_bytes())?;
    }

    #[test]
    fn iot_central_shaped_messages_with_any_values_are_accounted_for(
        (value, well_formed) in iot_central_shaped()
    ) {
        let decoded = account_for(value.to_string().as_bytes())?;
        prop_assert!(decoded || !well_formed, "a well-formed message failed to decode: {value}");
    }

    #[test]
    fn mutated_samples_are_accounted_for(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    ) {
        let all = samples();
        let mut body = pick.get(&all).clone();
        for (at, byte, how) in edits {
            if body.is_empty() {
                body.push(byte);
                continue;
            }
            let i = at.index(body.len());
            match how {
                0 => body[i] = byte,
                1 => { body.remove(i); }
                _ => body.insert(i, byte),
            }
        }
        account_for(&body)?;
    }
}
