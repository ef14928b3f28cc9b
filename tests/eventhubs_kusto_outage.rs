//! Data Explorer down while events keep coming, end to end through the binary: the Event
//! Hubs checkpoints hold at the last event whose rows were accepted (nothing past it is
//! marked done), a stop during the outage exits with code 3 and says batches were left
//! unconfirmed, and once the cluster is back a restart delivers everything from the
//! checkpoints, after which they move to the last event.

mod support;

use iotc_adx_testkit::kusto::{Fault, FaultKind, RouteClass};
use std::collections::{BTreeMap, BTreeSet};
use support::eventhubs::{wait_until, Process, StandIns};

const HUB: &str = "export";

fn send(s: &StandIns, wave: &str) {
    for p in 0..2 {
        for i in 0..10 {
            let body = format!(
                r#"{{"messageSource":"telemetry","deviceId":"{wave}-p{p}-{i}","telemetry":{{}}}}"#
            );
            s.hub.append(HUB, &p.to_string(), body.as_bytes()).unwrap();
        }
    }
}

fn devices(s: &StandIns) -> BTreeSet<String> {
    s.rows()
        .iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Checkpointed sequence number per partition.
async fn checkpoints(s: &StandIns) -> BTreeMap<String, i64> {
    s.blobs()
        .await
        .into_iter()
        .filter_map(|(name, m)| {
            let (_, partition) = name.rsplit_once("/checkpoint/")?;
            Some((
                partition.to_string(),
                m.get("sequencenumber")?.parse().ok()?,
            ))
        })
        .collect()
}

async fn wait_checkpoints(s: &StandIns, want: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let c = checkpoints(s).await;
        if c.len() == 2 && c.values().all(|v| *v == want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "checkpoints never reached {want}: {c:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_hold_while_data_explorer_is_down_and_move_once_it_is_back() {
    let s = StandIns::start(HUB, 2, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = s.config(dir.path(), HUB, "", "{Device: deviceId}", "Device:string");
    // A short grace period so that a stop during the outage does not wait 25 s.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[sink]\n", "[sink]\nshutdown_grace_ms = 1000\n");
    std::fs::write(&config, text).unwrap();

    send(&s, "before");
    let mut first = Process::iotc_adx(&config);
    wait_until(
        "the first 20 rows",
        60,
        || devices(&s).len() == 20,
        || first.output(),
    )
    .await;
    wait_checkpoints(&s, 9).await;

    // The cluster answers every ingestion with 503 from now on.
    s.kusto.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Status(503),
        count: usize::MAX,
    });
    let failed = || {
        s.kusto
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/v1/rest/ingest") && r.status == 503)
            .count()
    };
    send(&s, "during");
    wait_until(
        "three refused deliveries",
        60,
        || failed() >= 3,
        || first.output(),
    )
    .await;
    assert_eq!(devices(&s).len(), 20, "nothing new could be ingested");
    assert_eq!(
        checkpoints(&s).await,
        BTreeMap::from([("0".to_string(), 9), ("1".to_string(), 9)]),
        "the checkpoints hold at the last accepted event"
    );

    // A stop now leaves the batches unconfirmed: exit code 3, and it says why.
    let status = first.stop(true, 30);
    assert_eq!(status.code(), Some(3), "{}", first.output());
    assert!(
        first.output().contains("batches unconfirmed by the sink"),
        "{}",
        first.output()
    );
    assert_eq!(
        checkpoints(&s).await.values().copied().collect::<Vec<_>>(),
        [9, 9]
    );

    // Back up: a restart reads from the checkpoints and delivers the rest; the checkpoints
    // move to the last event.
    s.kusto.clear_faults();
    let mut second = Process::iotc_adx(&config);
    wait_until(
        "all 40 rows",
        60,
        || devices(&s).len() == 40,
        || second.output(),
    )
    .await;
    wait_checkpoints(&s, 19).await;
    assert_eq!(second.stop(true, 30).code(), Some(0), "{}", second.output());
    assert_eq!(s.rows().len(), 40, "every event once: {:?}", devices(&s));
}
