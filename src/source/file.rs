//! The file source: exported messages as JSON Lines (one message per line) from a file,
//! every `.jsonl`/`.ndjson`/`.json` file of a directory in name order, or standard input.
//!
//! It gives each line the metadata an Event Hub would: partition `file`, a sequence number
//! counting lines across all inputs, the line's byte offset in its file as offset, the read
//! time as enqueued time, an origin (`path:line`) for error messages, and the `iotcentral-*`
//! application properties IoT Central sets on every event, taken from the line's own header
//! fields. Lines are kept as raw bytes, so a line that is not UTF-8 still reaches the
//! dead-letter store intact.

pub mod settings;

pub use settings::FileInput;

use super::contract::{Source, SourceError};
use crate::checkpoint::NoCheckpoints;
use crate::event::{EventMeta, SourceEvent};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Reads JSON Lines inputs one after another.
pub struct FileSource {
    pending: VecDeque<PathBuf>,
    current: Option<Reader>,
    stdin: bool,
    sequence: i64,
}

struct Reader {
    name: String,
    lines: BufReader<Box<dyn AsyncRead + Unpin + Send>>,
    line: u64,
    offset: u64,
}

const EXTENSIONS: [&str; 3] = ["jsonl", "ndjson", "json"];

impl FileSource {
    /// Opens the input: for a directory, lists its JSON Lines files now, so a missing or
    /// empty input is reported before anything runs.
    pub fn open(input: &FileInput) -> Result<FileSource, SourceError> {
        let mut source = FileSource {
            pending: VecDeque::new(),
            current: None,
            stdin: false,
            sequence: 0,
        };
        match input {
            FileInput::Stdin => source.stdin = true,
            FileInput::Path(path) => source.pending = list_inputs(path)?,
        }
        Ok(source)
    }

    /// The files still to read (for the run plan).
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.pending.iter().map(PathBuf::as_path)
    }

    async fn advance(&mut self) -> Result<bool, SourceError> {
        if self.stdin {
            self.stdin = false;
            self.current = Some(Reader {
                name: "stdin".into(),
                lines: BufReader::new(Box::new(tokio::io::stdin())),
                line: 0,
                offset: 0,
            });
            return Ok(true);
        }
        let Some(path) = self.pending.pop_front() else {
            return Ok(false);
        };
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|source| io(&path, source))?;
        self.current = Some(Reader {
            name: path.display().to_string(),
            lines: BufReader::with_capacity(256 * 1024, Box::new(file)),
            line: 0,
            offset: 0,
        });
        Ok(true)
    }
}

fn io(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn list_inputs(path: &Path) -> Result<VecDeque<PathBuf>, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if !meta.is_dir() {
        return Ok(VecDeque::from([path.to_path_buf()]));
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
        let p = entry.map_err(|e| io(path, e))?.path();
        let wanted = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if wanted && p.is_file() {
            files.push(p);
        }
    }
    if files.is_empty() {
        let message = format!("the directory holds no .{} file", EXTENSIONS.join(", ."));
        return Err(io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, message),
        ));
    }
    files.sort();
    Ok(files.into())
}

/// The header fields IoT Central copies into each event's application properties.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(rename = "applicationId", borrow)]
    application_id: Option<Cow<'a, str>>,
    #[serde(rename = "deviceId", borrow)]
    device_id: Option<Cow<'a, str>>,
    #[serde(rename = "messageSource", borrow)]
    message_source: Option<Cow<'a, str>>,
    #[serde(rename = "messageType", borrow)]
    message_type: Option<Cow<'a, str>>,
}

/// The `iotcentral-*` properties IoT Central would have set on this event, as far as the body
/// tells; none when the body is not a JSON object with string header fields (decoding will
/// dead-letter it with the reason).
fn iot_central_properties(body: &[u8]) -> Map<String, Value> {
    let mut properties = Map::new();
    let Ok(header) = serde_json::from_slice::<Header<'_>>(body) else {
        return properties;
    };
    let fields = [
        ("iotcentral-application-id", header.application_id),
        ("iotcentral-device-id", header.device_id),
        ("iotcentral-message-source", header.message_source),
        ("iotcentral-message-type", header.message_type),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            properties.insert(name.to_string(), Value::String(v.into_owned()));
        }
    }
    properties
}

impl Source for FileSource {
    type Checkpointer = NoCheckpoints;

    fn checkpointer(&mut self) -> NoCheckpoints {
        NoCheckpoints
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<SourceEvent>>, SourceError> {
        let mut events = Vec::new();
        while events.len() < max.max(1) {
            if self.current.is_none() && !self.advance().await? {
                break;
            }
            let Some(reader) = self.current.as_mut() else {
                break;
            };
            let mut buf = Vec::new();
            let n = reader
                .lines
                .read_until(b'\n', &mut buf)
                .await
                .map_err(|source| SourceError::Io {
                    path: reader.name.clone(),
                    source,
                })?;
            if n == 0 {
                self.current = None;
                continue;
            }
            reader.line += 1;
            let offset = reader.offset;
            reader.offset += n as u64;
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue; // blank lines separate nothing and carry nothing
            }
            let properties = iot_central_properties(&buf);
            events.push(SourceEvent {
                body: buf,
                meta: EventMeta {
                    partition: "file".into(),
                    sequence_number: self.sequence,
                    offset: offset.to_string(),
                    enqueued_time: chrono::Utc::now(),
                    partition_key: None,
                    properties,
                    system_properties: Map::new(),
                    origin: Some(format!("{}:{}", reader.name, reader.line)),
                },
            });
            self.sequence += 1;
            // Hand over what we have rather than wait on a slow stream (standard input, a
            // pipe) for the batch to fill up.
            if reader.lines.buffer().is_empty() {
                break;
            }
        }
        Ok((!events.is_empty()).then_some(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(source: &mut FileSource) -> Vec<SourceEvent> {
        let mut all = Vec::new();
        while let Some(batch) = source.next_batch(2).await.unwrap() {
            assert!(batch.len() <= 2);
            all.extend(batch);
        }
        all
    }

    #[tokio::test]
    async fn reads_a_directory_in_name_order_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.jsonl"), b"{\"n\":3}\r\n").unwrap();
        std::fs::write(
            dir.path().join("a.jsonl"),
            b"{\"n\":1}\n\n  \n\xff\xfe\n{\"n\":2}",
        )
        .unwrap();
        std::fs::write(dir.path().join("ignored.txt"), b"nope\n").unwrap();
        let mut source = FileSource::open(&FileInput::Path(dir.path().to_path_buf())).unwrap();
        let events = read_all(&mut source).await;
        let bodies: Vec<&[u8]> = events.iter().map(|e| e.body.as_slice()).collect();
        assert_eq!(
            bodies,
            vec![&b"{\"n\":1}"[..], b"\xff\xfe", b"{\"n\":2}", b"{\"n\":3}"]
        );
        assert_eq!(
            events
                .iter()
                .map(|e| e.meta.sequence_number)
                .collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert!(events[1]
            .meta
            .origin
            .as_deref()
            .unwrap()
            .ends_with("a.jsonl:4"));
        assert_eq!(events[1].meta.offset, "12");
        assert!(events[3]
            .meta
            .origin
            .as_deref()
            .unwrap()
            .ends_with("b.jsonl:1"));
    }

    #[test]
    fn synthesises_the_iot_central_properties() {
        let p = iot_central_properties(br#"{"applicationId":"a","messageSource":"deviceConnectivity","messageType":"connected","deviceId":"d\u00e9","x":[1]}"#);
        assert_eq!(p["iotcentral-application-id"], "a");
        assert_eq!(p["iotcentral-device-id"], "d\u{e9}");
        assert_eq!(p["iotcentral-message-source"], "deviceConnectivity");
        assert_eq!(p["iotcentral-message-type"], "connected");
        assert!(iot_central_properties(br#"{"messageSource":"telemetry"}"#)
            .get("iotcentral-device-id")
            .is_none());
        assert!(iot_central_properties(b"[1]").is_empty());
        assert!(iot_central_properties(br#"{"deviceId": 7}"#).is_empty());
    }

    #[test]
    fn missing_and_empty_inputs_are_errors() {
        let e = FileSource::open(&FileInput::Path("/nonexistent/x.jsonl".into()))
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/x.jsonl"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = FileSource::open(&FileInput::Path(dir.path().to_path_buf()))
            .err()
            .unwrap();
        assert!(e.to_string().contains("holds no .jsonl"), "{e}");
    }
}
