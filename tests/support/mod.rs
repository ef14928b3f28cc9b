//! Helpers shared by the integration tests.
#![allow(dead_code)]

use iotc_adx::event::{EventMeta, SourceEvent};
use serde_json::Map;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An event with file-source-like metadata.
pub fn event(body: &[u8], origin: &str, sequence: i64) -> SourceEvent {
    SourceEvent {
        body: body.to_vec(),
        meta: EventMeta {
            partition: "file".into(),
            sequence_number: sequence,
            offset: "0".into(),
            enqueued_time: chrono::Utc::now(),
            partition_key: None,
            properties: Map::new(),
            system_properties: Map::new(),
            origin: Some(origin.to_string()),
        },
    }
}

/// The non-empty lines of a file, as bytes.
pub fn lines(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Whether a golden-file test should rewrite its expectation: only on a developer's request
/// (`UPDATE_GOLDEN=1`), never in CI (where `CI` is set), so that CI always compares.
pub fn update_golden() -> bool {
    let asked = std::env::var_os("UPDATE_GOLDEN").is_some();
    assert!(
        !(asked && std::env::var_os("CI").is_some()),
        "UPDATE_GOLDEN is set in CI: golden files are compared there, never rewritten"
    );
    asked
}

/// Runs the binary with `args` and `--config config` in the configuration's folder, `input`
/// on its standard input and `env` set (metrics on a free port, no `RUST_LOG`), and waits.
pub fn run_binary(
    args: &[&str],
    config: &Path,
    input: &str,
    env: &[(&str, String)],
) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut command = Command::new(env!("CARGO_BIN_EXE_iotc-adx"));
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .current_dir(config.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input.as_bytes()).expect("input written");
    drop(stdin);
    child.wait_with_output().expect("the binary runs")
}

/// A minimal configuration head (source and sink) to put before `[[destination]]` blocks.
pub const CONFIG_HEAD: &str =
    "[source]\ntype = \"file\"\npath = \"-\"\n\n[sink]\ntype = \"file\"\npath = \"out\"\n\n";

/// Asserts two multi-line texts are equal, reporting only the first line that differs.
pub fn assert_same_lines(produced: &str, expected: &str, what: &str) {
    for (i, (p, e)) in produced.lines().zip(expected.lines()).enumerate() {
        assert_eq!(p, e, "{what}: line {} differs", i + 1);
    }
    assert_eq!(
        produced.lines().count(),
        expected.lines().count(),
        "{what}: number of lines differs"
    );
}

#[cfg(unix)]
pub mod cli;
pub mod eventhubs;
#[cfg(unix)]
pub mod running;
