//! The Event Hubs emulator's own throughput: a backlog of telemetry-sized events (550 bytes) in
//! 4 partitions, read from the earliest event by the official Rust SDK's receivers, one per
//! partition, all in this process: events per second of wall time, and per CPU-second of the
//! process, of the emulator alone (it runs on a runtime of its own, on threads named
//! `emulator`) and of the SDK's receivers alone (everything else). The SDK's share is the floor
//! of any consumer built on the official Rust SDK, iotc-adx included.
//!
//! `cargo bench -p iotc-adx-testkit --bench eventhubs_emulator [-- EVENTS]` (default 200,000).

use azure_messaging_eventhubs::{
    ConsumerClient, OpenReceiverOptions, StartLocation, StartPosition,
};
use futures::StreamExt;
use iotc_adx_testkit::eventhubs as eh;
use std::time::{Duration, Instant};

/// The allocator iotc-adx itself uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PARTITIONS: usize = 4;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let o = eh::EmulatorOptions::new("bench.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", PARTITIONS as u32))
        .with_sas_key("bench", "YmVuY2gta2V5LWJlbmNoLWtleQ==");
    // The emulator's own runtime, so that its threads' CPU time can be told apart.
    let emulator_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("emulator")
        .enable_all()
        .build()
        .unwrap();
    let e = emulator_runtime
        .spawn(eh::EventHubsEmulator::start(o))
        .await
        .unwrap()
        .unwrap();
    let body = vec![b'x'; 550];
    for i in 0..total {
        e.append("hub", &(i % PARTITIONS).to_string(), &body)
            .unwrap();
    }
    let per = total / PARTITIONS;
    println!(
        "{total} events of {} bytes waiting in {PARTITIONS} partitions",
        body.len()
    );
    let c = ConsumerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string("bench", "hub").unwrap(), None)
        .await
        .unwrap();
    let emulator_cpu0 = iotc_adx_testkit::process::threads_cpu_time("emulator");
    let (cpu0, wall0) = (iotc_adx_testkit::process::own_cpu_time(), Instant::now());
    let mut readers = Vec::new();
    for p in 0..PARTITIONS {
        let r = c
            .open_receiver_on_partition(
                p.to_string(),
                Some(OpenReceiverOptions {
                    start_position: Some(StartPosition {
                        location: StartLocation::Earliest,
                        inclusive: false,
                    }),
                    prefetch: Some(1000),
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        readers.push(tokio::spawn(async move {
            let stream = r.stream_events();
            futures::pin_mut!(stream);
            let mut n = 0;
            while n < per {
                match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                    Ok(Some(Ok(_))) => n += 1,
                    other => panic!("partition {p}: {other:?} after {n} events"),
                }
            }
            n
        }));
    }
    let mut read = 0;
    for r in readers {
        read += r.await.unwrap();
    }
    let (cpu1, wall1) = (
        iotc_adx_testkit::process::own_cpu_time() - cpu0,
        wall0.elapsed(),
    );
    let emulator_cpu = iotc_adx_testkit::process::threads_cpu_time("emulator") - emulator_cpu0;
    let sdk_cpu = cpu1.saturating_sub(emulator_cpu);
    println!(
        "read {read} events in {:.2} s wall ({:.0} events/s, {:.1} MB/s of bodies), {:.2} CPU-s of this process ({:.0} events per CPU-second)",
        wall1.as_secs_f64(),
        read as f64 / wall1.as_secs_f64(),
        (read * body.len()) as f64 / 1e6 / wall1.as_secs_f64(),
        cpu1.as_secs_f64(),
        read as f64 / cpu1.as_secs_f64().max(0.001)
    );
    println!(
        "of which the emulator {:.2} CPU-s ({:.0} events per CPU-second) and the SDK's receivers {:.2} CPU-s ({:.0} events, {:.1} MB of bodies per CPU-second)",
        emulator_cpu.as_secs_f64(),
        read as f64 / emulator_cpu.as_secs_f64().max(0.001),
        sdk_cpu.as_secs_f64(),
        read as f64 / sdk_cpu.as_secs_f64().max(0.001),
        (read * body.len()) as f64 / 1e6 / sdk_cpu.as_secs_f64().max(0.001)
    );
    drop(e);
    emulator_runtime.shutdown_background();
}
