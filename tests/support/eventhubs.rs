//! The stand-ins an Event Hubs run needs (the Event Hubs emulator, Azurite for checkpoints, the
//! Data Explorer emulator), a configuration for `iotc-adx run` against them, the binary as a
//! child process, the checkpoint container's blobs as stored, and the official Python SDK
//! scripts of `tests/python/` as child processes.

use iotc_adx_testkit::azurite::{Azurite, ACCOUNT, ACCOUNT_KEY};
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::kusto::{KustoEmulator, KustoOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The namespace every test here uses.
pub const NAMESPACE: &str = "iotc.servicebus.windows.net";
/// The shared access key's name and value.
pub const KEY_NAME: &str = "listen";
const KEY: &str = "aW90Yy1hZHgtdGVzdC1rZXk=";
/// The checkpoint container.
pub const CONTAINER: &str = "checkpoints";

/// The three stand-ins.
pub struct StandIns {
    pub hub: EventHubsEmulator,
    pub kusto: KustoEmulator,
    pub azurite: Azurite,
}

impl StandIns {
    /// One hub named `hub` with `partitions` partitions and the extra consumer `groups`.
    pub async fn start(hub: &str, partitions: u32, groups: &[&str]) -> StandIns {
        let mut options = EventHubOptions::new(hub, partitions);
        for g in groups {
            options = options.with_consumer_group(g);
        }
        let hub = EventHubsEmulator::start(
            EmulatorOptions::new(NAMESPACE)
                .with_event_hub(options)
                .with_sas_key(KEY_NAME, KEY),
        )
        .await
        .expect("event hubs emulator");
        let kusto = KustoEmulator::start(KustoOptions {
            databases: vec!["iot".into()],
            ..Default::default()
        })
        .await
        .expect("kusto emulator");
        let azurite = tokio::task::spawn_blocking(Azurite::start)
            .await
            .unwrap()
            .expect("azurite");
        azurite
            .create_container(CONTAINER)
            .await
            .expect("container");
        StandIns {
            hub,
            kusto,
            azurite,
        }
    }

    /// An Azure Storage connection string for Azurite, as the Python SDKs take it.
    pub fn storage_connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint={};",
            self.azurite.blob_endpoint()
        )
    }

    /// The Event Hubs connection string for `hub` naming the namespace, plain AMQP (for Python).
    pub fn python_connection_string(&self, hub: &str) -> String {
        self.hub.connection_string(KEY_NAME, hub).unwrap() + ";UseDevelopmentEmulator=true"
    }

    /// The emulator's address as Python's `custom_endpoint_address` wants it.
    pub fn python_endpoint(&self) -> String {
        format!("sb://{}", self.hub.address())
    }

    /// Writes `iotc-adx.toml` (and `t.jmespath` holding `transform`) into `dir`: the hub
    /// `hub`, `source` lines added to `[source]`, one streaming destination `iot.Events` with
    /// `columns`. Returns the configuration's path.
    pub fn config(
        &self,
        dir: &Path,
        hub: &str,
        source: &str,
        transform: &str,
        columns: &str,
    ) -> PathBuf {
        std::fs::write(dir.join("t.jmespath"), transform).unwrap();
        let sas = self
            .azurite
            .account_sas(chrono::Utc::now() + chrono::Duration::hours(2));
        let text = format!(
            "[source]\ntype = \"eventhubs\"\nconnection_string = \"{cs}\"\ncustom_endpoint = \"{ep}\"\n\
             checkpoint_container = \"{blob}/{CONTAINER}?{sas}\"\ncheckpoint_every_ms = 100\nbalance_interval_ms = 500\n{source}\n\
             [sink]\ntype = \"kusto\"\ncluster = \"{k}\"\n[auth]\ntype = \"none\"\n[dead_letter]\npath = \"dl\"\n[log]\nlevel = \"warn\"\n\
             [[destination]]\nname = \"events\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Events\"\n\
             columns = \"{columns}\"\ningestion = \"streaming\"\n[destination.batch]\nmax_age_ms = 50\n",
            cs = self.hub.connection_string(KEY_NAME, hub).unwrap(),
            ep = self.hub.endpoint(),
            blob = self.azurite.blob_endpoint(),
            k = self.kusto.url(),
        );
        let path = dir.join("iotc-adx.toml");
        std::fs::write(&path, text).unwrap();
        let provision = Command::new(env!("CARGO_BIN_EXE_iotc-adx"))
            .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
            .args(["provision", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            provision.status.success(),
            "provision: {}",
            String::from_utf8_lossy(&provision.stderr)
        );
        path
    }

    /// The rows of `iot.Events`.
    pub fn rows(&self) -> Vec<Vec<Value>> {
        self.kusto.rows("iot", "Events")
    }

    /// Every blob of the checkpoint container: name → metadata (read with plain Blob REST,
    /// not through iotc-adx's store).
    pub async fn blobs(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let url = format!(
            "{}/{CONTAINER}?restype=container&comp=list&include=metadata&{}",
            self.azurite.blob_endpoint(),
            self.azurite
                .account_sas(chrono::Utc::now() + chrono::Duration::hours(1))
        );
        let r = reqwest::Client::new()
            .get(url)
            .header("x-ms-version", "2021-08-06")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        parse_listing(&r.text().await.unwrap())
    }
}

/// The text between `<tag>` and `</tag>` in `s`, if any.
fn element<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let start = s.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = s[start..].find(&format!("</{tag}>"))? + start;
    Some(&s[start..end])
}

/// Blob names and metadata from a List Blobs answer (metadata values are plain text here).
fn parse_listing(xml: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for blob in xml.split("<Blob>").skip(1) {
        let name = element(blob, "Name").unwrap_or_default().to_string();
        let mut metadata = BTreeMap::new();
        let mut rest = element(blob, "Metadata").unwrap_or_default();
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let tag = &rest[open + 1..open + close];
            if tag.ends_with('/') {
                metadata.insert(tag.trim_end_matches('/').to_string(), String::new());
                rest = &rest[open + close + 1..];
                continue;
            }
            let value = element(&rest[open..], tag).unwrap_or_default();
            metadata.insert(tag.to_string(), value.to_string());
            let end = rest
                .find(&format!("</{tag}>"))
                .map_or(rest.len(), |e| e + tag.len() + 3);
            rest = &rest[end..];
        }
        out.insert(name, metadata);
    }
    out
}

/// Waits until `done`, polling every 50 ms; fails the test after `secs` with `what` and
/// `context()`.
pub async fn wait_until(
    what: &str,
    secs: u64,
    mut done: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A child process whose standard error is collected, standard output collected as lines,
/// and standard input held open until [`Process::stop`].
pub struct Process {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Process {
    fn spawn(mut cmd: Command) -> Process {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the process starts");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (o, e) = (stdout.clone(), stderr.clone());
        let readers = vec![
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    o.lock().unwrap().push(line);
                }
            }),
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    e.lock().unwrap().push_str(&(line + "\n"));
                }
            }),
        ];
        Process {
            child,
            stdin,
            stdout,
            stderr,
            readers,
        }
    }

    /// `iotc-adx run --config config`.
    pub fn iotc_adx(config: &Path) -> Process {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iotc-adx"));
        cmd.env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
            .env_remove("RUST_LOG")
            .args(["run", "--config"])
            .arg(config);
        Process::spawn(cmd)
    }

    /// `tests/python/<script>` with `args`, in the testkit's Python environment.
    pub fn python(script: &str, args: &[&str]) -> Process {
        let python = iotc_adx_testkit::python::python().expect("python venv");
        let mut cmd = Command::new(python);
        cmd.arg(super::repo().join("tests/python").join(script))
            .args(args);
        Process::spawn(cmd)
    }

    /// The lines of standard output so far, parsed as JSON (other lines are skipped).
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Standard output and standard error so far, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Closes standard input (and, with `term`, sends SIGTERM), then waits at most `secs`
    /// for the exit.
    pub fn stop(&mut self, term: bool, secs: u64) -> ExitStatus {
        self.stdin = None;
        if term {
            self.terminate();
        }
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipes end with the process: what it wrote last is read in.
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("no exit within {secs} s\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
