//! Bad input never panics: each case is either accepted or dead-lettered with a reason that
//! names the problem. Runs through the same processor the pipeline uses.

mod support;

use iotc_adx::config::load_str;
use iotc_adx::deadletter::Stage;
use iotc_adx::pipeline::{Output, Processor};
use serde_json::{json, Value};

/// One destination per Kusto type, each taking `telemetry.v` into its single column.
fn processor(dir: &std::path::Path) -> Processor {
    std::fs::write(dir.join("v.jmespath"), "{V: telemetry.v}").unwrap();
    let mut text = support::CONFIG_HEAD.to_string();
    for kind in [
        "bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid",
        "dynamic",
    ] {
        text.push_str(&format!(
            "[[destination]]\nname = \"{kind}\"\ntransform = \"v.jmespath\"\ndatabase = \"d\"\ntable = \"T_{kind}\"\ncolumns = \"V:{kind}\"\n\n"
        ));
    }
    Processor::new(load_str(&text, dir).unwrap().destinations)
}

fn telemetry(v: Value) -> Vec<u8> {
    json!({"messageSource": "telemetry", "deviceId": "d", "telemetry": {"v": v}, "enrichments": {}})
        .to_string()
        .into_bytes()
}

fn run(p: &Processor, body: &[u8]) -> Output {
    let mut out = Output::new(p.destinations().len());
    p.process(&support::event(body, "test:1", 0), &mut out);
    out
}

fn failures_for(out: &Output, p: &Processor) -> Vec<(String, Stage, String)> {
    out.failures
        .iter()
        .map(|f| {
            (
                f.destination
                    .map(|i| p.destinations()[i].name.clone())
                    .unwrap_or_default(),
                f.stage,
                f.reason.clone(),
            )
        })
        .collect()
}

#[test]
fn every_column_type_rejects_a_wrong_value_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = processor(dir.path());
    // A JSON object fits only dynamic and string (as its JSON text).
    let out = run(&p, &telemetry(json!({"nested": [1, 2]})));
    let failed = failures_for(&out, &p);
    let names: Vec<&str> = failed.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["bool", "int", "long", "real", "decimal", "datetime", "timespan", "guid"]
    );
    for (name, stage, reason) in &failed {
        assert_eq!(*stage, Stage::Coerce);
        assert!(reason.contains(&format!("column `V` ({name})")), "{reason}");
        assert!(
            reason.contains("{\"nested\":[1,2]}"),
            "the reason quotes the value: {reason}"
        );
    }
    assert_eq!(
        out.rows(p.destinations().len() - 1).1,
        1,
        "dynamic takes it"
    );

    // Per type, a scalar that looks plausible but is wrong.
    let wrong = [
        ("bool", json!("maybe")),
        ("int", json!(2.5)),
        ("long", json!("12 apples")),
        ("real", json!("warm")),
        ("decimal", json!("1,5")),
        ("datetime", json!("31/12/2026")),
        ("timespan", json!("90 minutes")),
        ("guid", json!("1234")),
    ];
    for (kind, value) in wrong {
        let out = run(&p, &telemetry(value.clone()));
        let failed = failures_for(&out, &p);
        assert!(
            failed
                .iter()
                .any(|(n, s, _)| n == kind && *s == Stage::Coerce),
            "{kind} accepted {value}: {failed:?}"
        );
    }
}

#[test]
fn malformed_bodies_are_decode_failures() {
    let dir = tempfile::tempdir().unwrap();
    let p = processor(dir.path());
    let cases: [(&[u8], &str); 6] = [
        (b"\xc3\x28", "not UTF-8"),
        (b"{\"messageSource\": ", "not valid JSON"),
        (b"[{\"messageSource\":\"telemetry\"}]", "JSON array"),
        (b"\"telemetry\"", "JSON string"),
        (b"", "empty"),
        (
            b"{\"messageSource\":[\"telemetry\"]}",
            "`messageSource` should be a string",
        ),
    ];
    for (body, needle) in cases {
        let out = run(&p, body);
        assert_eq!(out.failures.len(), 1, "{needle}");
        assert_eq!(out.failures[0].stage, Stage::Decode);
        assert!(
            out.failures[0].reason.contains(needle),
            "{}",
            out.failures[0].reason
        );
    }
}

#[test]
fn ten_thousand_levels_of_nesting_is_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = processor(dir.path());
    let deep = format!(
        "{{\"messageSource\":\"telemetry\",\"telemetry\":{{\"v\":{}1{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let out = run(&p, deep.as_bytes());
    assert_eq!(out.failures[0].stage, Stage::Decode);
    assert!(out.failures[0].reason.contains("nests more than 128"));
}

#[test]
fn a_one_megabyte_message_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = processor(dir.path());
    let big = "x".repeat(1024 * 1024);
    let out = run(&p, &telemetry(json!(big)));
    let string_column = p
        .destinations()
        .iter()
        .position(|d| d.name == "string")
        .unwrap();
    let (rows, n) = out.rows(string_column);
    assert_eq!(n, 1);
    assert!(rows.len() > 1024 * 1024);
}

#[test]
fn unknown_sources_decode_and_match_no_typed_filter() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("all.jmespath"),
        "{Source: messageSource, Body: @}",
    )
    .unwrap();
    let text = format!(
        "{}[[destination]]\nname = \"t\"\ntransform = \"all.jmespath\"\ndatabase = \"d\"\ntable = \"T\"\ncolumns = \"Source:string, Body:dynamic\"\n[destination.filter]\nmessage_sources = [\"telemetry\"]\n\n\
         [[destination]]\nname = \"new\"\ntransform = \"all.jmespath\"\ndatabase = \"d\"\ntable = \"N\"\ncolumns = \"Source:string, Body:dynamic\"\n[destination.filter]\npredicate = \"messageSource == 'deviceHealth'\"\n",
        support::CONFIG_HEAD
    );
    let p = Processor::new(load_str(&text, dir.path()).unwrap().destinations);
    let body =
        br#"{"messageSource":"deviceHealth","messageType":"degraded","futureField":{"a":[1,2]}}"#;
    let out = run(&p, body);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(!out.accepted(0));
    assert!(
        out.accepted(1),
        "a predicate reaches sources this version does not know"
    );
    let row: Value = serde_json::from_slice(out.rows(1).0).unwrap();
    assert_eq!(
        row["Body"]["futureField"],
        json!({"a": [1, 2]}),
        "unknown fields pass through untouched"
    );
}

#[test]
fn random_mutations_never_panic_and_each_ends_as_rows_or_failures() {
    let dir = tempfile::tempdir().unwrap();
    let p = processor(dir.path());
    let seed = telemetry(json!({"deep": [1, {"x": "2026-01-01T00:00:00Z"}], "n": 1.5}));
    // A small deterministic generator: no dependency, same cases every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]\":,0123456789.eE-+truefalsnl \\\xff\xc3";
    for _ in 0..20_000 {
        let mut body = seed.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % body.len();
            match next() % 3 {
                0 => body[at] = alphabet[(next() as usize) % alphabet.len()],
                1 => {
                    body.remove(at);
                }
                _ => body.insert(at, alphabet[(next() as usize) % alphabet.len()]),
            }
        }
        let out = run(&p, &body);
        for f in &out.failures {
            assert!(!f.reason.is_empty());
        }
        // Accounted for: a decode failure alone, or per destination one row or one failure.
        if out.failures.iter().any(|f| f.stage == Stage::Decode) {
            assert_eq!(out.failures.len(), 1);
            assert_eq!(out.matched(), 0);
            continue;
        }
        for i in 0..p.destinations().len() {
            let failed = out
                .failures
                .iter()
                .filter(|f| f.destination == Some(i))
                .count();
            assert!(out.accepted(i), "no filter: every destination takes it");
            assert_eq!(
                out.rows(i).1 + failed,
                1,
                "{}: {:?} gave {} rows and {failed} failures",
                p.destinations()[i].name,
                String::from_utf8_lossy(&body),
                out.rows(i).1
            );
        }
    }
}
