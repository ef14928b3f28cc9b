//! Crash chaos, measured (issue 12, point 4): events wait in the Event Hubs emulator (8
//! partitions), two replicas of the release binary consume them into the Data Explorer
//! emulator, and replicas are SIGKILLed and restarted at random while the stand-ins inject
//! faults. Prints, per ingestion mode, the events lost and the duplicate rows.
//!
//! ```sh
//! cargo bench --bench chaos -- [--events 200000] [--kills 20] [--ingestion streaming|queued|both]
//!                              [--seed 1] [--batching-ms 10000] [--checkpoint-ms 1000] [--no-faults]
//! ```

/// The stand-ins run in this process: give them the allocator iotc-adx uses, so that glibc's
/// allocator is not what a figure measures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use iotc_adx_testkit::chaos::{run, ChaosOptions, Ingestion};
use std::time::Duration;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: u64) -> u64 {
    match arg(args, name) {
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} {v}: not a number")),
        None => default,
    }
}

fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let modes = match arg(&args, "--ingestion").as_deref() {
        Some("streaming") => vec![Ingestion::Streaming],
        Some("queued") => vec![Ingestion::Queued],
        None | Some("both") => vec![Ingestion::Streaming, Ingestion::Queued],
        Some(other) => panic!("--ingestion {other}: expected streaming, queued or both"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for ingestion in modes {
        let work = tempfile::Builder::new()
            .prefix("iotc-adx-chaos-")
            .tempdir()
            .expect("a work directory");
        let options = ChaosOptions {
            binary: env!("CARGO_BIN_EXE_iotc-adx").into(),
            work_dir: work.path().to_path_buf(),
            events: number(&args, "--events", 200_000) as usize,
            partitions: 8,
            replicas: 2,
            kills: number(&args, "--kills", 20) as usize,
            ingestion,
            queued_batching_time: Duration::from_millis(number(&args, "--batching-ms", 10_000)),
            checkpoint_every_ms: number(&args, "--checkpoint-ms", 1000),
            faults: !args.iter().any(|a| a == "--no-faults"),
            seed: number(&args, "--seed", 1),
            timeout: Duration::from_secs(number(&args, "--timeout-s", 1800)),
        };
        println!(
            "chaos: {ingestion}, {} events, {} kills, seed {}, batching {:?}, checkpoints every {} ms",
            options.events, options.kills, options.seed, options.queued_batching_time, options.checkpoint_every_ms
        );
        match runtime.block_on(run(options)) {
            Ok(report) => println!("{report}"),
            Err(e) => {
                // Keep the logs for a look.
                let kept = work.keep();
                eprintln!("chaos run failed: {e} (logs kept in {})", kept.display());
                std::process::exit(1);
            }
        }
    }
}
