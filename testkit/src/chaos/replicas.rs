//! The replicas of a chaos run: `iotc-adx run` processes sharing one configuration (and so one
//! checkpoint container), each started, SIGKILLed and restarted on demand, with its output in
//! a log file per start.

use super::options::{ChaosOptions, Ingestion};
use crate::azurite::Azurite;
use crate::eventhubs::EventHubsEmulator;
use crate::kusto::KustoEmulator;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The deduplicating materialized view `provision` creates for streaming runs.
const DEDUPE_VIEW: &str =
    "[destination.dedupe_view]\nname = \"ChaosUnique\"\nkeys = [\"Partition\", \"Sequence\"]\n";

/// The view's name, for counting what it answers.
pub(super) const VIEW: &str = "ChaosUnique";

/// Writes the replicas' configuration; returns its path.
pub(super) fn write_config(
    options: &ChaosOptions,
    hub: &EventHubsEmulator,
    kusto: &KustoEmulator,
    azurite: &Azurite,
    (key_name, hub_name): (&str, &str),
) -> Result<PathBuf, String> {
    let dir = &options.work_dir;
    // Partition and sequence number identify an event: the deduplicating view (streaming) is
    // keyed on them, as the configuration guide recommends.
    std::fs::write(
        dir.join("t.jmespath"),
        "{EnqueuedTime: enqueuedTime, Device: deviceId, Partition: $meta.partition, \
         Sequence: $meta.sequenceNumber}",
    )
    .map_err(|e| e.to_string())?;
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(6));
    let cs = hub
        .connection_string(key_name, hub_name)
        .map_err(|e| e.to_string())?;
    // The table's batching policy, as provisioned (the service's minimum is 10 s): with it
    // the binary knows how long a taken-over partition's previous batches may take to commit.
    let policy = format!(
        "[destination.batching_policy]\nmax_time_s = {}\n",
        options.queued_batching_time.as_secs().max(10)
    );
    let (ingestion, batch) = match options.ingestion {
        Ingestion::Streaming => (
            "streaming",
            format!("max_rows = 500\nmax_age_ms = 200\n{DEDUPE_VIEW}"),
        ),
        Ingestion::Queued => (
            "queued",
            format!("max_rows = 2000\nmax_age_ms = 500\n{policy}"),
        ),
    };
    let text = format!(
        "[source]\ntype = \"eventhubs\"\nconnection_string = \"{cs}\"\ncustom_endpoint = \"{ep}\"\n\
         checkpoint_container = \"{blob}/chaos-checkpoints?{sas}\"\ncheckpoint_every_ms = {every}\n\
         balance_interval_ms = 500\n\
         [sink]\ntype = \"kusto\"\ncluster = \"{k}\"\nfailure_poll_ms = 1000\n\
         [sink.retry]\ninitial_backoff_ms = 100\nmax_backoff_ms = 2000\n\
         [auth]\ntype = \"none\"\n[dead_letter]\npath = \"dead-letter\"\n[log]\nlevel = \"warn\"\n\
         [[destination]]\nname = \"chaos\"\ntransform = \"t.jmespath\"\ndatabase = \"iot\"\ntable = \"Chaos\"\n\
         columns = \"EnqueuedTime:datetime, Device:string, Partition:string, Sequence:long\"\ningestion = \"{ingestion}\"\n\
         [destination.batch]\n{batch}",
        ep = hub.endpoint(),
        blob = azurite.blob_endpoint(),
        k = kusto.url(),
        every = options.checkpoint_every_ms,
    );
    let path = dir.join("iotc-adx.toml");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Runs `iotc-adx provision`.
pub(super) fn provision(binary: &Path, config: &Path) -> Result<(), String> {
    let out = Command::new(binary)
        .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
        .args(["provision", "--config"])
        .arg(config)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The running replicas.
pub(super) struct Replicas {
    binary: PathBuf,
    config: PathBuf,
    logs: PathBuf,
    children: Vec<Option<Child>>,
    starts: Vec<usize>,
}

impl Replicas {
    /// Starts `options.replicas` replicas.
    pub fn start(options: &ChaosOptions, config: &Path) -> std::io::Result<Replicas> {
        let mut replicas = Replicas {
            binary: options.binary.clone(),
            config: config.to_path_buf(),
            logs: options.work_dir.clone(),
            children: (0..options.replicas).map(|_| None).collect(),
            starts: vec![0; options.replicas],
        };
        for i in 0..options.replicas {
            replicas.restart(i)?;
        }
        Ok(replicas)
    }

    /// Starts replica `i` (again), logging to `replica-<i>-<start>.log`.
    pub fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.starts[i] += 1;
        let log = self
            .logs
            .join(format!("replica-{i}-{}.log", self.starts[i]));
        let file = std::fs::File::create(log)?;
        let child = Command::new(&self.binary)
            .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
            .env_remove("RUST_LOG")
            .args(["run", "--config"])
            .arg(&self.config)
            .current_dir(&self.logs)
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .spawn()?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// SIGKILLs replica `i` and reaps it.
    pub fn kill(&mut self, i: usize) -> std::io::Result<()> {
        if let Some(mut child) = self.children[i].take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Stops every replica with SIGTERM (a clean stop: final checkpoints) and returns their
    /// exit codes (`None`: killed by a signal, or not running).
    pub fn stop_all(&mut self) -> Vec<Option<i32>> {
        let mut codes = Vec::new();
        for child in self.children.iter_mut() {
            let Some(mut c) = child.take() else {
                codes.push(None);
                continue;
            };
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            codes.push(c.wait().ok().and_then(|s| s.code()));
        }
        codes
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
