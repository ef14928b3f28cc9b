//! The official JavaScript client (@azure/event-hubs 6.0.4, from the npm registry) against the
//! emulator: it reads the hub's properties, sends a batch, and receives from the earliest
//! position what it sent together with what the Rust SDK's producer sent. Its `$cbs` reply
//! link names no target address; the emulator answers it as the service does.

use iotc_adx_testkit::eventhubs as eh;

mod js_support;

#[tokio::test]
async fn javascript_client_sends_and_receives() {
    let o = eh::EmulatorOptions::new("jsns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", 2))
        .with_sas_key("js", "anMta2V5LWZvci10ZXN0cw==");
    let e = eh::EventHubsEmulator::start(o).await.unwrap();
    let p = azure_messaging_eventhubs::ProducerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string("js", "hub").unwrap(), None)
        .await
        .unwrap();
    let ev = azure_messaging_eventhubs::models::EventData::builder()
        .with_body(b"from-rust".to_vec())
        .build();
    let to_zero = azure_messaging_eventhubs::SendEventOptions {
        partition_id: Some("0".into()),
    };
    p.send_event(ev, Some(to_zero)).await.unwrap();
    let cs = e.emulator_connection_string("js", "hub").unwrap();
    let args = ["from-rust", "from-js-1", "from-js-2"].map(String::from);
    let mut all = vec![cs];
    all.extend(args);
    let out = js_support::node("eventhubs_roundtrip.cjs", all, Vec::new()).await;
    assert!(
        out.status.success(),
        "node failed:\n{}",
        js_support::text(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["partitions"], serde_json::json!(["0", "1"]));
    assert_eq!(
        v["seen"],
        serde_json::json!(["from-rust", "from-js-1", "from-js-2"])
    );
    // The JavaScript client writes a string body as JSON text in a data section.
    let stored: Vec<Option<Vec<u8>>> = e
        .events("hub", "0")
        .unwrap()
        .iter()
        .map(|ev| ev.body_bytes())
        .collect();
    assert_eq!(
        stored,
        [
            Some(b"from-rust".to_vec()),
            Some(b"\"from-js-1\"".to_vec()),
            Some(b"\"from-js-2\"".to_vec())
        ]
    );
}

#[tokio::test]
async fn javascript_consumers_share_checkpoints_in_blob_storage() {
    let azurite = tokio::task::spawn_blocking(iotc_adx_testkit::azurite::Azurite::start)
        .await
        .unwrap()
        .expect("azurite starts");
    let o = eh::EmulatorOptions::new("jsns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", 2))
        .with_sas_key("js", "anMta2V5LWZvci10ZXN0cw==");
    let e = eh::EventHubsEmulator::start(o).await.unwrap();
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(1));
    let container = format!("{}/js-checkpoints?{sas}", azurite.blob_endpoint());
    let cs = e.emulator_connection_string("js", "hub").unwrap();
    let out = js_support::node("eventhubs_checkpoints.cjs", vec![cs, container], Vec::new()).await;
    assert!(
        out.status.success(),
        "node failed:\n{}",
        js_support::text(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["first"], serde_json::json!(["a", "b", "c", "d"]));
    assert_eq!(
        v["second"],
        serde_json::json!(["e", "f"]),
        "resumed after the checkpoints"
    );
    assert_eq!(
        v["checkpoints"],
        serde_json::json!([{"partition": "0", "sequence": 2}, {"partition": "1", "sequence": 2}])
    );
}
