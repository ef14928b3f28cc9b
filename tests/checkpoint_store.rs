//! The blob checkpoint store against Azurite: ownership claims with ETags (new, renewed,
//! stale, raced), checkpoints round-tripping, the official blob layout, a second store
//! instance seeing the first's state; and the official `EventProcessor` (eventhubs 0.16) running
//! two instances on one container against the Event Hubs emulator.

use azure_messaging_eventhubs::models::{Checkpoint, Ownership, StartPositions};
use azure_messaging_eventhubs::{
    CheckpointStore, ConsumerClient, EventProcessor, ProducerClient, SendEventOptions,
    StartLocation, StartPosition,
};
use futures::StreamExt;
use iotc_adx::source::eventhubs::checkpoint_store::{
    BlobCheckpointStore, CheckpointStoreError, ContainerAuth,
};
use iotc_adx_storage::StorageError;
use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs as eh;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NS: &str = "MyNs.servicebus.windows.net";
const HUB: &str = "Telemetry";
const CG: &str = "$Default";

fn sas(azurite: &Azurite) -> String {
    azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(1))
}

fn container_url(azurite: &Azurite, container: &str) -> url::Url {
    url::Url::parse(&format!(
        "{}/{container}?{}",
        azurite.blob_endpoint(),
        sas(azurite)
    ))
    .unwrap()
}

async fn store(azurite: &Azurite, container: &str) -> BlobCheckpointStore {
    let s = BlobCheckpointStore::new(container_url(azurite, container), ContainerAuth::Sas, None)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), s.ensure_container())
        .await
        .expect("in time")
        .expect("container");
    s
}

fn ownership(partition: &str, owner: &str) -> Ownership {
    Ownership {
        fully_qualified_namespace: NS.into(),
        event_hub_name: HUB.into(),
        consumer_group: CG.into(),
        partition_id: partition.into(),
        owner_id: Some(owner.into()),
        ..Default::default()
    }
}

/// Blob names and metadata in the container, read with plain REST (not through the store).
async fn raw_listing(azurite: &Azurite, container: &str) -> String {
    let url = format!(
        "{}/{container}?restype=container&comp=list&include=metadata&{}",
        azurite.blob_endpoint(),
        sas(azurite)
    );
    let r = reqwest::Client::new()
        .get(url)
        .header("x-ms-version", "2021-08-06")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.text().await.unwrap()
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(15), f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

#[tokio::test]
async fn ownership_claims_follow_etags() {
    let azurite = Azurite::start().expect("azurite");
    let s = store(&azurite, "owners").await;

    // A new claim creates the blob and returns its ETag and time.
    let claimed = within("claim", s.claim_ownership(&[ownership("0", "alice")]))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let first = claimed[0].clone();
    let e1 = first.etag.clone().expect("an etag");
    let t1 = first.last_modified_time.expect("a time");
    let age = azure_core::time::OffsetDateTime::now_utc() - t1;
    assert!(
        age.whole_seconds().abs() <= 5,
        "last modified {t1} is not now"
    );

    let listed = within("list", s.list_ownerships(NS, HUB, CG))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].partition_id, "0");
    assert_eq!(listed[0].owner_id.as_deref(), Some("alice"));
    assert_eq!(
        listed[0].etag.as_ref().map(|e| e.to_string()),
        Some(e1.to_string()),
        "list and claim give the same etag"
    );
    assert_eq!(listed[0].last_modified_time, Some(t1));
    assert_eq!(
        (
            listed[0].fully_qualified_namespace.as_str(),
            listed[0].event_hub_name.as_str()
        ),
        (NS, HUB)
    );

    // Claiming a partition someone holds without its etag fails quietly.
    assert!(
        within("claim taken", s.claim_ownership(&[ownership("0", "bob")]))
            .await
            .unwrap()
            .is_empty()
    );

    // Renewing with the current etag works and changes it; the old one is now stale.
    let renewed = within("renew", s.claim_ownership(std::slice::from_ref(&first)))
        .await
        .unwrap();
    assert_eq!(renewed.len(), 1);
    let e2 = renewed[0].etag.clone().unwrap();
    assert_ne!(e1.to_string(), e2.to_string());
    let mut stale = ownership("0", "bob");
    stale.etag = Some(e1.clone());
    let mut fresh = ownership("1", "bob");
    fresh.etag = None;
    let got = within("stale and fresh", s.claim_ownership(&[stale, fresh]))
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|o| o.partition_id.as_str())
            .collect::<Vec<_>>(),
        ["1"],
        "the stale claim is left out, the fresh one kept"
    );
    let owners: BTreeMap<String, Option<String>> = s
        .list_ownerships(NS, HUB, CG)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.partition_id, o.owner_id))
        .collect();
    assert_eq!(
        owners,
        BTreeMap::from([
            ("0".into(), Some("alice".into())),
            ("1".into(), Some("bob".into()))
        ])
    );

    // Stealing with the current etag (what the load balancer does for expired partitions).
    let mut steal = s
        .list_ownerships(NS, HUB, CG)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.partition_id == "0")
        .unwrap();
    steal.owner_id = Some("carol".into());
    assert_eq!(s.claim_ownership(&[steal]).await.unwrap().len(), 1);

    // The blobs follow the official layout, in lowercase, with metadata `ownerid`.
    let raw = raw_listing(&azurite, "owners").await;
    assert!(
        raw.contains("<Name>myns.servicebus.windows.net/telemetry/$default/ownership/0</Name>"),
        "{raw}"
    );
    assert!(raw.contains("<ownerid>carol</ownerid>"), "{raw}");
}

#[tokio::test]
async fn racing_owners_exactly_one_wins() {
    let azurite = Azurite::start().expect("azurite");
    let a = store(&azurite, "race").await;
    let b = BlobCheckpointStore::new(container_url(&azurite, "race"), ContainerAuth::Sas, None)
        .unwrap();

    // Both create the same new ownership blob at once.
    for round in 0..5 {
        let p = format!("new-{round}");
        let (oa, ob) = ([ownership(&p, "a")], [ownership(&p, "b")]);
        let (ra, rb) = tokio::join!(a.claim_ownership(&oa), b.claim_ownership(&ob));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            ra.len() + rb.len(),
            1,
            "round {round}: exactly one creates the blob ({ra:?} / {rb:?})"
        );
    }

    // Both take over the same listed ownership with the same etag at once.
    a.claim_ownership(&[ownership("7", "old")]).await.unwrap();
    for round in 0..5 {
        let listed = a
            .list_ownerships(NS, HUB, CG)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.partition_id == "7")
            .unwrap();
        let (mut oa, mut ob) = (listed.clone(), listed.clone());
        oa.owner_id = Some("a".into());
        ob.owner_id = Some("b".into());
        let (oa, ob) = ([oa], [ob]);
        let (ra, rb) = tokio::join!(a.claim_ownership(&oa), b.claim_ownership(&ob));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            ra.len() + rb.len(),
            1,
            "round {round}: exactly one wins the etag race"
        );
        let winner = if ra.is_empty() { "b" } else { "a" };
        let now = b
            .list_ownerships(NS, HUB, CG)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.partition_id == "7")
            .unwrap();
        assert_eq!(now.owner_id.as_deref(), Some(winner));
    }
}

#[tokio::test]
async fn checkpoints_round_trip_and_a_second_store_sees_them() {
    let azurite = Azurite::start().expect("azurite");
    let a = store(&azurite, "checkpoints").await;
    a.ensure_container()
        .await
        .expect("ensure_container is idempotent");
    a.ensure_container()
        .await
        .expect("ensure_container is idempotent");

    assert!(a.list_checkpoints(NS, HUB, CG).await.unwrap().is_empty());
    let cp = |partition: &str, sequence_number: Option<i64>, offset: Option<&str>| Checkpoint {
        fully_qualified_namespace: NS.into(),
        event_hub_name: HUB.into(),
        consumer_group: CG.into(),
        partition_id: partition.into(),
        sequence_number,
        offset: offset.map(str::to_string),
    };
    within(
        "checkpoint",
        a.update_checkpoint(cp("0", Some(41), Some("4096"))),
    )
    .await
    .unwrap();
    within(
        "checkpoint",
        a.update_checkpoint(cp("0", Some(42), Some("8192"))),
    )
    .await
    .unwrap(); // overwrite
    within("checkpoint", a.update_checkpoint(cp("3", Some(7), None)))
        .await
        .unwrap();
    // Neither position: refused, the stored one stays.
    let empty = a.update_checkpoint(cp("0", None, None)).await.unwrap_err();
    assert!(empty.to_string().contains("checkpoint/0"), "{empty}");
    a.claim_ownership(&[ownership("0", "a")]).await.unwrap();

    // Another hub or consumer group sees nothing of it.
    assert!(a
        .list_checkpoints(NS, HUB, "other")
        .await
        .unwrap()
        .is_empty());
    assert!(a
        .list_ownerships(NS, "otherhub", CG)
        .await
        .unwrap()
        .is_empty());

    // A second instance (another client, as another replica would have) sees the state.
    let b = BlobCheckpointStore::new(
        container_url(&azurite, "checkpoints"),
        ContainerAuth::Sas,
        None,
    )
    .unwrap();
    let got: Vec<(String, Option<i64>, Option<String>)> = b
        .list_checkpoints(NS, HUB, CG)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.partition_id, c.sequence_number, c.offset))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0".into(), Some(42), Some("8192".into())),
            ("3".into(), Some(7), None)
        ]
    );
    let owners = b.list_ownerships(NS, HUB, CG).await.unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].owner_id.as_deref(), Some("a"));

    let raw = raw_listing(&azurite, "checkpoints").await;
    assert!(
        raw.contains("<Name>myns.servicebus.windows.net/telemetry/$default/checkpoint/0</Name>"),
        "{raw}"
    );
    assert!(
        raw.contains("<sequencenumber>42</sequencenumber>")
            && raw.contains("<offset>8192</offset>"),
        "{raw}"
    );
}

#[tokio::test]
async fn ensure_container_creates_or_explains() {
    let azurite = Azurite::start().expect("azurite");
    let s = BlobCheckpointStore::new(container_url(&azurite, "fresh"), ContainerAuth::Sas, None)
        .unwrap();
    // Missing container: the store's calls fail with the container's URL and no SAS.
    let e = s.list_ownerships(NS, HUB, CG).await.unwrap_err();
    assert_eq!(
        e.http_status(),
        Some(azure_core::http::StatusCode::NotFound),
        "{e}"
    );
    assert!(
        e.to_string().contains("/fresh") && !e.to_string().contains("sig="),
        "{e}"
    );
    s.ensure_container().await.unwrap();
    s.ensure_container().await.unwrap();
    assert!(s.list_ownerships(NS, HUB, CG).await.unwrap().is_empty());

    // A forged SAS: a clear error naming the container, never the signature.
    let mut forged = container_url(&azurite, "other");
    let q = forged.query().unwrap().replace("sig=", "sig=AAAA");
    forged.set_query(Some(&q));
    let bad = BlobCheckpointStore::new(forged, ContainerAuth::Sas, None).unwrap();
    let e = within("forged", bad.ensure_container()).await.unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(
            e,
            CheckpointStoreError::Storage(StorageError::Status { status: 403, .. })
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/other:", azurite.blob_endpoint()))
            && !text.contains("sig=")
            && !text.contains("AAAA"),
        "{text}"
    );
}

// ---- the official event processor on the blob store ----

const KEY_NAME: &str = "listen";
const KEY: &str = "Y2hlY2twb2ludC1zdG9yZS1rZXk=";
const PARTITIONS: u32 = 4;

async fn processor(e: &eh::EventHubsEmulator, store: BlobCheckpointStore) -> Arc<EventProcessor> {
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
        .with_partition_expiration_duration(azure_core::time::Duration::seconds(10))
        .build(c, Arc::new(store))
        .await
        .unwrap()
}

type Seen = Arc<Mutex<HashSet<(String, Vec<u8>)>>>;
type Owned = Arc<Mutex<BTreeSet<String>>>;

/// Runs `p`, reading every partition client it hands out, recording (partition, body) and
/// checkpointing each event through the partition client.
fn drive(p: Arc<EventProcessor>, seen: Seen, owned: Owned, failed: Arc<Mutex<Vec<String>>>) {
    let runner = p.clone();
    let run_failed = failed.clone();
    tokio::spawn(async move {
        if let Err(e) = runner.run().await {
            run_failed
                .lock()
                .unwrap()
                .push(format!("processor stopped: {e}"));
        }
    });
    tokio::task::spawn_local(async move {
        while let Ok(pc) = p.next_partition_client().await {
            let (seen, owned, failed) = (seen.clone(), owned.clone(), failed.clone());
            tokio::task::spawn_local(async move {
                let pid = pc.get_partition_id().to_string();
                owned.lock().unwrap().insert(pid.clone());
                let s = pc.stream_events();
                futures::pin_mut!(s);
                while let Some(Ok(ev)) = s.next().await {
                    seen.lock().unwrap().insert((
                        pid.clone(),
                        ev.event_data().body().unwrap_or_default().to_vec(),
                    ));
                    if let Err(e) = pc.update_checkpoint(&ev).await {
                        failed
                            .lock()
                            .unwrap()
                            .push(format!("checkpoint on {pid}: {e}"));
                    }
                }
                owned.lock().unwrap().remove(&pid);
            });
        }
    });
}

async fn wait_for(what: &str, failed: &Arc<Mutex<Vec<String>>>, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        let errors = failed.lock().unwrap().clone();
        assert!(errors.is_empty(), "while waiting for {what}: {errors:?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_event_processors_share_a_blob_container() {
    tokio::task::LocalSet::new()
        .run_until(two_processors())
        .await
}

async fn two_processors() {
    let azurite = Azurite::start().expect("azurite");
    let options = eh::EmulatorOptions::new("procns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", PARTITIONS))
        .with_sas_key(KEY_NAME, KEY);
    let e = eh::EventHubsEmulator::start(options).await.unwrap();
    let store_a = store(&azurite, "processors").await;
    let store_b = BlobCheckpointStore::new(
        container_url(&azurite, "processors"),
        ContainerAuth::Sas,
        None,
    )
    .unwrap();

    let failed = Arc::new(Mutex::new(Vec::new()));
    let (seen_a, owned_a): (Seen, Owned) = Default::default();
    let (seen_b, owned_b): (Seen, Owned) = Default::default();
    let a = processor(&e, store_a.clone()).await;
    let b = processor(&e, store_b.clone()).await;
    drive(a.clone(), seen_a.clone(), owned_a.clone(), failed.clone());
    drive(b.clone(), seen_b.clone(), owned_b.clone(), failed.clone());

    // Between them they own every partition, each some, none both.
    wait_for(
        "the two processors to split the four partitions",
        &failed,
        || {
            let (oa, ob) = (
                owned_a.lock().unwrap().clone(),
                owned_b.lock().unwrap().clone(),
            );
            !oa.is_empty()
                && !ob.is_empty()
                && oa.is_disjoint(&ob)
                && oa.len() + ob.len() == PARTITIONS as usize
        },
    )
    .await;
    let ownerships = within(
        "list",
        store_a.list_ownerships("procns.servicebus.windows.net", "hub", "$Default"),
    )
    .await
    .unwrap();
    assert_eq!(ownerships.len(), PARTITIONS as usize, "{ownerships:?}");
    let owners: HashSet<_> = ownerships
        .iter()
        .filter_map(|o| o.owner_id.clone())
        .collect();
    assert_eq!(
        owners.len(),
        2,
        "two owners in the blob store: {ownerships:?}"
    );

    // Events sent with the SDK's producer are received.
    let producer = ProducerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string(KEY_NAME, "hub").unwrap(), None)
        .await
        .unwrap();
    let mut expected = HashSet::new();
    for p in 0..PARTITIONS {
        for i in 0..2 {
            let body = format!("p{p}-{i}").into_bytes();
            let options = SendEventOptions {
                partition_id: Some(p.to_string()),
            };
            within("send", producer.send_event(body.clone(), Some(options)))
                .await
                .unwrap();
            expected.insert((p.to_string(), body));
        }
    }
    wait_for("every event received", &failed, || {
        let all: HashSet<_> = seen_a
            .lock()
            .unwrap()
            .union(&seen_b.lock().unwrap())
            .cloned()
            .collect();
        expected.is_subset(&all)
    })
    .await;

    // The partition clients' checkpoints landed in the blob store: a fresh store instance reads
    // each partition's last sequence number and offset.
    let reader = BlobCheckpointStore::new(
        container_url(&azurite, "processors"),
        ContainerAuth::Sas,
        None,
    )
    .unwrap();
    let mut want = BTreeMap::new();
    for p in 0..PARTITIONS {
        let last = e
            .events("hub", &p.to_string())
            .unwrap()
            .last()
            .cloned()
            .expect("events stored");
        want.insert(
            p.to_string(),
            (Some(last.sequence_number), Some(last.offset.to_string())),
        );
    }
    let mut got = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while got != want && tokio::time::Instant::now() < deadline {
        got = reader
            .list_checkpoints("procns.servicebus.windows.net", "hub", "$Default")
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.partition_id, (c.sequence_number, c.offset)))
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got, want, "checkpoints in the blob store");
    let raw = raw_listing(&azurite, "processors").await;
    assert!(
        raw.contains("<Name>procns.servicebus.windows.net/hub/$default/checkpoint/0</Name>"),
        "{raw}"
    );

    let _ = a.shutdown().await;
    let _ = b.shutdown().await;
    assert!(
        failed.lock().unwrap().is_empty(),
        "{:?}",
        failed.lock().unwrap()
    );
}
