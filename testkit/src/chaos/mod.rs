//! Crash chaos, measured: events wait in the Event Hubs emulator, several replicas of the
//! iotc-adx binary consume them into the Data Explorer emulator, and while they run, replicas
//! are killed with SIGKILL and restarted at random moments and the stand-ins inject their
//! faults (429 with `Retry-After`, 5xx, reset connections, dropped AMQP connections, detached
//! links, short-lived storage SAS). At the end the table is read back and each event's rows
//! are counted: lost events and duplicate rows, per run.
//!
//! The binary is run as a process (its path is an option), so this module depends on nothing
//! of the code under test. `benches/chaos.rs` runs the full version and the test suite a short
//! one (`tests/chaos.rs`).

mod options;
mod replicas;

pub use options::{ChaosOptions, Ingestion};

use crate::azurite::Azurite;
use crate::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator, LinkFault};
use crate::kusto::{Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass, StorageMode};
use replicas::Replicas;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY_NAME: &str = "listen";
const KEY: &str = "aW90Yy1hZHgtY2hhb3Mta2V5";
const HUB: &str = "export";

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct ChaosReport {
    /// The destination's ingestion.
    pub ingestion: String,
    /// Events sent.
    pub events: usize,
    /// Partitions.
    pub partitions: u32,
    /// Replicas.
    pub replicas: usize,
    /// SIGKILLs done.
    pub kills: usize,
    /// Of those, how many hit a replica that had already ingested rows (a kill mid-stream).
    pub kills_mid_stream: usize,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, usize>,
    /// Rows in the table.
    pub rows: usize,
    /// Events with no row.
    pub lost: usize,
    /// Rows beyond one per event.
    pub duplicates: usize,
    /// Events with more than one row.
    pub duplicated_events: usize,
    /// Streaming: rows beyond one per event in the deduplicating view `provision` created
    /// (`None` for queued runs, which have no view).
    pub view_duplicates: Option<usize>,
    /// Streaming: events with no row in the view.
    pub view_lost: Option<usize>,
    /// From the first replica's start to every event in the table.
    pub elapsed: Duration,
    /// Exit codes of the replicas' final, clean stops (SIGTERM).
    pub final_exit_codes: Vec<Option<i32>>,
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let view = match (self.view_duplicates, self.view_lost) {
            (Some(d), Some(l)) => format!("{d} ({l} lost)"),
            _ => "no view".into(),
        };
        writeln!(f, "| ingestion | events | partitions | replicas | kills (mid-stream) | faults | rows | lost | duplicate rows (events) | duplicates in the dedupe view | time |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        writeln!(
            f,
            "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} ({}) | {view} | {:.1} s |",
            self.ingestion,
            self.events,
            self.partitions,
            self.replicas,
            self.kills,
            self.kills_mid_stream,
            if faults.is_empty() {
                "none".into()
            } else {
                faults.join(", ")
            },
            self.rows,
            self.lost,
            self.duplicates,
            self.duplicated_events,
            self.elapsed.as_secs_f64()
        )
    }
}

/// The run could not be carried out (not a finding about the binary).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// A stand-in or the work directory could not be set up.
    #[error("cannot set up the run: {0}")]
    Setup(String),
    /// The deduplicating view could not be read.
    #[error("the dedupe view could not be read: {0}")]
    View(String),
    /// `iotc-adx provision` failed.
    #[error("provision failed: {0}")]
    Provision(String),
    /// Not every event reached the table in time.
    #[error(
        "after {secs} s, {missing} of {events} events had no row yet (replica logs in {logs})"
    )]
    Timeout {
        /// Seconds waited.
        secs: u64,
        /// Events without a row.
        missing: usize,
        /// Events sent.
        events: usize,
        /// Where the replicas' logs are.
        logs: String,
    },
}

/// Runs the chaos and reports what the table holds.
pub async fn run(options: ChaosOptions) -> Result<ChaosReport, ChaosError> {
    std::fs::create_dir_all(&options.work_dir).map_err(|e| setup(&e))?;
    let stand_ins = StandIns::start(&options).await?;
    let config = replicas::write_config(
        &options,
        &stand_ins.hub,
        &stand_ins.kusto,
        &stand_ins.azurite,
        (KEY_NAME, HUB),
    )
    .map_err(|e| setup(&e))?;
    replicas::provision(&options.binary, &config).map_err(ChaosError::Provision)?;
    // A quarter of the events wait at the start; the rest arrive in steps between the kills,
    // so that every kill hits replicas in the middle of the stream.
    let mut sent = 0;
    let first = (options.events / 4).max(1).min(options.events);
    send(&stand_ins.hub, options.partitions, &mut sent, first).map_err(|e| setup(&e))?;
    if options.faults && options.ingestion == Ingestion::Queued {
        stand_ins
            .kusto
            .set_sas_lifetime(Some(Duration::from_secs(20)));
    }
    let started = Instant::now();
    let mut replicas = Replicas::start(&options, &config).map_err(|e| setup(&e))?;
    let mut report = ChaosReport {
        ingestion: options.ingestion.to_string(),
        events: options.events,
        partitions: options.partitions,
        replicas: options.replicas,
        ..ChaosReport::default()
    };
    kill_and_restart(
        &options,
        &stand_ins,
        &mut replicas,
        &mut report,
        &mut sent,
        started,
    )
    .await?;
    let rest = options.events - sent;
    send(&stand_ins.hub, options.partitions, &mut sent, rest).map_err(|e| setup(&e))?;
    stand_ins.kusto.clear_faults();
    wait_for_every_event(&options, &stand_ins.kusto, &mut replicas, started).await?;
    report.elapsed = started.elapsed();
    report.final_exit_codes = replicas.stop_all();
    settle(&stand_ins.kusto, options.queued_batching_time).await;
    count_rows(&options, &stand_ins.kusto, &mut report)?;
    Ok(report)
}

/// Setting the run up failed.
fn setup(e: &dyn fmt::Display) -> ChaosError {
    ChaosError::Setup(e.to_string())
}

/// The stand-ins a run uses; they stop when dropped.
struct StandIns {
    hub: EventHubsEmulator,
    azurite: Arc<Azurite>,
    kusto: KustoEmulator,
}

impl StandIns {
    async fn start(options: &ChaosOptions) -> Result<StandIns, ChaosError> {
        let hub = EventHubsEmulator::start(
            EmulatorOptions::new("chaos.servicebus.windows.net")
                .with_event_hub(EventHubOptions::new(HUB, options.partitions))
                .with_sas_key(KEY_NAME, KEY),
        )
        .await
        .map_err(|e| setup(&e))?;
        let azurite = tokio::task::spawn_blocking(Azurite::start)
            .await
            .map_err(|e| setup(&e))?
            .map_err(|e| setup(&e))?;
        let azurite = Arc::new(azurite);
        let kusto = KustoEmulator::start(KustoOptions {
            databases: vec!["iot".into()],
            storage: StorageMode::Shared(azurite.clone()),
            queued_batching_time: Some(options.queued_batching_time),
            ..Default::default()
        })
        .await
        .map_err(|e| setup(&e))?;
        Ok(StandIns {
            hub,
            azurite,
            kusto,
        })
    }
}

/// The kills: at random moments, more events arrive, a fault may be injected, a random
/// replica is killed with SIGKILL and restarted.
async fn kill_and_restart(
    options: &ChaosOptions,
    stand_ins: &StandIns,
    replicas: &mut Replicas,
    report: &mut ChaosReport,
    sent: &mut usize,
    started: Instant,
) -> Result<(), ChaosError> {
    let mut rng = fastrand::Rng::with_seed(options.seed);
    while report.kills < options.kills && started.elapsed() <= options.timeout {
        tokio::time::sleep(Duration::from_millis(rng.u64(300..1500))).await;
        let kills_left = options.kills - report.kills;
        let step = (options.events - *sent).div_ceil(kills_left);
        send(&stand_ins.hub, options.partitions, sent, step).map_err(|e| setup(&e))?;
        if options.faults {
            let kind = inject(
                &mut rng,
                &stand_ins.hub,
                &stand_ins.kusto,
                options.ingestion,
            );
            *report.faults.entry(kind).or_default() += 1;
        }
        let victim = rng.usize(0..options.replicas);
        let before = count(&stand_ins.kusto).len();
        replicas.kill(victim).map_err(|e| setup(&e))?;
        report.kills += 1;
        // Events were still arriving, or not all were in the table yet.
        if *sent < options.events || before < options.events {
            report.kills_mid_stream += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(0..500))).await;
        replicas.restart(victim).map_err(|e| setup(&e))?;
    }
    Ok(())
}

/// Waits until every event is in the table at least once, or the run's time is up.
async fn wait_for_every_event(
    options: &ChaosOptions,
    kusto: &KustoEmulator,
    replicas: &mut Replicas,
    started: Instant,
) -> Result<(), ChaosError> {
    let deadline = started + options.timeout;
    while count(kusto).len() < options.events {
        if Instant::now() > deadline {
            let missing = options.events - count(kusto).len();
            replicas.stop_all();
            return Err(ChaosError::Timeout {
                secs: options.timeout.as_secs(),
                missing,
                events: options.events,
                logs: options.work_dir.display().to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Rows queued by the last batches land a batching time later: waits until the table stops
/// growing for three batching times.
async fn settle(kusto: &KustoEmulator, batching_time: Duration) {
    let settle = batching_time * 3 + Duration::from_secs(1);
    let mut last = (kusto.rows("iot", "Chaos").len(), Instant::now());
    while last.1.elapsed() < settle {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = kusto.rows("iot", "Chaos").len();
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
}

/// Fills in rows, losses and duplicates, in the table and (streaming) in the dedupe view.
fn count_rows(
    options: &ChaosOptions,
    kusto: &KustoEmulator,
    report: &mut ChaosReport,
) -> Result<(), ChaosError> {
    let counts = count(kusto);
    report.rows = counts.values().sum();
    report.lost = options.events - counts.len();
    report.duplicates = report.rows - counts.len();
    report.duplicated_events = counts.values().filter(|n| **n > 1).count();
    if options.ingestion == Ingestion::Streaming {
        let view = kusto
            .view("iot", replicas::VIEW)
            .map_err(ChaosError::View)?;
        let device = view
            .columns
            .iter()
            .position(|c| c.name == "Device")
            .ok_or_else(|| ChaosError::View("the view has no Device column".into()))?;
        let devices: HashSet<&str> = view
            .rows
            .iter()
            .filter_map(|r| r[device].as_str())
            .collect();
        report.view_duplicates = Some(view.rows.len() - devices.len());
        report.view_lost = Some(options.events - devices.len());
    }
    Ok(())
}

/// Appends the next `n` events (round robin over the partitions).
fn send(
    hub: &EventHubsEmulator,
    partitions: u32,
    sent: &mut usize,
    n: usize,
) -> Result<(), crate::eventhubs::EmulatorError> {
    for i in *sent..*sent + n {
        let body = format!(
            r#"{{"messageSource":"telemetry","deviceId":"e{i:07}","enqueuedTime":"2026-12-02T10:00:00Z","telemetry":{{"v":{i}}}}}"#
        );
        hub.append(HUB, &(i as u32 % partitions).to_string(), body.as_bytes())?;
    }
    *sent += n;
    Ok(())
}

/// Rows per event (by device id).
fn count(kusto: &KustoEmulator) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    for row in kusto.rows("iot", "Chaos") {
        if let Some(device) = row.get(1).and_then(|v| v.as_str()) {
            *map.entry(device.to_string()).or_default() += 1;
        }
    }
    map
}

/// Injects one random fault; returns its name.
fn inject(
    rng: &mut fastrand::Rng,
    hub: &EventHubsEmulator,
    kusto: &KustoEmulator,
    ingestion: Ingestion,
) -> &'static str {
    let class = match ingestion {
        Ingestion::Streaming => RouteClass::Ingest,
        Ingestion::Queued => RouteClass::Mgmt,
    };
    let arm = |kind: FaultKind, count: usize| kusto.inject(Fault { class, kind, count });
    match rng.u8(0..5) {
        0 => {
            arm(
                FaultKind::Throttle {
                    retry_after_secs: 1,
                },
                3,
            );
            "429"
        }
        1 => {
            arm(FaultKind::Status(503), 3);
            "5xx"
        }
        2 => {
            arm(FaultKind::Reset, 2);
            "reset"
        }
        3 => {
            hub.drop_connections();
            "dropped AMQP connections"
        }
        _ => {
            let fault = LinkFault::new("amqp:link:detach-forced", "chaos");
            hub.detach_receivers(HUB, None, fault);
            "detached links"
        }
    }
}
