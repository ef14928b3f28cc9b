//! What operations see of a running pipeline: `/metrics` with the counts of what went through,
//! `/healthz` and `/readyz`, and `iotc-adx healthcheck` for container images.
#![cfg(unix)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::running::{http_get, Running};

/// The value of the sample `name{labels}` in Prometheus text, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn healthcheck(url: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
        .args(["healthcheck", "--url", url])
        .output()
        .expect("the binary runs")
        .status
        .success()
}

#[test]
fn a_running_pipeline_serves_metrics_and_health() {
    let out = tempfile::tempdir().unwrap();
    let mut run = Running::stdin_example(out.path(), &[]);
    let address = run.endpoint();
    assert_eq!(http_get(&address, "/healthz").0, 200);
    let telemetry =
        std::fs::read(support::repo().join("transforms/smartvitalspatch/sample.jsonl")).unwrap();
    run.feed(&telemetry);
    run.feed(b"not json\n");

    // The batch closes by age (1 s) and the file sink accepts it.
    let started = Instant::now();
    let text = loop {
        let (status, text) = http_get(&address, "/metrics");
        assert_eq!(status, 200);
        if sample(
            &text,
            "iotc_adx_rows_ingested_total{destination=\"telemetry\"}",
        ) == Some(9.0)
        {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "rows never counted as ingested:\n{text}\n{}",
            run.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    };
    expect("iotc_adx_events_received_total{partition=\"file\"}", 4.0);
    expect(
        "iotc_adx_messages_routed_total{destination=\"telemetry\"}",
        3.0,
    );
    expect(
        "iotc_adx_rows_produced_total{destination=\"telemetry\"}",
        9.0,
    );
    expect(
        "iotc_adx_dead_letters_total{reason=\"invalid_json\",stage=\"decode\"}",
        1.0,
    );
    expect("iotc_adx_batch_rows_count{destination=\"telemetry\"}", 1.0);
    expect(
        "iotc_adx_end_to_end_latency_seconds_count{destination=\"telemetry\"}",
        1.0,
    );
    assert!(text.contains("iotc_adx_build_info{version=\""), "{text}");

    let (status, body) = http_get(&address, "/readyz");
    assert_eq!(status, 200, "{body}");
    let readiness: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(readiness["ready"], true);
    assert_eq!(readiness["checks"]["source"], "ok");
    let url = format!("http://{address}/readyz");
    assert!(healthcheck(&url), "healthcheck while running");

    run.stdin = None; // end of input: the run completes
    let (status, _) = run.wait(Duration::from_secs(15));
    assert!(status.success(), "{}", run.log());
    assert!(!healthcheck(&url), "healthcheck once stopped");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let mut run = Running::stdin_example(out.path(), &[("IOTC_ADX__METRICS__LISTEN", &address)]);
    let (status, _) = run.wait(Duration::from_secs(30));
    assert!(!status.success());
    let log = run.log();
    assert!(
        log.contains(&format!("cannot listen on {address} ([metrics] listen)")),
        "{log}"
    );
}
