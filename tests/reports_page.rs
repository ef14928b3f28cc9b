//! The reports page in a real browser: headless Chromium (Debian's package, driven by
//! playwright-core; both installed by `testkit/scripts/ensure-browser.sh`) opens `/reports`
//! served by `iotc-adx run`. The page loads without console errors or failed requests, has no
//! scripts, shows each report with its runs (a failed one with its error) and its latest output,
//! and every chart image renders. The screenshot is kept in `target/test-artifacts/`.
#![cfg(unix)]

mod support;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use serde_json::Value;
use std::process::Command;
use support::cli::{cli, text};
use support::running::Running;

const CONFIG: &str = r#"
[auth]
type = "none"
[log]
format = "json"
[reports]
cluster = "CLUSTER"
database = "iot"
time_zone = "Europe/Berlin"
history.path = "reports.db"

[[report]]
name = "per-hour"
description = "Readings per device and hour"
query = "range h from datetime(2026-12-03 06:00) to datetime(2026-12-03 11:00) step 1h | extend dev = 'd1', n = 10 | union (range h from datetime(2026-12-03 06:00) to datetime(2026-12-03 11:00) step 1h | extend dev = 'd2', n = 4) | project h, dev, n | render timechart"

[[report]]
name = "by-site"
query = "datatable(Site:string, Devices:long)['north', 12, 'south', 7, 'east', 3] | render piechart"

[[report]]
name = "table"
query = "datatable(Device:string, LastSeen:datetime, Battery:real)['d1', datetime(2026-12-03 10:00), 81.5, 'd<2>', datetime(2026-12-03 09:30), 12.25]"

[[report]]
name = "broken"
query = "NoSuchTable | count"
"#;

/// Chromium's path and the playwright-core module folder.
fn browser() -> (String, String) {
    let script = support::repo().join("testkit/scripts/ensure-browser.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let chromium = lines.next().expect("chromium's path").to_string();
    let modules = lines.next().expect("the node_modules folder").to_string();
    (chromium, format!("{modules}/playwright-core"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reports_page_works_in_a_browser() {
    let (chromium, playwright) = tokio::task::spawn_blocking(browser).await.unwrap();
    let k = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("reports.toml");
    std::fs::write(&config, CONFIG.replace("CLUSTER", k.url())).unwrap();
    let path = config.display().to_string();
    for name in ["per-hour", "by-site", "table", "broken"] {
        let run = cli(&["report", "run", "--config", &path, name], &[]).await;
        assert_eq!(
            run.status.success(),
            name != "broken",
            "{name}: {}",
            text(&run)
        );
    }
    let mut service = Running::start(&["run", "--config", &path], &[]);
    let url = format!("http://{}/reports", service.endpoint());

    let artifacts = support::repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("reports-page.png");
    let _ = std::fs::remove_file(&shot);
    let script = support::repo().join("tests/browser/reports_page.cjs");
    let shot_arg = shot.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(&url)
            .arg(&shot_arg)
            .env("CHROMIUM", chromium)
            .env("PLAYWRIGHT", playwright)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        service.log()
    );
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(page["status"], 200);
    assert_eq!(page["title"], "iotc-adx reports");
    assert_eq!(page["consoleErrors"], serde_json::json!([]), "{page}");
    assert_eq!(page["failedRequests"], serde_json::json!([]), "{page}");
    assert_eq!(page["scripts"], 0);
    let images = page["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "the time chart and the pie: {page}");
    for i in images {
        assert_eq!(i["rendered"], true, "{i}");
        assert_eq!(
            (i["width"].as_u64(), i["height"].as_u64()),
            (Some(800), Some(450)),
            "{i}"
        );
    }
    let sections = page["sections"].as_array().unwrap();
    let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["per-hour", "by-site", "table", "broken"]);
    assert_eq!(sections[0]["statuses"], serde_json::json!(["succeeded"]));
    assert_eq!(
        sections[2]["tables"], 2,
        "the runs and the latest output as a table"
    );
    assert_eq!(sections[3]["statuses"], serde_json::json!(["failed"]));
    let error = sections[3]["errors"][0].as_str().unwrap();
    assert!(
        error.starts_with("query: ") && error.contains("NoSuchTable"),
        "{error}"
    );
    let png = std::fs::read(&shot).expect("the screenshot is kept");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // Escaped, in the report's time zone.
    let address = service.endpoint();
    let (_, html) = tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args([
                "-s",
                "-H",
                "Accept: text/html",
                &format!("http://{address}/reports"),
            ])
            .output()
            .unwrap();
        (out.status, String::from_utf8(out.stdout).unwrap())
    })
    .await
    .unwrap();
    assert!(
        html.contains("d&lt;2&gt;") && !html.contains("d<2>"),
        "{html}"
    );
    assert!(
        html.contains(">2026-12-03 11:00<"),
        "10:00 UTC in Berlin: {html}"
    );
    service.terminate();
    let _ =
        tokio::task::spawn_blocking(move || service.wait(std::time::Duration::from_secs(20))).await;
}
