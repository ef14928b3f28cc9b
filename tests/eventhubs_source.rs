//! The Event Hubs source end to end against the stand-ins: events in the Event Hubs emulator
//! → iotc-adx (official event processor, blob checkpoints on Azurite) → the Data Explorer
//! emulator; rows checked, and checkpoints written only for what Data Explorer accepted.

mod support;

use azure_messaging_eventhubs::CheckpointStore;
use iotc_adx::config::{load_str, Settings, SinkSettings, SourceSettings};
use iotc_adx::deadletter::LocalDirStore;
use iotc_adx::pipeline::Pipeline;
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::source::eventhubs::checkpoint_store::{BlobCheckpointStore, ContainerAuth};
use iotc_adx::source::eventhubs::EventHubsSource;
use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use std::time::{Duration, Instant};

const KEY_NAME: &str = "listen";
const KEY: &str = "aW90Yy1hZHgtdGVzdC1rZXk=";
const PARTITIONS: u32 = 4;

struct StandIns {
    hub: EventHubsEmulator,
    kusto: KustoEmulator,
    azurite: Azurite,
}

async fn stand_ins() -> StandIns {
    stand_ins_with(PARTITIONS).await
}

async fn stand_ins_with(partitions: u32) -> StandIns {
    let options = EmulatorOptions::new("iotc.servicebus.windows.net")
        .with_event_hub(EventHubOptions::new("export", partitions))
        .with_sas_key(KEY_NAME, KEY);
    let hub = EventHubsEmulator::start(options)
        .await
        .expect("event hubs emulator");
    let kusto = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("kusto emulator");
    let azurite = tokio::task::spawn_blocking(Azurite::start)
        .await
        .unwrap()
        .expect("azurite");
    StandIns {
        hub,
        kusto,
        azurite,
    }
}

fn container(s: &StandIns) -> String {
    format!(
        "{}/checkpoints?{}",
        s.azurite.blob_endpoint(),
        s.azurite
            .account_sas(chrono::Utc::now() + chrono::Duration::hours(2))
    )
}

fn settings(dir: &std::path::Path, s: &StandIns) -> Settings {
    std::fs::write(
        dir.join("t.jmespath"),
        "{EnqueuedTime: enqueuedTime, Device: deviceId, Partition: $meta.partition}",
    )
    .unwrap();
    let text = format!(
        "[source]\ntype = \"eventhubs\"\nconnection_string = \"{cs}\"\ncustom_endpoint = \"{ep}\"\n\
         checkpoint_container = \"{container}\"\ncheckpoint_every_ms = 100\nbalance_interval_ms = 500\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{kusto}\"\n[auth]\ntype = \"none\"\n[dead_letter]\npath = \"dl\"\n\
         [[destination]]\nname = \"devices\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Devices\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, Partition:string\"\ningestion = \"streaming\"\n\
         [destination.batch]\nmax_age_ms = 100\n",
        cs = s.hub.connection_string(KEY_NAME, "export").unwrap(),
        ep = s.hub.endpoint(),
        container = container(s),
        kusto = s.kusto.url(),
    );
    load_str(&text, dir).expect("configuration")
}

/// The settings, with the destination's table provisioned.
async fn provisioned(dir: &std::path::Path, s: &StandIns) -> Settings {
    let settings = settings(dir, s);
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        panic!("kusto sink")
    };
    let client = iotc_adx::sink::kusto::client(kusto, None).unwrap();
    iotc_adx::provision::provision(&client, &settings.destinations, false, |_, _| {})
        .await
        .unwrap();
    settings
}

fn message(device: &str) -> Vec<u8> {
    format!(r#"{{"messageSource":"telemetry","deviceId":"{device}","enqueuedTime":"2026-11-22T10:00:00Z","telemetry":{{"HeartRate":70}}}}"#).into_bytes()
}

async fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_rows_and_checkpoints_follow_them() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = provisioned(dir.path(), &s).await;

    let mut sent = 0;
    for p in 0..PARTITIONS {
        for i in 0..5 {
            s.hub
                .append("export", &p.to_string(), &message(&format!("d{p}-{i}")))
                .unwrap();
            sent += 1;
        }
    }
    let (run, stop_tx) = replica(&settings).await;

    wait_for("every event's row", 60, || {
        s.kusto.rows("iot", "Devices").len() == sent
    })
    .await;
    // More events while running.
    for p in 0..PARTITIONS {
        s.hub
            .append("export", &p.to_string(), &message(&format!("late{p}")))
            .unwrap();
    }
    wait_for("the later rows", 30, || {
        s.kusto.rows("iot", "Devices").len() == sent + PARTITIONS as usize
    })
    .await;
    let rows = s.kusto.rows("iot", "Devices");
    let partitions: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| r[2].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        partitions.len(),
        PARTITIONS as usize,
        "rows carry $meta.partition: {partitions:?}"
    );

    let summary = stop(stop_tx, run, "the replica").await;
    assert!(summary.interrupted);
    assert_eq!(
        summary.destinations[0].rows,
        (sent + PARTITIONS as usize) as u64
    );

    // Every partition's checkpoint is at its last event (sequence numbers 0..=5).
    let url: url::Url = container(&s).parse().unwrap();
    let store = BlobCheckpointStore::new(url, ContainerAuth::Sas, None).unwrap();
    let checkpoints = store
        .list_checkpoints("iotc.servicebus.windows.net", "export", "$Default")
        .await
        .unwrap();
    let mut by_partition: Vec<(String, Option<i64>)> = checkpoints
        .iter()
        .map(|c| (c.partition_id.clone(), c.sequence_number))
        .collect();
    by_partition.sort();
    assert_eq!(
        by_partition,
        (0..PARTITIONS)
            .map(|p| (p.to_string(), Some(5)))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_after_the_checkpoint_without_loss_or_repeats() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = provisioned(dir.path(), &s).await;

    let run_once = |expected: usize| {
        let settings = settings.clone();
        let k = &s.kusto;
        async move {
            let (run, stop_tx) = replica(&settings).await;
            wait_for("rows", 60, || k.rows("iot", "Devices").len() >= expected).await;
            stop(stop_tx, run, "the replica").await
        }
    };
    for p in 0..PARTITIONS {
        s.hub
            .append("export", &p.to_string(), &message(&format!("first{p}")))
            .unwrap();
    }
    run_once(PARTITIONS as usize).await;
    for p in 0..PARTITIONS {
        s.hub
            .append("export", &p.to_string(), &message(&format!("second{p}")))
            .unwrap();
    }
    let second = run_once(2 * PARTITIONS as usize).await;
    assert_eq!(
        second.messages, PARTITIONS as u64,
        "the second run starts after the first run's checkpoints"
    );
    assert_eq!(
        s.kusto.rows("iot", "Devices").len(),
        2 * PARTITIONS as usize,
        "no event lost, none repeated"
    );
}

/// A replica's pipeline task (see [`replica`]).
type Run =
    tokio::task::JoinHandle<Result<iotc_adx::pipeline::Summary, iotc_adx::pipeline::PipelineError>>;

/// Asks a replica to stop and waits (at most 40 s) for it to end cleanly.
async fn stop(
    stop_tx: tokio::sync::oneshot::Sender<()>,
    run: Run,
    who: &str,
) -> iotc_adx::pipeline::Summary {
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(40), run)
        .await
        .unwrap_or_else(|_| panic!("{who} did not stop within 40 s"))
        .expect("the pipeline task ends without panicking")
        .unwrap_or_else(|e| panic!("{who} did not run cleanly: {e}"))
}

/// Starts one replica: source, sink and pipeline, until the returned sender fires.
async fn replica(settings: &Settings) -> (Run, tokio::sync::oneshot::Sender<()>) {
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        panic!("kusto sink")
    };
    let Some(SourceSettings::EventHubs(eh)) = &settings.source else {
        panic!("eventhubs source")
    };
    let client = iotc_adx::sink::kusto::client(kusto, None).unwrap();
    let source = EventHubsSource::connect(eh, None)
        .await
        .expect("source connects");
    let sink = KustoSink::connect(client, kusto, &settings.destinations)
        .await
        .expect("sink connects");
    let dead = Box::new(LocalDirStore::new(&settings.dead_letter.dir, 1 << 20));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(
        Pipeline::new(settings.destinations.clone(), sink, dead).run(source, async {
            let _ = stop_rx.await;
        }),
    );
    (run, stop_tx)
}

/// Owner id per partition, as the checkpoint store has it.
async fn owners(s: &StandIns) -> std::collections::BTreeMap<String, String> {
    let store =
        BlobCheckpointStore::new(container(s).parse().unwrap(), ContainerAuth::Sas, None).unwrap();
    let list = store
        .list_ownerships("iotc.servicebus.windows.net", "export", "$Default")
        .await
        .expect("the checkpoint store lists the ownerships");
    list.into_iter()
        .filter_map(|o| {
            o.owner_id
                .filter(|id| !id.is_empty())
                .map(|id| (o.partition_id, id))
        })
        .collect()
}

/// Checkpointed sequence number per partition, as the checkpoint store has it.
async fn checkpoints(s: &StandIns) -> std::collections::BTreeMap<String, i64> {
    let store =
        BlobCheckpointStore::new(container(s).parse().unwrap(), ContainerAuth::Sas, None).unwrap();
    store
        .list_checkpoints("iotc.servicebus.windows.net", "export", "$Default")
        .await
        .expect("the checkpoint listing")
        .into_iter()
        .filter_map(|c| c.sequence_number.map(|n| (c.partition_id, n)))
        .collect()
}

/// Waits until `partitions` partitions are owned by exactly `replicas` owners.
async fn wait_owners(s: &StandIns, partitions: usize, replicas: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let o = owners(s).await;
        let ids: std::collections::BTreeSet<&String> = o.values().collect();
        if o.len() == partitions && ids.len() == replicas {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_partitions_and_one_takes_over_when_the_other_stops() {
    let s = stand_ins_with(8).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = provisioned(dir.path(), &s).await;

    let (run_a, stop_a) = replica(&settings).await;
    let (run_b, stop_b) = replica(&settings).await;
    wait_owners(&s, 8, 2, "the replicas split the 8 partitions").await;
    for p in 0..8 {
        for i in 0..5 {
            s.hub
                .append(
                    "export",
                    &p.to_string(),
                    &message(&format!("shared-{p}-{i}")),
                )
                .unwrap();
        }
    }
    wait_for("rows from both replicas", 60, || {
        s.kusto.rows("iot", "Devices").len() == 40
    })
    .await;

    let a = stop(stop_a, run_a, "A").await;
    assert!(
        a.messages > 0 && a.messages < 40,
        "A read a share: {}",
        a.messages
    );
    wait_owners(&s, 8, 1, "B takes over every partition").await;
    for p in 0..8 {
        s.hub
            .append("export", &p.to_string(), &message(&format!("after-{p}")))
            .unwrap();
    }
    wait_for("rows after the takeover", 60, || {
        s.kusto.rows("iot", "Devices").len() >= 48
    })
    .await;
    stop(stop_b, run_b, "B").await;
    assert_eq!(
        s.kusto.rows("iot", "Devices").len(),
        48,
        "nothing lost, nothing read twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_links_and_dropped_connections_lose_nothing() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("TEST_LOG"))
            .with_test_writer()
            .try_init();
    }
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = provisioned(dir.path(), &s).await;
    let (run, stop_tx) = replica(&settings).await;
    let mut sent = 0;
    let mut last = std::collections::BTreeMap::new();
    for wave in 0..3 {
        for p in 0..PARTITIONS {
            for i in 0..5 {
                let n = s
                    .hub
                    .append(
                        "export",
                        &p.to_string(),
                        &message(&format!("w{wave}-{p}-{i}")),
                    )
                    .unwrap();
                last.insert(p.to_string(), n);
                sent += 1;
            }
        }
        let what = format!("wave {wave}: {sent} rows");
        // Distinct devices: after a fault the rows since the last checkpoint come again, and
        // counting those duplicates would stop the wait before every event arrived.
        let distinct = || {
            s.kusto
                .rows("iot", "Devices")
                .iter()
                .map(|r| r[1].as_str().unwrap_or_default().to_string())
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        wait_for(&what, 40, || distinct() >= sent).await;
        // The checkpoints reach every partition's last event, after each fault too (a
        // position confirmed while a reader was being reopened is not lost).
        let deadline = Instant::now() + Duration::from_secs(20);
        while checkpoints(&s).await != last {
            assert!(
                Instant::now() < deadline,
                "wave {wave}: checkpoints {:?}, last events {last:?}",
                checkpoints(&s).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match wave {
            0 => {
                let n = s.hub.detach_receivers(
                    "export",
                    None,
                    iotc_adx_testkit::eventhubs::LinkFault::new("amqp:link:detach-forced", "test"),
                );
                assert!(n > 0, "receivers were detached");
            }
            1 => {
                assert!(s.hub.drop_connections() > 0, "connections were dropped");
            }
            _ => {}
        }
    }
    stop(stop_tx, run, "the replica").await;
    let mut devices: Vec<String> = s
        .kusto
        .rows("iot", "Devices")
        .iter()
        .map(|r| r[1].as_str().unwrap_or_default().to_string())
        .collect();
    devices.sort();
    let total = devices.len();
    devices.dedup();
    assert_eq!(devices.len(), sent, "every event's row");
    // Each fault can bring back at most the rows since the last checkpoint: at most the one
    // wave (20 events) read before it.
    let duplicates = total - sent;
    println!("{duplicates} duplicate rows after the faults");
    assert!(
        duplicates <= 2 * 5 * PARTITIONS as usize,
        "{duplicates} duplicate rows: more than the two waves read before the two faults"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_to_event_hubs_with_a_service_principal() {
    use iotc_adx::auth::{AuthSettings, ServicePrincipalProof};
    use iotc_adx_testkit::identity::{
        AppRegistration, IdentityOptions, IdentityServer, TokenAuthority,
    };
    const APP: &str = "44444444-4444-4444-4444-444444444444";
    const SECRET: &str = "eh~secret";
    let authority = TokenAuthority::default();
    let identity = IdentityServer::start(
        authority.clone(),
        IdentityOptions {
            applications: vec![AppRegistration::with_secret(APP, SECRET)],
            ..Default::default()
        },
    )
    .await
    .expect("identity server");
    let options = EmulatorOptions::new("iotc.servicebus.windows.net")
        .with_event_hub(EventHubOptions::new("export", PARTITIONS))
        .with_sas_key(KEY_NAME, KEY) // only for building the settings; the source uses the token
        .with_token_authority(authority);
    let hub = EventHubsEmulator::start(options)
        .await
        .expect("event hubs emulator");
    let kusto = KustoEmulator::start(KustoOptions {
        databases: vec!["iot".into()],
        ..Default::default()
    })
    .await
    .expect("kusto emulator");
    let azurite = tokio::task::spawn_blocking(Azurite::start)
        .await
        .unwrap()
        .expect("azurite");
    let s = StandIns {
        hub,
        kusto,
        azurite,
    };
    let dir = tempfile::tempdir().unwrap();
    // No connection string: the namespace, signed in with the service principal.
    let mut settings = provisioned(dir.path(), &s).await;
    let Some(SourceSettings::EventHubs(eh)) = &mut settings.source else {
        panic!("eventhubs source")
    };
    eh.connection_string = None;
    eh.namespace = "iotc.servicebus.windows.net".into();
    let auth = AuthSettings::ServicePrincipal {
        tenant_id: identity.authority().tenant().to_string(),
        client_id: APP.into(),
        proof: ServicePrincipalProof::Secret(SECRET.into()),
        authority_host: identity.authority_host(),
    };
    let transport = azure_core::http::Transport::new(std::sync::Arc::new(
        identity.https_client().expect("https client"),
    ));
    let credential = iotc_adx::auth::credential(
        &auth,
        azure_core::http::ClientOptions {
            transport: Some(transport),
            ..Default::default()
        },
    )
    .expect("credential");

    for p in 0..PARTITIONS {
        s.hub
            .append("export", &p.to_string(), &message(&format!("sp-{p}")))
            .unwrap();
    }
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        panic!("kusto sink")
    };
    let source = EventHubsSource::connect(eh, credential)
        .await
        .expect("source connects with a token");
    let client = iotc_adx::sink::kusto::client(kusto, None).unwrap();
    let sink = KustoSink::connect(client, kusto, &settings.destinations)
        .await
        .expect("sink connects");
    let dead = Box::new(LocalDirStore::new(&settings.dead_letter.dir, 1 << 20));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(
        Pipeline::new(settings.destinations.clone(), sink, dead).run(source, async {
            let _ = stop_rx.await;
        }),
    );
    wait_for("rows read with a service principal's token", 60, || {
        s.kusto.rows("iot", "Devices").len() == PARTITIONS as usize
    })
    .await;
    stop(stop_tx, run, "the replica").await;
    assert!(
        !identity.requests().is_empty(),
        "tokens came from the identity server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_writes_the_last_checkpoints_and_releases_the_partitions() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = provisioned(dir.path(), &s).await;
    // Checkpoints only at the end: what the stop writes is all there is.
    let Some(SourceSettings::EventHubs(eh)) = &mut settings.source else {
        panic!("eventhubs source")
    };
    eh.checkpoint_every = Duration::from_secs(600);
    let mut last = std::collections::BTreeMap::new();
    for p in 0..PARTITIONS {
        for i in 0..3 {
            let n = s
                .hub
                .append("export", &p.to_string(), &message(&format!("end-{p}-{i}")))
                .unwrap();
            last.insert(p.to_string(), n);
        }
    }
    let (run, stop_tx) = replica(&settings).await;
    wait_for("every row", 60, || {
        s.kusto.rows("iot", "Devices").len() == 3 * PARTITIONS as usize
    })
    .await;
    wait_owners(
        &s,
        PARTITIONS as usize,
        1,
        "the replica owns every partition",
    )
    .await;
    // A second round: its checkpoints are held back by checkpoint_every until the stop.
    for p in 0..PARTITIONS {
        let n = s
            .hub
            .append("export", &p.to_string(), &message(&format!("late-{p}")))
            .unwrap();
        last.insert(p.to_string(), n);
    }
    wait_for("the second round", 60, || {
        s.kusto.rows("iot", "Devices").len() == 4 * PARTITIONS as usize
    })
    .await;
    stop(stop_tx, run, "the replica").await;

    let store =
        BlobCheckpointStore::new(container(&s).parse().unwrap(), ContainerAuth::Sas, None).unwrap();
    let checkpoints: std::collections::BTreeMap<String, i64> = store
        .list_checkpoints("iotc.servicebus.windows.net", "export", "$Default")
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.sequence_number.map(|n| (c.partition_id, n)))
        .collect();
    let last: std::collections::BTreeMap<String, i64> = last.into_iter().collect();
    assert_eq!(
        checkpoints, last,
        "every partition checkpointed at its last event"
    );
    assert!(
        owners(&s).await.is_empty(),
        "every partition released: {:?}",
        owners(&s).await
    );
}

/// A container URL without a SAS and no credential: the source refuses at once with an error
/// that says what to add, before any request.
#[tokio::test]
async fn a_container_without_sas_or_credential_is_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jmespath"), "{Device: deviceId}").unwrap();
    let text = "[source]\ntype = \"eventhubs\"\n\
        connection_string = \"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5;EntityPath=export\"\n\
        checkpoint_container = \"https://acct.blob.core.windows.net/checkpoints\"\n\
        [sink]\ntype = \"file\"\npath = \"out\"\n\
        [[destination]]\nname = \"d\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"T\"\ncolumns = \"Device:string\"\n";
    let settings = load_str(text, dir.path()).expect("configuration");
    let Some(SourceSettings::EventHubs(eh)) = &settings.source else {
        panic!("eventhubs source")
    };
    let started = Instant::now();
    let Err(e) = EventHubsSource::connect(eh, None).await else {
        panic!("connected without a way to sign in to the container")
    };
    assert!(
        matches!(
            e,
            iotc_adx::source::SourceError::NoCheckpointCredential { .. }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("no SAS and [auth] gives no credential"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
