//! Each fault the emulator handle injects, observed by the official Rust SDK: dropped
//! connections, a forced detach, delayed deliveries, refused connections and refused links.

use iotc_adx_testkit::eventhubs as eh;

use azure_messaging_eventhubs::models::EventData;
use azure_messaging_eventhubs::{
    ConsumerClient, OpenReceiverOptions, ProducerClient, StartLocation, StartPosition,
};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const KEY_NAME: &str = "k";
const KEY: &str = "ZmF1bHQta2V5";

async fn start() -> eh::EventHubsEmulator {
    let o = eh::EmulatorOptions::new("faultns.servicebus.windows.net")
        .with_event_hub(eh::EventHubOptions::new("hub", 2))
        .with_sas_key(KEY_NAME, KEY);
    eh::EventHubsEmulator::start(o).await.unwrap()
}

async fn consumer(e: &eh::EventHubsEmulator) -> ConsumerClient {
    ConsumerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string(KEY_NAME, "hub").unwrap(), None)
        .await
        .unwrap()
}

fn earliest() -> Option<OpenReceiverOptions> {
    Some(OpenReceiverOptions {
        start_position: Some(StartPosition {
            location: StartLocation::Earliest,
            inclusive: false,
        }),
        ..Default::default()
    })
}

/// The next event of `s` as (sequence number, body); panics on an error, the end of the
/// stream, or nothing within 20 s.
async fn next_event<
    S: futures::Stream<
            Item = azure_messaging_eventhubs::Result<
                azure_messaging_eventhubs::models::ReceivedEventData,
            >,
        > + Unpin,
>(
    s: &mut S,
) -> (Option<i64>, Vec<u8>) {
    match tokio::time::timeout(Duration::from_secs(20), s.next()).await {
        Ok(Some(Ok(ev))) => (
            ev.sequence_number(),
            ev.event_data().body().unwrap_or_default().to_vec(),
        ),
        Ok(Some(Err(err))) => panic!("the client reported the fault instead of recovering: {err}"),
        Ok(None) => panic!("the stream ended instead of recovering"),
        Err(_) => panic!("the client neither reported the fault nor recovered"),
    }
}

/// After a fault, the stream either reports it, or recovers on a new link (which replays from
/// the receiver's start position, so the next event is sequence number 0 again, not 1).
async fn fault_observed<
    S: futures::Stream<
            Item = azure_messaging_eventhubs::Result<
                azure_messaging_eventhubs::models::ReceivedEventData,
            >,
        > + Unpin,
>(
    s: &mut S,
    e: &eh::EventHubsEmulator,
) -> String {
    e.append("hub", "0", b"after-fault").unwrap();
    // The SDK reattaches from the receiver's start position (earliest): the first event comes
    // again, then the new one. Had the fault gone unnoticed, `after-fault` would come first.
    let recovered = next_event(s).await;
    assert_eq!(
        recovered,
        (Some(0), b"first".to_vec()),
        "reattached from the start"
    );
    assert_eq!(next_event(s).await, (Some(1), b"after-fault".to_vec()));
    assert_eq!(
        e.readers("hub", "$Default", "0"),
        1,
        "one live reader after the fault"
    );
    format!("recovered with seq {:?}", recovered.0)
}

#[tokio::test]
async fn dropping_the_readers_connection_is_seen() {
    let e = start().await;
    e.append("hub", "0", b"first").unwrap();
    let c = consumer(&e).await;
    let r = c
        .open_receiver_on_partition("0".into(), earliest())
        .await
        .unwrap();
    let s = r.stream_events();
    futures::pin_mut!(s);
    assert!(tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    assert_eq!(e.drop_connections_reading("hub", "1"), 0);
    assert_eq!(e.drop_connections_reading("hub", "0"), 1);
    let what = fault_observed(&mut s, &e).await;
    eprintln!("after drop: {what}");
}

#[tokio::test]
async fn dropping_all_connections_is_seen() {
    let e = start().await;
    let c = consumer(&e).await;
    let r = c
        .open_receiver_on_partition("0".into(), earliest())
        .await
        .unwrap();
    let s = r.stream_events();
    futures::pin_mut!(s);
    e.append("hub", "0", b"first").unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    assert!(e.drop_connections() >= 1);
    let what = fault_observed(&mut s, &e).await;
    eprintln!("after drop all: {what}");
}

#[tokio::test]
async fn forced_detach_is_seen() {
    let e = start().await;
    e.append("hub", "0", b"first").unwrap();
    let c = consumer(&e).await;
    let r = c
        .open_receiver_on_partition("0".into(), earliest())
        .await
        .unwrap();
    let s = r.stream_events();
    futures::pin_mut!(s);
    assert!(tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    let n = e.detach_receivers(
        "hub",
        Some("0"),
        eh::LinkFault::new("amqp:link:detach-forced", "test detach"),
    );
    assert_eq!(n, 1);
    let what = fault_observed(&mut s, &e).await;
    eprintln!("after detach: {what}");
}

#[tokio::test]
async fn delayed_deliveries_arrive_late() {
    let e = start().await;
    for i in 0..3 {
        e.append("hub", "1", format!("d{i}").as_bytes()).unwrap();
    }
    e.set_delivery_delay(Duration::from_millis(300));
    let c = consumer(&e).await;
    let t0 = Instant::now();
    let r = c
        .open_receiver_on_partition("1".into(), earliest())
        .await
        .unwrap();
    let s = r.stream_events();
    futures::pin_mut!(s);
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(10), s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "took only {:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn refused_connections_are_closed_at_once() {
    let e = start().await;
    e.refuse_connections_for(Duration::from_secs(30));
    let mut raw = tokio::net::TcpStream::connect(e.address()).await.unwrap();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the emulator must close a refused connection");
    let open = tokio::time::timeout(
        Duration::from_secs(3),
        ProducerClient::builder()
            .with_custom_endpoint(e.endpoint())
            .open_with_connection_string(&e.connection_string(KEY_NAME, "hub").unwrap(), None),
    )
    .await;
    let sent = match open {
        Ok(Ok(p)) => tokio::time::timeout(
            Duration::from_secs(3),
            p.send_event(EventData::builder().with_body(b"x".to_vec()).build(), None),
        )
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false),
        _ => false,
    };
    assert!(!sent, "no event can be sent while connections are refused");
    assert_eq!(e.connection_count(), 0);
}

#[tokio::test]
async fn refused_links_fail_sends() {
    let e = start().await;
    let p = ProducerClient::builder()
        .with_custom_endpoint(e.endpoint())
        .open_with_connection_string(&e.connection_string(KEY_NAME, "hub").unwrap(), None)
        .await
        .unwrap();
    e.refuse_links_for(
        Duration::from_secs(30),
        eh::LinkFault::new("com.microsoft:server-busy", "test busy"),
    );
    // The SDK retries for a while (about 15 s here) before it gives up.
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        p.send_event(EventData::builder().with_body(b"x".to_vec()).build(), None),
    )
    .await
    .expect("the send fails rather than hangs while links are refused");
    let err = r.expect_err("the send must fail while links are refused");
    // The emulator's refusal reaches the caller (not a hang, not another error).
    let text = err.to_string();
    assert!(
        text.contains("ServerBusyError") && text.contains("test busy"),
        "{text}"
    );
    assert!(e.events("hub", "0").unwrap().is_empty() && e.events("hub", "1").unwrap().is_empty());
}
