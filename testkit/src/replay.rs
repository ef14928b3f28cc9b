//! Replays IoT Central export messages into an Event Hub at a chosen rate, through the
//! official Event Hubs SDK, as IoT Central's export would send them: each JSON message as one
//! event with the `iotcentral-*` application properties IoT Central sets. The demo uses it to
//! feed the real pipeline with realistic traffic.

use azure_messaging_eventhubs::models::EventData;
use azure_messaging_eventhubs::ProducerClient;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The sample files could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The Event Hub refused a batch.
    #[error("sending to the event hub failed: {0}")]
    Send(String),
}

/// How to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Messages per second (at least 1).
    pub rate_per_sec: f64,
    /// How many times to go through the messages; `None` for ever.
    pub loops: Option<u64>,
    /// Rewrite `enqueuedTime` to the send time, so rows look live.
    pub live_times: bool,
}

/// What a replay sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events sent.
    pub events: u64,
    /// Bytes of event bodies sent.
    pub bytes: u64,
}

/// Reads JSON Lines samples: a file, or every `.jsonl` file of a directory in name order.
/// Blank lines are skipped; every other line is sent as it is (broken ones included, so the
/// pipeline's dead-letter path gets exercised too).
pub fn load_messages(path: &Path) -> Result<Vec<Vec<u8>>, ReplayError> {
    let read_err = |p: &Path, source| ReplayError::Read {
        path: p.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| read_err(path, e))? {
            let p = entry.map_err(|e| read_err(path, e))?.path();
            if p.extension().is_some_and(|e| e == "jsonl") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut messages = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| read_err(&f, e))?;
        messages.extend(
            bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .map(<[u8]>::to_vec),
        );
    }
    Ok(messages)
}

/// The event IoT Central would send for this body.
pub fn to_event(body: &[u8], live_times: bool) -> EventData {
    let parsed: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    let body = match (&parsed, live_times) {
        (Some(Value::Object(map)), true) if map.contains_key("enqueuedTime") => {
            let mut map = map.clone();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            map.insert("enqueuedTime".into(), Value::String(now));
            serde_json::to_vec(&map).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    };
    let mut builder = EventData::builder()
        .with_body(body)
        .with_content_type("application/json".to_string());
    if let Some(Value::Object(map)) = &parsed {
        for (property, field) in [
            ("iotcentral-application-id", "applicationId"),
            ("iotcentral-device-id", "deviceId"),
            ("iotcentral-message-source", "messageSource"),
            ("iotcentral-message-type", "messageType"),
        ] {
            if let Some(Value::String(v)) = map.get(field) {
                builder = builder.add_property(property.to_string(), v.clone());
            }
        }
    }
    builder.build()
}

/// Sends `messages` through `producer` at `options.rate_per_sec`, in batches every 100 ms.
///
/// A batch that fails is built and sent again after a short backoff (the SDK reconnects on
/// the next call), up to four attempts, so a replay rides out a dropped connection; like any
/// at-least-once producer it may then send some events twice.
pub async fn replay(
    producer: &ProducerClient,
    messages: &[Vec<u8>],
    options: &ReplayOptions,
) -> Result<ReplayStats, ReplayError> {
    let mut stats = ReplayStats::default();
    if messages.is_empty() {
        return Ok(stats);
    }
    let tick = Duration::from_millis(100);
    let per_tick = (options.rate_per_sec.max(1.0) / 10.0).max(1.0);
    let started = Instant::now();
    let mut owed = 0.0;
    let mut next = 0usize;
    let mut loops_done = 0u64;
    loop {
        owed += per_tick;
        let mut due: Vec<&[u8]> = Vec::new();
        while owed >= 1.0 && options.loops.is_none_or(|l| loops_done < l) {
            due.push(&messages[next]);
            owed -= 1.0;
            next += 1;
            if next == messages.len() {
                next = 0;
                loops_done += 1;
            }
        }
        send_with_retries(producer, &due, options.live_times).await?;
        stats.events += due.len() as u64;
        stats.bytes += due.iter().map(|b| b.len() as u64).sum::<u64>();
        if options.loops.is_some_and(|l| loops_done >= l) {
            return Ok(stats);
        }
        let due_at = started + tick * (stats.events as f64 / per_tick).ceil() as u32;
        tokio::time::sleep_until(due_at.max(Instant::now()).into()).await;
    }
}

/// Sends bodies as events, in as many batches as they need, retrying the lot on failure.
async fn send_with_retries(
    producer: &ProducerClient,
    bodies: &[&[u8]],
    live_times: bool,
) -> Result<(), ReplayError> {
    const ATTEMPTS: u32 = 4;
    let mut attempt = 1;
    loop {
        match send_all(producer, bodies, live_times).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(attempt, error = %e, "sending to the event hub failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err(ReplayError::Send(e.to_string())),
        }
    }
}

async fn send_all(
    producer: &ProducerClient,
    bodies: &[&[u8]],
    live_times: bool,
) -> Result<(), String> {
    let mut rest = bodies;
    while !rest.is_empty() {
        let batch = producer
            .create_batch(None)
            .await
            .map_err(|e| e.to_string())?;
        let mut taken = 0;
        for body in rest {
            if !batch
                .try_add_event_data(to_event(body, live_times), None)
                .map_err(|e| e.to_string())?
            {
                break;
            }
            taken += 1;
        }
        if taken == 0 {
            // A single event larger than a batch can hold: Event Hubs refuses it, so does this.
            return Err("an event is larger than the largest batch".into());
        }
        producer
            .send_batch(batch, None)
            .await
            .map_err(|e| e.to_string())?;
        rest = &rest[taken..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_iot_central_properties() {
        let body = br#"{"applicationId":"a","messageSource":"telemetry","deviceId":"d1","enqueuedTime":"2020-01-01T00:00:00Z","telemetry":{}}"#;
        let event = to_event(body, true);
        let props = event.properties().unwrap();
        assert_eq!(props.len(), 3);
        assert!(props.contains_key("iotcentral-device-id"));
        let sent: Value = serde_json::from_slice(event.body().unwrap()).unwrap();
        assert_ne!(
            sent["enqueuedTime"], "2020-01-01T00:00:00Z",
            "live times rewrite enqueuedTime"
        );
        let broken = to_event(b"not json", true);
        assert_eq!(broken.body().unwrap(), b"not json");
        assert!(broken.properties().is_none_or(|p| p.is_empty()));
    }

    #[test]
    fn loads_the_quick_start_samples() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data");
        let messages = load_messages(&dir).unwrap();
        assert_eq!(messages.len(), 56);
    }
}
