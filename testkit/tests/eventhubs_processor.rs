//! The SDK's `EventProcessor` (in-memory checkpoint store) against the emulator: one processor
//! takes every partition; two processors share them, and when one stops the other takes over.

use iotc_adx_testkit::eventhubs as eh;

use azure_messaging_eventhubs::models::StartPositions;
use azure_messaging_eventhubs::{
    ConsumerClient, EventProcessor, InMemoryCheckpointStore, StartLocation, StartPosition,
};
use futures::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY_NAME: &str = "listen";
const KEY: &str = "cHJvY2Vzc29yLWtleQ==";

async fn start(partitions: u32) -> eh::EventHubsEmulator {
    let o = eh::EmulatorOptions::new("procns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", partitions))
        .with_sas_key(KEY_NAME, KEY);
    eh::EventHubsEmulator::start(o).await.unwrap()
}

async fn processor(
    e: &eh::EventHubsEmulator,
    store: Arc<InMemoryCheckpointStore>,
) -> Arc<EventProcessor> {
    let c = ConsumerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string(KEY_NAME, "hub").unwrap(), None)
        .await
        .unwrap();
    EventProcessor::builder()
        .with_start_positions(StartPositions {
            default: StartPosition {
                location: StartLocation::Earliest,
                inclusive: false,
            },
            ..Default::default()
        })
        .with_update_interval(azure_core::time::Duration::milliseconds(500))
        .with_partition_expiration_duration(azure_core::time::Duration::milliseconds(2000))
        .build(c, store)
        .await
        .unwrap()
}

/// Runs `p`, taking every partition client it hands out and recording (partition, body).
/// Each (partition, body) received, with how many times.
type Seen = Arc<Mutex<HashMap<(String, Vec<u8>), usize>>>;

fn drive(p: Arc<EventProcessor>, seen: Seen, owned: Arc<Mutex<BTreeSet<String>>>) {
    let runner = p.clone();
    tokio::spawn(async move {
        let _ = runner.run().await;
    });
    tokio::task::spawn_local(async move {
        while let Ok(pc) = p.next_partition_client().await {
            let seen = seen.clone();
            let owned = owned.clone();
            tokio::task::spawn_local(async move {
                let pid = pc.get_partition_id().to_string();
                owned.lock().unwrap().insert(pid.clone());
                let s = pc.stream_events();
                futures::pin_mut!(s);
                while let Some(Ok(ev)) = s.next().await {
                    *seen
                        .lock()
                        .unwrap()
                        .entry((
                            pid.clone(),
                            ev.event_data().body().unwrap_or_default().to_vec(),
                        ))
                        .or_default() += 1;
                    let _ = pc.update_checkpoint(&ev).await;
                }
                owned.lock().unwrap().remove(&pid);
            });
        }
    });
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn one_processor_reads_every_partition() {
    tokio::task::LocalSet::new()
        .run_until(one_processor())
        .await
}

async fn one_processor() {
    let e = start(3).await;
    for p in 0..3 {
        for i in 0..2 {
            e.append("hub", &p.to_string(), format!("p{p}-{i}").as_bytes())
                .unwrap();
        }
    }
    let store = Arc::new(InMemoryCheckpointStore::new());
    let p = processor(&e, store).await;
    let seen = Arc::new(Mutex::new(HashMap::new()));
    drive(
        p.clone(),
        seen.clone(),
        Arc::new(Mutex::new(BTreeSet::new())),
    );
    wait_for("all six events", || seen.lock().unwrap().len() == 6).await;
    let _ = p.shutdown().await;
}

#[tokio::test]
async fn two_processors_share_and_one_takes_over() {
    tokio::task::LocalSet::new()
        .run_until(two_processors())
        .await
}

async fn two_processors() {
    let e = start(4).await;
    let store = Arc::new(InMemoryCheckpointStore::new());
    let (seen_a, owned_a) = (
        Arc::new(Mutex::new(HashMap::new())),
        Arc::new(Mutex::new(BTreeSet::new())),
    );
    let (seen_b, owned_b) = (
        Arc::new(Mutex::new(HashMap::new())),
        Arc::new(Mutex::new(BTreeSet::new())),
    );
    let a = processor(&e, store.clone()).await;
    drive(a.clone(), seen_a.clone(), owned_a.clone());
    wait_for("A owns all four", || owned_a.lock().unwrap().len() == 4).await;
    let b = processor(&e, store.clone()).await;
    drive(b.clone(), seen_b.clone(), owned_b.clone());
    // Balanced (two each) before the shared events are sent: while a partition is moving, an
    // event can reach both (at-least-once), which is not what this part checks.
    wait_for("A and B own two partitions each", || {
        owned_a.lock().unwrap().len() == 2 && owned_b.lock().unwrap().len() == 2
    })
    .await;
    for p in 0..4 {
        e.append("hub", &p.to_string(), format!("shared-{p}").as_bytes())
            .unwrap();
    }
    // Each shared event received exactly once, by one of the two.
    let shared = |seen: &Seen| -> Vec<(Vec<u8>, usize)> {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|((_, body), _)| body.starts_with(b"shared-"))
            .map(|((_, body), n)| (body.clone(), *n))
            .collect()
    };
    wait_for("every shared event received", || {
        shared(&seen_a).len() + shared(&seen_b).len() >= 4
    })
    .await;
    let mut all: Vec<(Vec<u8>, usize)> = shared(&seen_a);
    all.extend(shared(&seen_b));
    all.sort();
    let expected: Vec<(Vec<u8>, usize)> = (0..4)
        .map(|p| (format!("shared-{p}").into_bytes(), 1))
        .collect();
    assert_eq!(all, expected, "each shared event once, by one processor");
    a.shutdown().await.unwrap();
    wait_for("B owns all four after A stops", || {
        owned_b.lock().unwrap().len() == 4
    })
    .await;
    for p in 0..4 {
        e.append("hub", &p.to_string(), format!("after-{p}").as_bytes())
            .unwrap();
    }
    wait_for("B sees the later events", || {
        seen_b
            .lock()
            .unwrap()
            .iter()
            .filter(|((_, b), n)| b.starts_with(b"after-") && **n == 1)
            .count()
            == 4
    })
    .await;
    let _ = b.shutdown().await;
}
