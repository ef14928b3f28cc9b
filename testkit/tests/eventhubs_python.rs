//! The official Python client (azure-eventhub 5.15.1, pyamqp) against the emulator: it sends
//! an event, and receives it together with what the Rust SDK's producer sent.

use iotc_adx_testkit::eventhubs as eh;

use std::process::Command;

#[tokio::test]
async fn python_client_sends_and_receives() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let o = eh::EmulatorOptions::new("pyns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", 2))
        .with_sas_key("py", "cHl0aG9uLWtleQ==");
    let e = eh::EventHubsEmulator::start(o).await.unwrap();
    // The Rust SDK produces what Python must then receive.
    let p = azure_messaging_eventhubs::ProducerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string("py", "hub").unwrap(), None)
        .await
        .unwrap();
    let ev = azure_messaging_eventhubs::models::EventData::builder()
        .with_body(b"from-rust".to_vec())
        .build();
    p.send_event(
        ev,
        Some(azure_messaging_eventhubs::SendEventOptions {
            partition_id: Some("0".into()),
        }),
    )
    .await
    .unwrap();
    let python = iotc_adx_testkit::python::python().expect("python venv");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/eventhubs_roundtrip.py"
    );
    let cs = e.emulator_connection_string("py", "hub").unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .arg("50")
            .arg(python)
            .arg(script)
            .arg(cs)
            .arg("from-rust")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "python failed:\n{text}");
    assert!(e
        .events("hub", "0")
        .unwrap()
        .iter()
        .any(|ev| ev.body_bytes().as_deref() == Some(b"from-python".as_slice())));
}
