//! The JMESPath engine against the official compliance suite
//! (the JSON files of the `jmespath.test` project). The suite is not copied into this
//! repository: it ships inside the `jmespath` crate's package, a dev-dependency pinned in
//! `Cargo.lock` for this test only, and is read from where Cargo unpacked it.
//!
//! Every case must pass except the ones listed in `DIFFERENCES`, each with its reason.

use iotc_adx_jmespath::Expression;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Cases where the engine answers differently on purpose: (expression, why).
const DIFFERENCES: &[(&str, &str)] = &[(
    r"'\\'",
    "in a raw string the engine reads `\\\\` as one backslash, as the JMESPath Community \
     edition does (so that a raw string can end in a backslash); the suite keeps both",
)];

/// The `tests/compliance` folder of the `jmespath` package Cargo resolved.
fn suite_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "jmespath")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("the jmespath package is a dev-dependency");
    PathBuf::from(manifest)
        .with_file_name("tests")
        .join("compliance")
}

/// One failed case, described.
fn check(given: &Value, case: &Value) -> Option<String> {
    let expression = case["expression"].as_str()?;
    let compiled = Expression::compile(expression);
    let answer = match &compiled {
        Ok(e) => e.search(given).map_err(|e| e.kind().to_string()),
        Err(e) => Err(e.kind().to_string()),
    };
    let ok = match (case.get("result"), case.get("error"), &answer) {
        (Some(want), _, Ok(got)) => same(want, got),
        (_, Some(_), Err(_)) => true,
        _ => false,
    };
    (!ok).then(|| format!("{expression}: expected {case}, got {answer:?}"))
}

/// Equality as the suite means it: numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn the_engine_passes_the_official_compliance_suite() {
    let dir = suite_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut cases, mut failures, mut excused) = (0, Vec::new(), 0);
    for file in &files {
        let suites: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        for suite in suites.as_array().unwrap() {
            for case in suite["cases"].as_array().unwrap() {
                // Benchmark entries carry no expected answer.
                if case.get("result").is_none() && case.get("error").is_none() {
                    continue;
                }
                cases += 1;
                if let Some(why) = check(&suite["given"], case) {
                    let expression = case["expression"].as_str().unwrap_or_default();
                    if DIFFERENCES.iter().any(|(e, _)| *e == expression) {
                        excused += 1;
                    } else {
                        let name = file.file_name().unwrap().to_string_lossy();
                        failures.push(format!("{name}: {why}"));
                    }
                }
            }
        }
    }
    println!(
        "{cases} cases in {} files, {excused} documented differences",
        files.len()
    );
    assert!(cases > 800, "the suite has its cases: {cases}");
    assert_eq!(
        excused,
        DIFFERENCES.len(),
        "every documented difference still differs"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
