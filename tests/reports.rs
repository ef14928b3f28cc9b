//! Reports against the stand-ins: the Data Explorer emulator answers the queries, the testkit's
//! webhook receiver records what was delivered. Alerts fire once and resolve, conditions skip,
//! per-row deliveries, exports in pages and by `.set-or-append`, the window as query
//! parameters, limits (rows, time) and retries (Kusto 429, webhook 429 with Retry-After), the
//! missed-run policy and the history.

use chrono::{Duration as Age, Utc};
use iotc_adx::report::{History, RunStatus, Scheduler, Trigger};
use iotc_adx_testkit::kusto::{Fault, FaultKind, RouteClass};
use iotc_adx_testkit::webhook::{Reply, WebhookReceiver};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod report_support;
use report_support::{add, emulator, runner_for};

const SILENT: &str =
    "T | summarize LastSeen = max(ts) by dev | where LastSeen < ago(15m) | order by dev asc";

#[tokio::test]
async fn a_silent_device_alert_fires_once_and_resolves() {
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    let now = Utc::now();
    add(&k, &[("d1", now - Age::minutes(20), 1), ("d2", now, 2)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        &format!(
            "[[report]]\nname = \"silent\"\nquery = \"{SILENT}\"\nevery = \"5m\"\nfor_each_row = true\nalert.key = [\"dev\"]\n[[report.webhook]]\nurl = \"{}/alerts\"\n",
            hook.url()
        ),
    );
    let report = &settings.reports[0];
    let first = runner.run(report, now, Trigger::Schedule).await;
    assert_eq!(
        first.record.status,
        RunStatus::Succeeded,
        "{:?}",
        first.record
    );
    assert_eq!(first.record.delivered, 1);
    let got = hook.received();
    assert_eq!(got.len(), 1);
    let body = got[0].json.clone().unwrap();
    assert_eq!(body["kind"], "firing");
    assert_eq!(body["alert_key"], "d1");
    assert_eq!(body["report"], "silent");
    assert_eq!(body["rows"][0]["dev"], "d1");
    assert_eq!(body["title"], "[FIRING] silent: d1");

    // Still silent: nothing is sent again.
    let second = runner.run(report, now, Trigger::Schedule).await;
    assert_eq!(second.record.status, RunStatus::Succeeded);
    assert_eq!(second.record.delivered, 0);
    assert_eq!(hook.received().len(), 1);

    // d1 talks again: one resolved message.
    add(&k, &[("d1", Utc::now(), 3)]);
    let third = runner.run(report, now, Trigger::Schedule).await;
    assert_eq!(third.record.delivered, 1);
    let got = hook.received();
    assert_eq!(got.len(), 2);
    let body = got[1].json.clone().unwrap();
    assert_eq!(body["kind"], "resolved");
    assert_eq!(body["alert_key"], "d1");

    // Every run is in the history, newest first, and survives reopening the file.
    drop(runner);
    let history = History::open(&settings.history.path).unwrap();
    let runs = history.runs(Some("silent"), 10).unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].delivered, 1);
    assert_eq!(runs[1].delivered, 0);
    assert!(history.firing("silent").unwrap().is_empty());
}

#[tokio::test]
async fn conditions_skip_and_rows_are_delivered_one_by_one() {
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    let now = Utc::now();
    add(&k, &[("d1", now, 50), ("d2", now, 90), ("d3", now, 95)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        &format!(
            r#"
[[report]]
name = "hot"
query = "T | where n > 80 | order by dev asc"
when.expression = "rows[?n > `100`]"
[[report.webhook]]
url = "{0}/hot"

[[report]]
name = "each"
query = "T | where n > 80 | order by dev asc"
when.rows = ">= 2"
for_each_row = true
[[report.webhook]]
url = "{0}/each"
"#,
            hook.url()
        ),
    );
    let hot = runner.run(&settings.reports[0], now, Trigger::Demand).await;
    assert_eq!(hot.record.status, RunStatus::Skipped);
    assert_eq!(hot.record.rows, Some(2));
    assert!(hook.received().is_empty());

    let each = runner.run(&settings.reports[1], now, Trigger::Demand).await;
    assert_eq!(each.record.status, RunStatus::Succeeded);
    assert_eq!(each.record.delivered, 2);
    let got = hook.received();
    let devs: Vec<Value> = got
        .iter()
        .map(|r| r.json.clone().unwrap()["rows"][0]["dev"].clone())
        .collect();
    assert_eq!(devs, vec![json!("d2"), json!("d3")]);
    assert!(got
        .iter()
        .all(|r| r.json.as_ref().unwrap()["kind"] == "row"));
}

#[tokio::test]
async fn teams_and_slack_get_their_formats_and_retry_after_is_honoured() {
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    hook.script("/teams", vec![Reply::throttle(1)]);
    let now = Utc::now();
    add(&k, &[("d1", now, 1), ("d2", now, 2)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        &format!(
            "[[report]]\nname = \"r\"\ndescription = \"two devices\"\nquery = \"T | order by dev asc\"\n[[report.webhook]]\nformat = \"teams\"\nurl = \"{0}/teams\"\n[[report.webhook]]\nformat = \"slack\"\nurl = \"{0}/slack\"\n",
            hook.url()
        ),
    );
    let started = Instant::now();
    let out = runner.run(&settings.reports[0], now, Trigger::Demand).await;
    assert_eq!(out.record.status, RunStatus::Succeeded, "{:?}", out.record);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    let got = hook.received();
    let teams: Vec<_> = got.iter().filter(|r| r.path == "/teams").collect();
    assert_eq!(teams.len(), 2, "one throttled, one accepted");
    let card = teams[1].json.clone().unwrap();
    assert_eq!(card["type"], "message");
    let content = &card["attachments"][0]["content"];
    assert_eq!(
        card["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(content["type"], "AdaptiveCard");
    let table = content["body"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "Table")
        .unwrap();
    assert_eq!(
        table["rows"].as_array().unwrap().len(),
        3,
        "header and two rows"
    );
    let slack = got.iter().find(|r| r.path == "/slack").unwrap();
    let slack = slack.json.clone().unwrap();
    assert_eq!(slack["text"], "r: 2 rows");
    let blocks = slack["blocks"].to_string();
    assert!(blocks.contains("d1") && blocks.contains("d2"), "{blocks}");
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_fails_the_run_at_the_deliver_step() {
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    hook.script("/down", vec![Reply::status(500), Reply::status(503)]);
    add(&k, &[("d1", Utc::now(), 1)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        &format!(
            "[[report]]\nname = \"r\"\nquery = \"T\"\n[[report.webhook]]\nurl = \"{}/down?key=SECRET\"\nattempts = 2\n",
            hook.url()
        ),
    );
    let out = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(out.record.status, RunStatus::Failed);
    assert_eq!(out.record.step.as_deref(), Some("deliver"));
    let error = out.record.error.unwrap();
    assert!(
        error.contains("503") && error.contains("2 attempt"),
        "{error}"
    );
    assert!(
        !error.contains("SECRET") && !error.contains("/down"),
        "{error}"
    );
}

#[tokio::test]
async fn exports_post_pages_not_rows() {
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    let now = Utc::now();
    add(&k, &(1..=5).map(|i| ("d", now, i)).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        &format!(
            "[[report]]\nname = \"push\"\nquery = \"T | order by n asc\"\n[[report.export]]\nurl = \"{}/rows\"\npage_rows = 2\n",
            hook.url()
        ),
    );
    let out = runner.run(&settings.reports[0], now, Trigger::Demand).await;
    assert_eq!(out.record.status, RunStatus::Succeeded, "{:?}", out.record);
    let pages: Vec<Value> = hook
        .received()
        .into_iter()
        .map(|r| r.json.unwrap()["rows"].clone())
        .collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].as_array().unwrap().len(), 2);
    assert_eq!(pages[2][0]["n"], 5);
}

#[tokio::test]
async fn limits_say_which_key_to_raise_and_transient_failures_are_retried() {
    let k = emulator().await;
    add(&k, &[("d1", Utc::now(), 1), ("d2", Utc::now(), 2)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        "[[report]]\nname = \"small\"\nquery = \"T\"\nmax_rows = 1\n[[report]]\nname = \"quick\"\nquery = \"T\"\ntimeout = \"1s\"\n",
    );
    let small = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(small.record.status, RunStatus::Truncated);
    assert!(small
        .record
        .error
        .as_deref()
        .unwrap()
        .contains("max_rows = 1"));

    k.inject(Fault {
        class: RouteClass::Query,
        kind: FaultKind::Delay(Duration::from_secs(3)),
        count: 1,
    });
    let quick = runner
        .run(&settings.reports[1], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(
        quick.record.status,
        RunStatus::TimedOut,
        "{:?}",
        quick.record
    );
    assert!(quick.record.error.as_deref().unwrap().contains("timeout"));
    assert!(
        quick.record.duration_ms < 2500,
        "{}",
        quick.record.duration_ms
    );

    k.inject(Fault {
        class: RouteClass::Query,
        kind: FaultKind::Throttle {
            retry_after_secs: 1,
        },
        count: 1,
    });
    let retried = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(
        retried.record.status,
        RunStatus::Truncated,
        "the retry ran the query"
    );
    assert!(retried.record.duration_ms >= 1000);
}

#[tokio::test]
async fn a_partial_failure_inside_a_200_answer_fails_the_run() {
    let k = emulator().await;
    add(
        &k,
        &(0..50)
            .map(|i| ("device", Utc::now(), i))
            .collect::<Vec<_>>(),
    );
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        "[[report]]\nname = \"big\"\nquery = \"T\"\nmax_bytes = 200\n",
    );
    let out = runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    // The emulator answered 200 with some rows and a LimitsExceeded error row.
    assert_eq!(out.record.status, RunStatus::Truncated, "{:?}", out.record);
    let error = out.record.error.unwrap();
    assert!(error.contains("max_bytes = 200"), "{error}");
    assert_eq!(
        out.record.rows, None,
        "no result is used from a failed answer"
    );
}

#[tokio::test]
async fn a_run_missed_while_down_runs_once_at_start() {
    let k = emulator().await;
    add(&k, &[("d1", Utc::now(), 1)]);
    for (policy, expected) in [("run_once", 1), ("skip", 0)] {
        let dir = tempfile::tempdir().unwrap();
        let (runner, settings) = runner_for(
            &k,
            dir.path(),
            &format!("missed = \"{policy}\"\n[[report]]\nname = \"hourly\"\nquery = \"T\"\nevery = \"1h\"\n"),
        );
        let settings = iotc_adx::report::ReportsSettings {
            missed: if policy == "skip" {
                iotc_adx::report::settings::MissedRuns::Skip
            } else {
                iotc_adx::report::settings::MissedRuns::RunOnce
            },
            ..settings
        };
        let report = &settings.reports[0];
        // The last run was three hours ago: two scheduled times were missed.
        let long_ago = report
            .schedule
            .as_ref()
            .unwrap()
            .latest_at_or_before(Utc::now() - Age::hours(3))
            .unwrap();
        runner.run(report, long_ago, Trigger::Schedule).await;
        let runner = Arc::new(runner);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let scheduler = Scheduler::new(
            runner.clone(),
            settings.reports.clone(),
            settings.missed,
            None,
        );
        let task = tokio::spawn(scheduler.run(stopped));
        tokio::time::sleep(Duration::from_millis(700)).await;
        stop.send(true).unwrap();
        task.await.unwrap();
        let runs = runner.history().runs(Some("hourly"), 10).unwrap();
        let missed: Vec<_> = runs
            .iter()
            .filter(|r| r.trigger == Trigger::Missed)
            .collect();
        assert_eq!(missed.len(), expected, "{policy}: {runs:?}");
        if let Some(m) = missed.first() {
            let latest = report
                .schedule
                .as_ref()
                .unwrap()
                .latest_at_or_before(Utc::now())
                .unwrap();
            assert_eq!(m.scheduled, latest, "only the latest missed time runs");
        }
    }
}

#[tokio::test]
async fn runs_are_also_streamed_into_a_history_table() {
    let k = emulator().await;
    add(&k, &[("d1", Utc::now(), 1)]);
    let dir = tempfile::tempdir().unwrap();
    let (runner, settings) = runner_for(
        &k,
        dir.path(),
        "history.table = \"ReportRuns\"\n[[report]]\nname = \"r\"\nquery = \"T\"\n[[report]]\nname = \"bad\"\nquery = \"Nope | count\"\n",
    );
    runner
        .run(&settings.reports[0], Utc::now(), Trigger::Demand)
        .await;
    let bad = runner
        .run(&settings.reports[1], Utc::now(), Trigger::Demand)
        .await;
    assert_eq!(bad.record.status, RunStatus::Failed);
    assert_eq!(bad.record.step.as_deref(), Some("query"));
    let rows = k.rows("iot", "ReportRuns");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let text = serde_json::to_string(&rows).unwrap();
    assert!(
        text.contains("\"succeeded\"") && text.contains("\"failed\""),
        "{text}"
    );
    assert!(
        text.contains("\"query\"") && text.contains("Nope"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_run_each_scheduled_time_once() {
    let azurite = tokio::task::spawn_blocking(iotc_adx_testkit::azurite::Azurite::start)
        .await
        .unwrap()
        .expect("azurite");
    let sas = azurite.account_sas(Utc::now() + Age::hours(1));
    let container = format!("{}/checkpoints?{sas}", azurite.blob_endpoint());
    let k = emulator().await;
    let hook = WebhookReceiver::start().await.unwrap();
    let report = format!(
        "lease.container = \"{container}\"\n[[report]]\nname = \"tick\"\nquery = \"print n = 1\"\nevery = \"1s\"\n[[report.webhook]]\nurl = \"{}/tick\"\n",
        hook.url()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut replicas = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let (runner, settings) = runner_for(&k, dir.path(), &report);
        // Without the gate both replicas run every time (this test then fails).
        let gate = iotc_adx::report::lease::gate(&settings, None).unwrap();
        assert!(gate.is_some());
        let runner = Arc::new(runner);
        let scheduler = Scheduler::new(
            runner.clone(),
            settings.reports.clone(),
            settings.missed,
            gate,
        );
        replicas.push((runner, tokio::spawn(scheduler.run(stopped.clone()))));
        dirs.push(dir);
    }
    tokio::time::sleep(Duration::from_millis(4500)).await;
    stop.send(true).unwrap();
    let mut runs = 0;
    for (runner, task) in replicas {
        task.await.unwrap();
        runs += runner.history().runs(Some("tick"), 100).unwrap().len();
    }
    let ends: Vec<String> = hook
        .received()
        .into_iter()
        .map(|r| {
            r.json.unwrap()["window"]["end"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ends.iter().collect();
    assert!(ends.len() >= 3, "{ends:?}");
    assert_eq!(
        distinct.len(),
        ends.len(),
        "a scheduled time ran twice: {ends:?}"
    );
    assert_eq!(runs, ends.len(), "each run is in one replica's history");
}
