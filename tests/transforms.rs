//! Golden tests for the shipped transform library: each folder of `transforms/` holds a
//! `destination.toml` block, a `transform.jmespath`, sample messages and the exact rows they
//! must produce. Set UPDATE_GOLDEN=1 to rewrite `expected.jsonl` after a deliberate change
//! (then review the diff).

mod support;

use iotc_adx::config::load_str;
use iotc_adx::pipeline::{Output, Processor};
use std::path::Path;

fn check(folder: &str) {
    let dir = support::repo().join("transforms").join(folder);
    let block = std::fs::read_to_string(dir.join("destination.toml")).unwrap();
    let settings = load_str(&format!("{}{block}", support::CONFIG_HEAD), &dir)
        .unwrap_or_else(|e| panic!("transforms/{folder}/destination.toml: {e}"));
    let processor = Processor::new(settings.destinations);
    let mut output = Output::new(1);
    let mut produced = Vec::new();
    for (i, line) in support::lines(&dir.join("sample.jsonl")).iter().enumerate() {
        let event = support::event(line, &format!("{folder}/sample.jsonl:{}", i + 1), i as i64);
        processor.process(&event, &mut output);
        assert!(output.failures.is_empty(), "{folder} sample line {}: {:?}", i + 1, output.failures);
        assert!(output.accepted(0), "{folder} sample line {} is not accepted by the filter", i + 1);
        produced.extend_from_slice(output.rows(0).0);
    }
    let expected_path = dir.join("expected.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &produced).unwrap();
    }
    let expected = std::fs::read(&expected_path).unwrap_or_default();
    support::assert_same_lines(
        &String::from_utf8_lossy(&produced),
        &String::from_utf8_lossy(&expected),
        &format!("rows of transforms/{folder} against expected.jsonl"),
    );
}

#[test]
fn smartvitalspatch() {
    check("smartvitalspatch");
}

#[test]
fn properties() {
    check("properties");
}

#[test]
fn connectivity() {
    check("connectivity");
}

#[test]
fn device_lifecycle() {
    check("device-lifecycle");
}

#[test]
fn template_lifecycle() {
    check("template-lifecycle");
}

#[test]
fn audit() {
    check("audit");
}

#[test]
fn every_folder_has_a_test() {
    let tested = ["smartvitalspatch", "properties", "connectivity", "device-lifecycle", "template-lifecycle", "audit"];
    for entry in std::fs::read_dir(support::repo().join("transforms")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(tested.contains(&name.as_str()), "transforms/{name} has no golden test");
            for file in ["destination.toml", "transform.jmespath", "sample.jsonl", "expected.jsonl"] {
                assert!(Path::new(&path).join(file).exists(), "transforms/{name}/{file} is missing");
            }
        }
    }
}
