//! The emulator's handle and options: starting the HTTP server (and, with storage, the queued
//! ingestion worker), the URL, state access for assertions, fault injection and the request
//! log. Everything stops when the handle drops.

use super::faults::{Fault, Faults};
use super::log::{LoggedRequest, RequestLog};
use super::shared::{KustoOptions, Shared, StorageMode};
use super::state::{ClusterState, Database, Table};
use super::storage::Storage;
use super::Azurite;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Why the emulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding or serving failed.
    #[error("cannot start the Data Explorer emulator: {0}")]
    Io(#[from] std::io::Error),
    /// Azurite could not be started or prepared.
    #[error("cannot prepare storage for queued ingestion: {0}")]
    Storage(String),
}

/// A running emulator; stops when dropped.
#[derive(Debug)]
pub struct KustoEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl KustoEmulator {
    /// Binds 127.0.0.1 on a free port and serves.
    pub async fn start(options: KustoOptions) -> Result<KustoEmulator, StartError> {
        let azurite = match &options.storage {
            StorageMode::None => None,
            StorageMode::Shared(a) => Some(a.clone()),
            StorageMode::Own => Some(Arc::new(
                tokio::task::spawn_blocking(Azurite::start)
                    .await
                    .map_err(|e| StartError::Storage(e.to_string()))?
                    .map_err(|e| StartError::Storage(e.to_string()))?,
            )),
        };
        // A shared Azurite gets per-emulator queue and container names.
        let suffix = match &options.storage {
            StorageMode::Shared(_) => {
                format!("-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
            }
            _ => String::new(),
        };
        let storage = match azurite {
            Some(a) => Some(
                Storage::prepare(a, &suffix)
                    .await
                    .map_err(|e| StartError::Storage(e.to_string()))?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let mut state = ClusterState::default();
        for db in &options.databases {
            state.databases.insert(db.clone(), Database::default());
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            options,
            url,
            faults: Faults::default(),
            log: RequestLog::default(),
            storage,
            identity_token: format!("emulator-identity-{}", uuid::Uuid::new_v4()),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(super::server::serve(
            listener,
            shared.clone(),
            stopped.clone(),
        ))];
        if shared.storage.is_some() {
            tasks.push(tokio::spawn(super::queued::run(shared.clone(), stopped)));
        }
        tracing::info!(%addr, "Data Explorer emulator listening");
        Ok(KustoEmulator {
            shared,
            addr,
            stop,
            tasks,
        })
    }

    /// `http://127.0.0.1:<port>`: the engine and ingestion endpoint.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Azurite behind queued ingestion, if any.
    pub fn azurite(&self) -> Option<&Azurite> {
        self.shared.storage.as_ref().map(|s| s.azurite.as_ref())
    }

    /// The cluster state, locked (do not hold it across an await).
    pub fn state(&self) -> MutexGuard<'_, ClusterState> {
        self.shared.state()
    }

    /// The rows of `db.table` (empty when missing).
    pub fn rows(&self, db: &str, table: &str) -> Vec<Vec<serde_json::Value>> {
        self.state().rows(db, table)
    }

    /// What materialized view `db.view` answers with now (its query over its source), or why
    /// it cannot.
    pub fn view(&self, db: &str, view: &str) -> Result<super::kql::DataTable, String> {
        let state = self.state();
        let database = state.databases.get(db).ok_or(format!("no database {db}"))?;
        let catalog =
            super::views::ViewCatalog::for_query(database, view).map_err(|e| e.message)?;
        super::kql::execute(view, &catalog).map_err(|e| e.message)
    }

    /// Runs control command `csl` in database `db` through the emulator's HTTP endpoint, as a
    /// client would (for setting up benches and tests); the response body when it fails.
    pub async fn control(&self, db: &str, csl: &str) -> Result<(), String> {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/rest/mgmt", self.url()))
            .json(&serde_json::json!({"db": db, "csl": csl}))
            .send()
            .await
            .map_err(|e| format!("{csl}: {e}"))?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        Err(format!(
            "{csl}: {status} {}",
            response.text().await.unwrap_or_default()
        ))
    }

    /// Creates a database (no-op when it exists).
    pub fn create_database(&self, name: &str) {
        self.state().databases.entry(name.into()).or_default();
    }

    /// Creates (or replaces) a table with (name, kind) columns.
    pub fn create_table(&self, db: &str, table: &str, columns: &[(&str, &str)]) {
        let columns: Vec<(String, String)> = columns
            .iter()
            .map(|(n, k)| ((*n).into(), (*k).into()))
            .collect();
        self.state()
            .databases
            .entry(db.into())
            .or_default()
            .tables
            .insert(table.into(), Table::new(table, &columns));
    }

    /// Sets a table's streaming policy (a fault: turn it off under a running client).
    pub fn set_table_streaming(&self, db: &str, table: &str, enabled: bool) {
        if let Some(t) = self.state().table_mut(db, table) {
            t.streaming = Some(enabled);
        }
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.arm(fault);
    }

    /// Disarms all faults.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Makes `.get ingestion resources` hand out SAS valid only for `lifetime` (`None`: the
    /// configured lifetime again).
    pub fn set_sas_lifetime(&self, lifetime: Option<Duration>) {
        self.shared.faults.set_sas_lifetime(lifetime);
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.snapshot()
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for KustoEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}
