//! Every number reaches the table exactly as the device sent it: doubles are never re-rounded
//! and integers of any size stay as written where the column type can hold them. A property
//! test drives random doubles and integers (as JSON text, in the forms devices write) through
//! decode, a filter predicate, a transform and the coercion to every numeric-holding column
//! type; a second test sends them through the binary into the Data Explorer emulator and reads
//! the table back over the query API.

mod support;

use iotc_adx::config::load_str;
use iotc_adx::deadletter::Stage;
use iotc_adx::pipeline::{Output, Processor};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

/// Columns of every type that can hold a number: each destination takes the value into `V`,
/// after a predicate that reads it (so the route stage sees it too).
const KINDS: [&str; 5] = ["real", "long", "decimal", "string", "dynamic"];

fn config(dir: &Path, head: &str) -> String {
    std::fs::write(
        dir.join("v.jmespath"),
        "{Device: deviceId, V: telemetry.v, Nested: {inner: telemetry.nested.v, list: [telemetry.v]}}",
    )
    .unwrap();
    let mut text = head.to_string();
    for kind in KINDS {
        text.push_str(&format!(
            "[[destination]]\nname = \"{kind}\"\ntransform = \"v.jmespath\"\ndatabase = \"iot\"\n\
             table = \"T_{kind}\"\ncolumns = \"Device:string, V:{kind}, Nested:dynamic\"\n\
             [destination.filter]\npredicate = \"telemetry.v != null && to_number(telemetry.nested.v) != null\"\n\n"
        ));
    }
    text
}

/// A telemetry message carrying `number` exactly as written (twice: flat and nested).
fn message(device: &str, number: &str) -> String {
    format!(
        r#"{{"messageSource":"telemetry","deviceId":"{device}","enqueuedTime":"2026-12-02T10:00:00.000Z","telemetry":{{"v":{number},"nested":{{"v":{number}}}}},"enrichments":{{}}}}"#
    )
}

/// A number as a device wrote it, with the integer it is (generated, not read back from the
/// text): `Integral(None)` for integers too large for any column, `Fractional` otherwise.
#[derive(Debug, Clone)]
struct Sent {
    text: String,
    integer: Whole,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Whole {
    Integral(Option<i128>),
    Fractional,
}

/// What a column of `kind` must hold for `sent`, as JSON text; `None` when the column type
/// cannot hold it and the row must be dead-lettered at the coerce stage instead.
fn expected_cell(kind: &str, sent: &Sent) -> Option<String> {
    let number = &sent.text;
    match kind {
        "real" => {
            let f: f64 = number.parse().ok()?;
            f.is_finite().then(|| serde_json::to_string(&f).unwrap())
        }
        "long" => match sent.integer {
            Whole::Integral(Some(i)) => i64::try_from(i).ok().map(|i| i.to_string()),
            _ => None,
        },
        "decimal" | "string" => Some(format!("\"{number}\"")),
        _ => Some(number.to_string()),
    }
}

/// The integer a double is, from its shortest decimal digits (`{:e}`: `d.ddde±x`).
fn whole_of(f: f64) -> Whole {
    let e = format!("{:e}", f.abs());
    let (mantissa, exponent) = e.split_once('e').unwrap();
    let digits = mantissa.replace('.', "");
    let scale = exponent.parse::<i32>().unwrap() - (digits.len() as i32 - 1);
    let m: i128 = digits.parse().unwrap();
    let sign = if f < 0.0 { -1 } else { 1 };
    if m == 0 {
        Whole::Integral(Some(0))
    } else if scale < 0 {
        Whole::Fractional
    } else {
        Whole::Integral(
            u32::try_from(scale)
                .ok()
                .and_then(|s| 10i128.checked_pow(s))
                .and_then(|p| m.checked_mul(p))
                .map(|v| v * sign),
        )
    }
}

/// Number text with the exponent's form made uniform: the JSON parser writes `1e0` as `1e+0`,
/// the same digits.
fn digits(text: &str) -> String {
    text.replace(['E'], "e").replace("e+", "e")
}

/// Checks one cell's JSON text against what it must be. Reals compare as doubles (the text of
/// a real may be written in another form that reads as the same double).
fn same_cell(kind: &str, got: &str, expected: &str) -> bool {
    if kind == "real" {
        let a: f64 = got.parse().unwrap_or(f64::NAN);
        let b: f64 = expected.parse().unwrap_or(f64::NAN);
        return a.to_bits() == b.to_bits();
    }
    got == expected
}

/// Doubles and integers as devices write them: shortest form, long scientific form, plain
/// integers of any size (up to 40 digits), integral values written with `.0` or `e0`.
fn number_text() -> impl Strategy<Value = Sent> {
    let finite = any::<u64>()
        .prop_map(f64::from_bits)
        .prop_filter("finite", |f| f.is_finite());
    let double = |f: f64, text: String| Sent {
        text,
        integer: whole_of(f),
    };
    let integer = |i: i128, text: String| Sent {
        text,
        integer: Whole::Integral(Some(i)),
    };
    prop_oneof![
        finite
            .clone()
            .prop_map(move |f| double(f, serde_json::to_string(&f).unwrap())),
        finite
            .clone()
            .prop_map(move |f| double(f, format!("{f:e}"))),
        finite.prop_map(move |f| double(f, format!("{f}"))),
        (-1e6f64..1e6).prop_map(move |f| double(f, serde_json::to_string(&f).unwrap())),
        any::<i64>().prop_map(move |i| integer(i.into(), i.to_string())),
        any::<u64>().prop_map(move |u| integer(u.into(), u.to_string())),
        prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1, 1 << 53, (1 << 53) + 1])
            .prop_map(move |i| integer(i.into(), i.to_string())),
        (any::<i32>(), prop::bool::ANY).prop_map(move |(i, dot)| integer(
            i.into(),
            format!("{i}{}", if dot { ".0" } else { "e0" })
        )),
        "-?[1-9][0-9]{19,39}".prop_map(|t| Sent {
            integer: Whole::Integral(t.parse().ok()),
            text: t,
        }),
    ]
}

/// The JSON text of each field of one multijson row, in order.
fn cells(line: &str) -> Vec<(String, String)> {
    let row: Value = serde_json::from_str(line).unwrap();
    row.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn numbers_pass_decode_route_transform_and_coerce_unchanged(sent in number_text()) {
        let number = sent.text.clone();
        let dir = tempfile::tempdir().unwrap();
        let settings = load_str(&config(dir.path(), support::CONFIG_HEAD), dir.path()).unwrap();
        let p = Processor::new(settings.destinations);
        let body = message("d1", &number);
        let mut out = Output::new(KINDS.len());
        p.process(&support::event(body.as_bytes(), "test:1", 0), &mut out);
        for (i, kind) in KINDS.iter().enumerate() {
            let failure = out.failures.iter().find(|f| f.destination == Some(i));
            let (payload, rows) = out.rows(i);
            match expected_cell(kind, &sent) {
                None => {
                    let f = failure.unwrap_or_else(|| panic!("{kind}: {number} must be refused"));
                    prop_assert_eq!(f.stage, Stage::Coerce);
                    prop_assert!(f.reason.contains("out of range") || f.reason.contains("fractional"),
                        "{}: {}", kind, f.reason);
                    prop_assert_eq!(rows, 0);
                }
                Some(expected) => {
                    prop_assert!(failure.is_none(), "{}: {:?}", kind, failure.map(|f| &f.reason));
                    prop_assert_eq!(rows, 1);
                    let text = std::str::from_utf8(payload).unwrap();
                    let cells = cells(text.trim_end());
                    prop_assert!(same_cell(kind, &digits(&cells[1].1), &digits(&expected)),
                        "{}: sent {}, row has {}", kind, number, cells[1].1);
                    let nested = format!(r#"{{"inner":{number},"list":[{number}]}}"#);
                    prop_assert_eq!(digits(&cells[2].1), digits(&nested),
                        "dynamic keeps the digits as written");
                }
            }
        }
    }
}

/// The reported cases: doubles whose last digit changed on the way, and integer edges.
#[test]
fn the_reported_values_arrive_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load_str(&config(dir.path(), support::CONFIG_HEAD), dir.path()).unwrap();
    let p = Processor::new(settings.destinations);
    for number in [
        "46.992546068271324",
        "0.9607747127435415",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "123456789012345678901234567890",
    ] {
        let mut out = Output::new(KINDS.len());
        p.process(
            &support::event(message("d", number).as_bytes(), "t:1", 0),
            &mut out,
        );
        let real = std::str::from_utf8(out.rows(0).0).unwrap();
        let sent = Sent {
            text: number.to_string(),
            integer: Whole::Fractional,
        };
        let expected = expected_cell("real", &sent).unwrap();
        assert!(
            real.contains(&format!("\"V\":{expected},"))
                || real.contains(&format!("\"V\":{number},")),
            "{number}: {real}"
        );
        let decimal = std::str::from_utf8(out.rows(2).0).unwrap();
        assert!(
            decimal.contains(&format!("\"V\":\"{number}\"")),
            "{number}: {decimal}"
        );
    }
}

/// Sends `count` generated numbers through the binary (file source, streaming ingestion into
/// the Data Explorer emulator) and reads the table back over the query API: every real is the
/// same double, every long the same integer, every decimal, string and dynamic the same digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_reach_the_table_exactly_through_the_binary() {
    use iotc_adx_kusto::{ClientOptions, KustoClient};
    use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions, StorageMode};
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};

    let count = 600;
    let mut runner = TestRunner::new(Config::default());
    let strategy = (number_text(), any::<i64>());
    let sent: Vec<(Sent, i64)> = (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();

    let k = KustoEmulator::start(KustoOptions {
        storage: StorageMode::Own,
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("emulator");
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for (i, (s, long)) in sent.iter().enumerate() {
        lines.push_str(&format!(
            r#"{{"messageSource":"telemetry","deviceId":"d{i}","telemetry":{{"v":{},"i":{long}}},"enrichments":{{}}}}"#,
            s.text
        ));
        lines.push('\n');
    }
    std::fs::write(dir.path().join("in.jsonl"), lines).unwrap();
    std::fs::write(
        dir.path().join("t.jmespath"),
        "{Device: deviceId, R: telemetry.v, D: telemetry.v, S: telemetry.v, Dyn: {v: telemetry.v}, L: telemetry.i}",
    )
    .unwrap();
    let config = format!(
        "[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[sink]\ntype = \"kusto\"\ncluster = \"{}\"\n\n\
         [auth]\ntype = \"none\"\n\n[dead_letter]\npath = \"dead\"\n\n[[destination]]\nname = \"t\"\n\
         transform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Exact\"\ningestion = \"streaming\"\n\
         columns = \"Device:string, R:real, D:decimal, S:string, Dyn:dynamic, L:long\"\n",
        k.url()
    );
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    for command in ["provision", "run"] {
        let out = tokio::task::block_in_place(|| {
            std::process::Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
                .args([command, "--config", "c.toml"])
                .current_dir(dir.path())
                .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        });
        assert!(
            out.status.success(),
            "{command}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        !dir.path().join("dead").exists(),
        "every generated number fits these columns"
    );

    let client = KustoClient::new(ClientOptions {
        engine: url::Url::parse(k.url()).unwrap(),
        ingest: None,
        credential: None,
        scope: None,
        app: "iotc-adx-test".into(),
        timeout: std::time::Duration::from_secs(10),
        http: Some(reqwest::Client::builder().no_proxy().build().unwrap()),
    })
    .unwrap();
    let data = client
        .query("iot", "Exact | project Device, R, D, S, Dyn, L")
        .await
        .unwrap();
    let table = data.primary().unwrap();
    assert_eq!(table.rows.len(), count, "every row, once");
    for row in &table.rows {
        let i: usize = row[0].as_str().unwrap()[1..].parse().unwrap();
        let (s, long) = &sent[i];
        let text = |v: &Value| digits(&serde_json::to_string(v).unwrap());
        let expected_real = expected_cell("real", s).unwrap();
        assert!(
            same_cell("real", &text(&row[1]), &digits(&expected_real)),
            "real: sent {}, table has {}",
            s.text,
            row[1]
        );
        assert_eq!(text(&row[2]), digits(&format!("\"{}\"", s.text)), "decimal");
        assert_eq!(text(&row[3]), digits(&format!("\"{}\"", s.text)), "string");
        assert_eq!(
            text(&row[4]),
            digits(&format!("{{\"v\":{}}}", s.text)),
            "dynamic"
        );
        assert_eq!(row[5].as_i64(), Some(*long), "long");
    }
}
