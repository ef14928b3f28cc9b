//! `iotc-adx replay` as a user runs it: a broken transform sends messages to the dead letters;
//! the transform is fixed; `--dry-run` shows the rows and sends nothing; the replay puts each
//! row in the Data Explorer emulator's table once; a second replay sends nothing; undecodable
//! bodies stay undecodable and say so; refused rows are sent as rows.

mod support;

use iotc_adx::deadletter::{DeadLetter, DeadLetterStore, LocalDirStore};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn iotc_adx(dir: &Path, args: &[&str]) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        .args(args)
        .current_dir(dir)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every dead letter in `dir/dead`, in file order.
fn letters(dir: &Path) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("dead"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|f: &std::path::PathBuf| f.to_string_lossy().contains("dead-letter-"));
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Devices in the table, sorted, with repeats.
fn devices(k: &KustoEmulator) -> Vec<String> {
    let mut d: Vec<String> = k
        .rows("iot", "Readings")
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    d.sort();
    d
}

const BROKEN: &str = "{Device: deviceId, V: abs(telemetry.v)}";
const FIXED: &str = "{Device: deviceId, V: to_number(telemetry.v)}";

fn setup(k: &KustoEmulator) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    // 12 numbers, 8 numeric strings (which abs() refuses), 1 line that is not JSON.
    for i in 0..20 {
        let v = if i % 5 < 3 {
            format!("{i}.5")
        } else {
            format!("\"{i}.5\"")
        };
        lines.push_str(&format!(
            r#"{{"messageSource":"telemetry","deviceId":"d{i:02}","telemetry":{{"v":{v}}},"enrichments":{{}}}}"#
        ));
        lines.push('\n');
    }
    lines.push_str("{\"messageSource\": \"telemetry\", oops\n");
    std::fs::write(dir.path().join("in.jsonl"), lines).unwrap();
    std::fs::write(dir.path().join("t.jmespath"), BROKEN).unwrap();
    let config = format!(
        "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[sink]\ntype = \"kusto\"\ncluster = \"{}\"\n\n\
         [auth]\ntype = \"none\"\n\n[dead_letter]\npath = \"dead\"\n\n[[destination]]\nname = \"readings\"\n\
         transform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Readings\"\ningestion = \"streaming\"\n\
         columns = \"Device:string, V:real\"\n",
        k.url()
    );
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_the_transform_then_replay_puts_every_row_in_the_table_once() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("emulator");
    let dir = setup(&k);
    let d = dir.path();
    tokio::task::block_in_place(|| {
        iotc_adx(d, &["provision", "--config", "c.toml"]);
        iotc_adx(d, &["run", "--config", "c.toml"]);
    });
    assert_eq!(devices(&k).len(), 12, "the numbers made rows");
    let first = letters(d);
    let stages: Vec<&str> = first.iter().map(|l| l["stage"].as_str().unwrap()).collect();
    assert_eq!(stages.iter().filter(|s| **s == "transform").count(), 8);
    assert_eq!(stages.iter().filter(|s| **s == "decode").count(), 1);
    assert_eq!(first.len(), 9);

    std::fs::write(d.join("t.jmespath"), FIXED).unwrap();

    // A dry run shows the rows each transform letter makes now, and sends nothing.
    let dry = tokio::task::block_in_place(|| {
        iotc_adx(
            d,
            &[
                "replay",
                "--config",
                "c.toml",
                "--stage",
                "transform",
                "--dry-run",
            ],
        )
    });
    let shown = text(&dry.stdout);
    assert_eq!(
        shown.matches("1 row(s) for iot.Readings").count(),
        8,
        "{shown}"
    );
    assert!(shown.contains(r#"{"Device":"d03","V":3.5}"#), "{shown}");
    assert!(
        !shown.contains("decode"),
        "--stage transform leaves the decode letter out: {shown}"
    );
    assert_eq!(devices(&k).len(), 12, "a dry run sends nothing");
    assert!(!d.join("dead/replayed.jsonl").exists(), "and marks nothing");

    // The replay: every letter once; the undecodable line fails again, with its reason.
    let run = tokio::task::block_in_place(|| iotc_adx(d, &["replay", "--config", "c.toml"]));
    let summary = text(&run.stdout);
    let expected: Vec<String> = (0..20).map(|i| format!("d{i:02}")).collect();
    assert_eq!(devices(&k), expected, "every device once: {summary}");
    let after = letters(d);
    assert_eq!(after.len(), 10, "one new letter: {summary}");
    let new = &after[9];
    assert_eq!(new["stage"], "decode");
    assert!(
        new["reason"].as_str().unwrap().contains("not valid JSON"),
        "{new}"
    );
    assert!(
        new["event"]["origin"]
            .as_str()
            .unwrap()
            .starts_with("replay of dead-letter-"),
        "{new}"
    );
    let ledger = std::fs::read_to_string(d.join("dead/replayed.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 9, "every replayed letter is marked");

    // A second replay of the same letters sends nothing; the new decode letter is still there
    // to replay (and fails again).
    let again = tokio::task::block_in_place(|| {
        iotc_adx(d, &["replay", "--config", "c.toml", "--stage", "transform"])
    });
    let said = text(&again.stdout);
    assert!(said.contains("8 already replayed"), "{said}");
    assert!(said.contains("nothing to replay"), "{said}");
    assert_eq!(devices(&k), expected, "nothing sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_rows_are_sent_as_rows_to_the_same_or_another_destination() {
    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("emulator");
    let dir = setup(&k);
    let d = dir.path();
    std::fs::write(d.join("t.jmespath"), FIXED).unwrap();
    tokio::task::block_in_place(|| iotc_adx(d, &["provision", "--config", "c.toml"]));
    let mut store = LocalDirStore::new(&d.join("dead"), 1 << 20);
    let rows = b"{\"Device\":\"r1\",\"V\":1.25}\n{\"Device\":\"r2\",\"V\":2.5}\n";
    let letter = DeadLetter::for_rows(
        "a column was missing".into(),
        "readings".into(),
        Vec::new(),
        rows,
    );
    store.put(&letter).unwrap();
    let late = DeadLetter::for_late_failure(
        "failed".into(),
        "readings".into(),
        Vec::new(),
        Some("https://x/blob".into()),
        None,
    );
    store.put(&late).unwrap();
    store.flush().unwrap();

    let out = tokio::task::block_in_place(|| {
        iotc_adx(d, &["replay", "--config", "c.toml", "--stage", "ingest"])
    });
    let said = text(&out.stdout);
    assert!(said.contains("only in the blob https://x/blob"), "{said}");
    assert!(said.contains("1 letter(s) accepted (2 rows)"), "{said}");
    assert_eq!(devices(&k), vec!["r1", "r2"]);
    let again = tokio::task::block_in_place(|| {
        iotc_adx(d, &["replay", "--config", "c.toml", "--stage", "ingest"])
    });
    assert!(text(&again.stdout).contains("1 already replayed"));
    assert_eq!(devices(&k), vec!["r1", "r2"], "nothing sent twice");
}

#[test]
fn unknown_destinations_and_stages_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jmespath"), FIXED).unwrap();
    let config = format!(
        "{}[[destination]]\nname = \"readings\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"R\"\ncolumns = \"Device:string\"\n",
        support::CONFIG_HEAD
    );
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["replay", "--config", "c.toml", "--to", "nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("--to: no destination is named \"nope\"; the configuration has: readings"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["replay", "--config", "c.toml", "--stage", "sink"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(
            "unknown stage \"sink\": expected one of decode, route, transform, coerce, ingest"
        ),
        "{}",
        text(&out.stderr)
    );
}

/// The progress bar is drawn on a terminal (a pseudo-terminal from `script`), and never into
/// a pipe or a file.
#[test]
fn a_progress_bar_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[sink]\ntype = \"file\"\npath = \"out\"\n\n\
                  [dead_letter]\npath = \"dead\"\n\n[[destination]]\nname = \"r\"\ntransform = \"t.jmespath\"\n\
                  database = \"iot\"\ntable = \"R\"\ncolumns = \"Device:string, V:real\"\n";
    std::fs::write(d.join("c.toml"), config).unwrap();
    let fail_then_fix = |from: usize| {
        let lines: String = (from..from + 15)
            .map(|i| format!("{{\"messageSource\":\"telemetry\",\"deviceId\":\"d{i}\",\"telemetry\":{{\"v\":\"{i}\"}},\"enrichments\":{{}}}}\n"))
            .collect();
        std::fs::write(d.join("in.jsonl"), lines).unwrap();
        std::fs::write(d.join("t.jmespath"), BROKEN).unwrap();
        iotc_adx(d, &["run", "--config", "c.toml"]);
        std::fs::write(d.join("t.jmespath"), FIXED).unwrap();
    };
    fail_then_fix(0);
    let piped = iotc_adx(d, &["replay", "--config", "c.toml"]);
    assert!(
        text(&piped.stdout).contains("15 rows -> iot.R"),
        "{}",
        text(&piped.stdout)
    );
    assert!(
        !text(&piped.stderr).contains("replaying"),
        "{}",
        text(&piped.stderr)
    );
    fail_then_fix(15);
    let command = format!("{} replay --config c.toml", env!("CARGO_BIN_EXE_iotc-adx"));
    let tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(d)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .output()
        .expect("script (util-linux) runs");
    let shown = text(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(shown.contains("15 already replayed"), "{shown}");
    assert!(
        shown.contains("replaying") && shown.contains("15/15 letters"),
        "{shown}"
    );
}
