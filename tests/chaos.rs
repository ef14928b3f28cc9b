//! The short version of the crash chaos of `benches/chaos.rs`: 2 replicas of the binary on 8
//! partitions, SIGKILLed and restarted mid-stream while the stand-ins inject faults (429 with
//! Retry-After, 5xx, reset connections, dropped AMQP connections, detached links, short-lived
//! SAS). No event is lost in either mode; queued ingestion with dedupe adds no duplicate;
//! streaming's duplicates are counted in the table, and the deduplicating materialized view
//! `provision` creates (`[destination.dedupe_view]`, keyed on partition and sequence number)
//! holds every event exactly once.

use iotc_adx_testkit::chaos::{run, ChaosOptions, ChaosReport, Ingestion};
use std::time::Duration;

async fn chaos(ingestion: Ingestion, seed: u64, batching: Duration) -> ChaosReport {
    let work = tempfile::tempdir().unwrap();
    let options = ChaosOptions {
        binary: env!("CARGO_BIN_EXE_iotc-adx").into(),
        work_dir: work.path().to_path_buf(),
        events: 6000,
        partitions: 8,
        replicas: 2,
        kills: 4,
        ingestion,
        queued_batching_time: batching,
        checkpoint_every_ms: 500,
        faults: true,
        seed,
        timeout: Duration::from_secs(400),
    };
    match run(options).await {
        Ok(report) => {
            println!("{report}");
            report
        }
        Err(e) => {
            let kept = work.keep();
            panic!("{e}; logs kept in {}", kept.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_loses_nothing_under_kills_and_faults() {
    let report = chaos(Ingestion::Streaming, 7, Duration::from_millis(300)).await;
    assert_eq!(report.kills, 4);
    assert!(report.kills_mid_stream >= 3, "{report}");
    assert_eq!(report.lost, 0, "{report}");
    assert!(report.rows >= report.events, "{report}");
    assert_eq!(report.view_lost, Some(0), "{report}");
    assert_eq!(report.view_duplicates, Some(0), "{report}");
    assert_eq!(report.final_exit_codes, vec![Some(0), Some(0)], "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_with_dedupe_loses_nothing_and_duplicates_nothing_under_kills_and_faults() {
    // Batches commit 10 s after they are queued (the service's minimum batching time), far
    // longer than the 3 s after which a killed replica's partitions are taken over: the new
    // owner must wait for them before it looks at what the table holds.
    let report = chaos(Ingestion::Queued, 11, Duration::from_secs(10)).await;
    assert_eq!(report.kills, 4);
    assert!(report.kills_mid_stream >= 3, "{report}");
    assert_eq!(report.lost, 0, "{report}");
    assert_eq!(report.duplicates, 0, "{report}");
    assert_eq!(report.final_exit_codes, vec![Some(0), Some(0)], "{report}");
}
