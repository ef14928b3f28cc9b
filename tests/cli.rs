//! The `iotc-adx` binary as a user runs it: the quick start, `check`, `transform`, and the
//! errors a bad configuration gets.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn iotc_adx(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iotc-adx"));
    cmd.args(args)
        // Every run serves /metrics: let each pick a free port.
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .current_dir(support::repo())
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// All payload files of one destination, concatenated in name order.
fn payloads(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

#[test]
fn quick_start_runs_the_whole_pipeline() {
    let out = tempfile::tempdir().unwrap();
    let dead = out.path().join("dead-letter");
    let run = iotc_adx(
        &["run", "--config", "examples/quickstart.toml"],
        &[
            ("IOTC_ADX__SINK__PATH", out.path()),
            ("IOTC_ADX__DEAD_LETTER__PATH", &dead),
        ],
    );
    assert!(
        run.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    // The summary aligns its columns; compare with runs of spaces squeezed.
    let stdout = text(&run.stdout)
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(stdout.contains("messages read 56 "), "{stdout}");
    assert!(
        stdout.contains("telemetry 184 rows -> iot.smartvitalspatch (41 messages matched"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dead-lettered 8 (decode 7, coerce 1)"),
        "{stdout}"
    );
    assert!(stdout.contains("unrouted 1 "), "{stdout}");

    // Every good sample message's rows, exactly.
    let expected_dir = support::repo().join("examples/expected");
    for name in [
        "telemetry",
        "properties",
        "connectivity",
        "device-lifecycle",
        "template-lifecycle",
        "audit",
    ] {
        let produced = payloads(&out.path().join(name));
        let expected_file = expected_dir.join(format!("{name}.multijson"));
        if support::update_golden() {
            std::fs::write(&expected_file, &produced).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_GOLDEN=1 writes it)",
                expected_file.display()
            )
        });
        support::assert_same_lines(&produced, &expected, &format!("rows of destination {name}"));
    }

    // Every bad sample is dead-lettered with a readable reason and its exact bytes.
    let letters: Vec<serde_json::Value> = payloads(&dead)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bad_lines = support::lines(&support::repo().join("examples/data/03-bad.jsonl"));
    assert_eq!(letters.len(), bad_lines.len());
    let expectations = [
        ("decode", "not UTF-8"),
        ("decode", "not valid JSON"),
        ("decode", "JSON array"),
        ("decode", "no `messageSource`"),
        ("decode", "`telemetry` should be an object"),
        ("coerce", "column `EnqueuedTime` (datetime)"),
        ("decode", "`deviceId` should be a string"),
        ("decode", "nests more than 128"),
    ];
    for (i, (letter, (stage, needle))) in letters.iter().zip(expectations).enumerate() {
        assert_eq!(letter["stage"], stage, "{letter}");
        assert!(
            letter["reason"].as_str().unwrap().contains(needle),
            "{letter}"
        );
        assert!(letter["event"]["origin"]
            .as_str()
            .unwrap()
            .ends_with(&format!("03-bad.jsonl:{}", i + 1)));
        let body = match letter.get("body") {
            Some(b) => b.as_str().unwrap().as_bytes().to_vec(),
            None => base64_decode(letter["body_base64"].as_str().unwrap()),
        };
        assert_eq!(
            body, bad_lines[i],
            "dead letter {i} keeps the original bytes"
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn check_prints_the_plan() {
    let out = iotc_adx(&["check", "--config", "examples/quickstart.toml"], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("configuration examples/quickstart.toml is valid"),
        "{stdout}"
    );
    assert!(
        stdout.contains("destination \"telemetry\" -> iot.smartvitalspatch (managed ingestion)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("filter      message source in [telemetry]"),
        "{stdout}"
    );
    assert!(stdout.contains("03-bad.jsonl"), "{stdout}");
}

#[test]
fn transform_previews_rows_and_explains_errors() {
    let sample = support::repo().join("transforms/smartvitalspatch/sample.jsonl");
    let ok = iotc_adx(
        &[
            "transform",
            "--config",
            "examples/quickstart.toml",
            "--destination",
            "telemetry",
            "--input",
            sample.to_str().unwrap(),
        ],
        &[],
    );
    let stdout = text(&ok.stdout);
    assert!(ok.status.success(), "{stdout}{}", text(&ok.stderr));
    assert!(
        stdout.contains("rows        4 for iot.smartvitalspatch"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 message(s): 3 ok, 0 would be dead-lettered"),
        "{stdout}"
    );

    let bad = support::repo().join("examples/data/03-bad.jsonl");
    let failed = iotc_adx(
        &[
            "transform",
            "--config",
            "examples/quickstart.toml",
            "--destination",
            "telemetry",
            "--input",
            bad.to_str().unwrap(),
        ],
        &[],
    );
    let stdout = text(&failed.stdout);
    assert!(!failed.status.success());
    assert!(
        stdout.contains("decode      FAILED: the body is not UTF-8"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("rows        FAILED for iot.smartvitalspatch: row 1, column `EnqueuedTime`"),
        "{stdout}"
    );

    let properties = support::repo().join("transforms/properties/sample.jsonl");
    let rejected = iotc_adx(
        &[
            "transform",
            "--config",
            "examples/quickstart.toml",
            "--destination",
            "telemetry",
            "--input",
            properties.to_str().unwrap(),
        ],
        &[],
    );
    assert!(text(&rejected.stdout).contains(
        "NOT accepted: message source 'properties' is not one of the filter's message_sources"
    ));

    let unknown = iotc_adx(
        &[
            "transform",
            "--config",
            "examples/quickstart.toml",
            "--destination",
            "nope",
        ],
        &[],
    );
    assert!(text(&unknown.stderr).contains(
        "no destination is named \"nope\"; the configuration has: telemetry, properties"
    ));
}

#[test]
fn a_bad_configuration_names_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[source]\ntype = \"file\"\npath = \"x.jsonl\"\n[sink]\ntype = \"file\"\npath = \"out\"\n\
         [[destination]]\nname = \"a\"\ntransform = \"missing.jmespath\"\ndatabase = \"d\"\ntable = \"t\"\ncolumns = \"A:strng\"\n\
         [log]\nlevel = \"chatty\"\n",
    )
    .unwrap();
    let out = iotc_adx(&["check", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("has 3 problems"), "{stderr}");
    assert!(
        stderr.contains("destination[0].columns: at character 3: unknown type 'strng'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("destination[0].transform: cannot read transform file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("log.level: \"chatty\" is not a level"),
        "{stderr}"
    );
}

#[test]
fn every_example_configuration_is_valid() {
    let mut checked = 0;
    for entry in std::fs::read_dir(support::repo().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let relative = path
                .strip_prefix(support::repo())
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let out = iotc_adx(&["check", "--config", &relative], &[]);
            assert!(out.status.success(), "{relative}: {}", text(&out.stderr));
            checked += 1;
        }
    }
    assert!(checked >= 3);
}

/// SIGTERM while reading a stream that never ends: stop reading, deliver the open batch,
/// flush dead letters, print the summary and exit 0.
#[cfg(unix)]
#[test]
fn sigterm_flushes_open_batches_and_exits_cleanly() {
    use std::time::Duration;
    let out = tempfile::tempdir().unwrap();
    // Debug logs say when a line is dead-lettered: the last line fed, so all were read.
    let mut run =
        support::running::Running::stdin_example(out.path(), &[("IOTC_ADX__LOG__LEVEL", "debug")]);
    run.wait_for("pipeline starting", Duration::from_secs(30));
    let telemetry =
        std::fs::read(support::repo().join("transforms/smartvitalspatch/sample.jsonl")).unwrap();
    run.feed(&telemetry);
    run.feed(b"not json\n");
    // The batch stays open (its age limit is 1 s) while the signal comes.
    run.wait_for("dead-lettered", Duration::from_secs(30));
    run.terminate();
    // Bounded wait: a hang must fail this test, not stall the suite.
    let (status, stdout) = run.wait(Duration::from_secs(15));
    assert!(status.success(), "{status}\n{stdout}\n{}", run.log());
    assert!(stdout.contains("interrupted (shutdown signal)"), "{stdout}");
    let squeezed = stdout
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(squeezed.contains("telemetry 9 rows"), "{stdout}");
    assert!(squeezed.contains("dead-lettered 1 (decode 1)"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(out.path().join("telemetry"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1, "the open batch was delivered on shutdown");
}
