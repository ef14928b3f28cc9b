//! The demo's replay producer sends every sample message through the official SDK into the
//! Event Hubs emulator, with the iotcentral-* application properties IoT Central sets.

use azure_messaging_eventhubs::ProducerClient;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::replay::{load_messages, replay, ReplayOptions};
use std::path::Path;

#[tokio::test]
async fn replays_the_quick_start_samples_into_the_hub() {
    let options = EmulatorOptions::new("demo.servicebus.windows.net")
        .with_event_hub(EventHubOptions::new("iotc-export", 4))
        .with_sas_key("send", "c2VuZC1rZXktZm9yLXRlc3Rz");
    let emulator = EventHubsEmulator::start(options).await.unwrap();
    let producer = ProducerClient::builder()
        .with_custom_endpoint(emulator.endpoint())
        .open_with_connection_string(
            &emulator.connection_string("send", "iotc-export").unwrap(),
            None,
        )
        .await
        .unwrap();
    let messages =
        load_messages(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data")).unwrap();
    let options = ReplayOptions {
        rate_per_sec: 500.0,
        loops: Some(1),
        live_times: false,
    };
    let started = std::time::Instant::now();
    // Bounded: a hang of the SDK's send (seen rarely under load, not yet explained) must fail
    // this test, not stall the suite.
    let stats = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        replay(&producer, &messages, &options),
    )
    .await
    .expect("the replay finishes within 60 s")
    .unwrap();
    assert_eq!(stats.events, 56);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(50),
        "paced, not sent at once"
    );

    let stored: Vec<_> = (0..4)
        .flat_map(|p| emulator.events("iotc-export", &p.to_string()).unwrap())
        .collect();
    assert_eq!(stored.len(), 56, "every sample message is in the hub");
    let with_device = stored
        .iter()
        .filter(|e| {
            e.application_properties
                .as_ref()
                .is_some_and(|p| p.0.keys().any(|k| k.as_str() == "iotcentral-device-id"))
        })
        .count();
    // Every body whose `deviceId` is a string: 42 telemetry, 2 properties, 2 connectivity,
    // 1 lifecycle, 1 of an unknown source and 1 without a messageSource; broken lines,
    // device-less sources and a telemetry message without a device do not.
    assert_eq!(
        with_device, 49,
        "{with_device} events carry iotcentral-device-id"
    );
    producer.close().await.unwrap();
}
