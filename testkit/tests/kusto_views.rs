//! Materialized views in the Data Explorer emulator, over HTTP: the deduplication view the
//! service documents (`T | summarize take_any(*) by keys`) created, shown, queried, altered and
//! dropped; and the views the service refuses, refused with the reason.

mod kusto_common;

use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use kusto_common::*;
use serde_json::json;

const VIEW: &str = ".create materialized-view with (backfill=true) DevicesUnique on table Devices \
     { Devices | summarize take_any(*) by Partition, Sequence }";

async fn emulator_with_duplicates() -> KustoEmulator {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    k.create_database("iot");
    let url = k.url().to_string();
    let (s, body) = mgmt(
        &url,
        "iot",
        ".create table Devices (Partition:string, Sequence:long, Device:string, Value:real)",
    )
    .await;
    assert_eq!(s, 200, "{body}");
    k.state()
        .databases
        .get_mut("iot")
        .unwrap()
        .tables
        .get_mut("Devices")
        .unwrap()
        .streaming = Some(true);
    // Six rows, two of them sent again (a replay after a crash).
    let rows = [
        ("0", 1, "a", 1.5),
        ("0", 2, "b", 2.5),
        ("1", 1, "c", 3.5),
        ("1", 2, "d", 4.5),
    ];
    let mut body = String::new();
    for (p, s, d, v) in rows.iter().chain(&rows[1..3]) {
        body.push_str(&format!("{p},{s},{d},{v}\n"));
    }
    let (s, answer) = ingest(
        &url,
        "iot",
        "Devices",
        "streamFormat=Csv",
        body.into_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{answer}");
    assert_eq!(k.rows("iot", "Devices").len(), 6);
    k
}

#[tokio::test]
async fn a_deduplicating_view_answers_each_row_once() {
    let k = emulator_with_duplicates().await;
    let url = k.url().to_string();
    let (s, body) = mgmt(&url, "iot", VIEW).await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = mgmt(&url, "iot", ".show materialized-view DevicesUnique").await;
    let rows = v1_rows(&body);
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0][0], "DevicesUnique");
    assert_eq!(rows[0][1], "Devices");
    assert_eq!(
        rows[0][2],
        "Devices | summarize take_any(*) by Partition, Sequence"
    );

    let (s, frames) = query(&url, "iot", "DevicesUnique | count").await;
    assert_eq!(s, 200, "{frames}");
    assert_eq!(primary_rows(&frames), vec![json!([4])]);
    let (_, frames) = query(
        &url,
        "iot",
        "DevicesUnique | where Device == 'b' | project Value",
    )
    .await;
    assert_eq!(primary_rows(&frames), vec![json!([2.5])]);
    assert_eq!(k.view("iot", "DevicesUnique").unwrap().rows.len(), 4);
    assert_eq!(
        k.rows("iot", "Devices").len(),
        6,
        "the table keeps every row"
    );

    // ifnotexists leaves it; a plain create again fails; create-or-alter replaces the query.
    let (s, _) = mgmt(
        &url,
        "iot",
        &VIEW.replace(".create ", ".create ifnotexists "),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = mgmt(&url, "iot", VIEW).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("already exists"), "{body}");
    let by_device = ".create-or-alter materialized-view DevicesUnique on table Devices \
                     { Devices | summarize take_any(*) by Device }";
    let (s, body) = mgmt(&url, "iot", by_device).await;
    assert_eq!(s, 200, "{body}");
    let (_, frames) = query(&url, "iot", "DevicesUnique | count").await;
    assert_eq!(primary_rows(&frames), vec![json!([4])]);

    let (s, _) = mgmt(&url, "iot", ".drop materialized-view DevicesUnique").await;
    assert_eq!(s, 200);
    let (s, _) = query(&url, "iot", "DevicesUnique | count").await;
    assert_eq!(s, 400, "a dropped view is gone");
    let (s, _) = mgmt(
        &url,
        "iot",
        ".drop materialized-view DevicesUnique ifexists",
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn views_the_service_refuses_are_refused_with_the_reason() {
    let k = emulator_with_duplicates().await;
    let url = k.url().to_string();
    let cases = [
        (
            ".create materialized-view V on table Missing { Missing | summarize take_any(*) by A }",
            "'Missing' was not found",
        ),
        (
            ".create materialized-view V on table Devices { Devices | where Value > 1 }",
            "summarize",
        ),
        (
            ".create materialized-view V on table Devices { Devices | summarize take_any(*) by Nope }",
            "Nope",
        ),
        (
            ".create materialized-view Devices on table Devices { Devices | summarize take_any(*) by Device }",
            "a table named 'Devices'",
        ),
        (".create materialized-view V on table Devices", "'{'"),
    ];
    for (command, reason) in cases {
        let (s, body) = mgmt(&url, "iot", command).await;
        assert_eq!(s, 400, "{command}: {body}");
        assert!(body.to_string().contains(reason), "{command}: {body}");
    }
    let (_, body) = mgmt(&url, "iot", ".show materialized-views").await;
    assert!(v1_rows(&body).is_empty(), "nothing was created: {body}");
    let (s, body) = mgmt(&url, "iot", ".show materialized-view Nope").await;
    assert_eq!(s, 400);
    assert!(body.to_string().contains("'Nope' was not found"), "{body}");
}
