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
        assert!(
            output.failures.is_empty(),
            "{folder} sample line {}: {:?}",
            i + 1,
            output.failures
        );
        assert!(
            output.accepted(0),
            "{folder} sample line {} is not accepted by the filter",
            i + 1
        );
        produced.extend_from_slice(output.rows(0).0);
    }
    let expected_path = dir.join("expected.jsonl");
    if support::update_golden() {
        std::fs::write(&expected_path, &produced).unwrap();
    }
    let expected = std::fs::read(&expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_GOLDEN=1 writes it)",
            expected_path.display()
        )
    });
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
    let tested = [
        "smartvitalspatch",
        "properties",
        "connectivity",
        "device-lifecycle",
        "template-lifecycle",
        "audit",
    ];
    for entry in std::fs::read_dir(support::repo().join("transforms")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                tested.contains(&name.as_str()),
                "transforms/{name} has no golden test"
            );
            for file in [
                "destination.toml",
                "transform.jmespath",
                "sample.jsonl",
                "expected.jsonl",
            ] {
                assert!(
                    Path::new(&path).join(file).exists(),
                    "transforms/{name}/{file} is missing"
                );
            }
        }
    }
}

/// The recipes in transforms/README.md do what the README says.
#[test]
fn readme_recipes_work() {
    use iotc_adx::transform::Expression;
    use serde_json::{json, Value};
    let message = json!({"messageSource": "telemetry", "deviceId": "v1", "enqueuedTime": "2026-01-01T00:00:00Z",
        "component": "DeviceComponent",
        "telemetry": {"HeartRate": 88, "BodyTemperature": 98.6, "BloodPressure": {"Systolic": 120, "Diastolic": 80}, "Activity": "walking", "BatteryLevel": 50}});
    let meta = json!({"partition": "3", "sequenceNumber": 42});
    let run = |text: &str, message: &Value| {
        Expression::compile(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .search_with(message, &[("meta", &meta)])
            .unwrap()
    };
    let readme = std::fs::read_to_string(support::repo().join("transforms/README.md")).unwrap();
    let recipes: Vec<String> = readme
        .split("## Recipes")
        .nth(1)
        .unwrap()
        .split("```text\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_string())
        .collect();
    assert_eq!(recipes.len(), 4, "the README has four recipes");
    assert_eq!(
        run(&recipes[0], &message),
        json!({"EnqueuedTime": "2026-01-01T00:00:00Z", "Device": "v1", "HeartRate": 88, "Temp": 98.6})
    );
    assert_eq!(
        run(&recipes[1], &message),
        json!({"Device": "v1", "Battery": 50})
    );
    let mut other = message.clone();
    other["component"] = json!("Other");
    assert_eq!(run(&recipes[1], &other), Value::Null);
    assert_eq!(
        run(&recipes[2], &message),
        json!({"Device": "v1", "Systolic": 120, "Diastolic": 80})
    );
    let rows = run(&recipes[3], &message);
    let capabilities: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Capability"].as_str().unwrap())
        .collect();
    assert_eq!(
        capabilities,
        vec!["HeartRate", "BodyTemperature", "BatteryLevel"]
    );
    assert_eq!(rows[0]["Partition"], "3");
    assert_eq!(rows[0]["Sequence"], 42);
}
