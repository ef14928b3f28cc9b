//! Builds what runs reports from their settings: one Data Explorer client per cluster (with
//! the configured credential), each report's webhooks and e-mails, and the history file.

use super::deliver::email::TransportError;
use super::deliver::{Delivery, EmailDelivery, WebhookDelivery};
use super::history::{History, HistoryError};
use super::history_table::HistoryTable;
use super::run::Runner;
use super::settings::{ReportSettings, ReportsSettings, MAX_TIMEOUT};
use azure_core::credentials::TokenCredential;
use iotc_adx_kusto::{ClientOptions, KustoClient, KustoError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Why reports cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The history file cannot be opened.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// A Data Explorer client cannot be built.
    #[error("cannot set up the Data Explorer client for {cluster}: {source}")]
    Client {
        /// The engine URL.
        cluster: String,
        /// Why.
        #[source]
        source: KustoError,
    },
    /// The HTTP client for webhooks cannot be built.
    #[error("cannot build the HTTP client for webhooks: {0}")]
    Http(#[source] reqwest::Error),
    /// The mail server connection cannot be set up (a bad CA file, say).
    #[error(transparent)]
    Mail(#[from] TransportError),
}

/// The Data Explorer client for `report`'s cluster.
pub fn client(
    report: &ReportSettings,
    credential: Option<Arc<dyn TokenCredential>>,
) -> Result<KustoClient, SetupError> {
    KustoClient::new(ClientOptions {
        credential,
        timeout: MAX_TIMEOUT,
        app: "iotc-adx.reports".into(),
        ..ClientOptions::new(report.cluster.clone())
    })
    .map_err(|source| SetupError::Client {
        cluster: report.cluster.to_string(),
        source,
    })
}

/// A runner for `settings`, signing in to Data Explorer with `credential`.
pub fn runner(
    settings: &ReportsSettings,
    credential: Option<Arc<dyn TokenCredential>>,
) -> Result<Runner, SetupError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(SetupError::Http)?;
    let mut clients = HashMap::new();
    for r in &settings.reports {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            clients.entry(r.cluster.as_str().to_string())
        {
            slot.insert(client(r, credential.clone())?);
        }
    }
    let smtp = settings.smtp.clone().map(Arc::new);
    let mut deliveries: HashMap<String, Vec<Box<dyn Delivery>>> = HashMap::new();
    for r in &settings.reports {
        let mut list: Vec<Box<dyn Delivery>> = r
            .webhooks
            .iter()
            .map(|w| Box::new(WebhookDelivery::new(w.clone(), http.clone())) as Box<dyn Delivery>)
            .collect();
        // Validation refuses e-mails without [reports.smtp].
        if let Some(smtp) = &smtp {
            for e in &r.emails {
                let d = EmailDelivery::new(e.clone(), smtp.clone(), r.time_zone)?;
                list.push(Box::new(d));
            }
        }
        deliveries.insert(r.name.clone(), list);
    }
    let history = Arc::new(History::open(&settings.history.path)?);
    let runner = Runner::new(clients, deliveries, http, history, settings.history.clone());
    let Some(t) = &settings.history.table else {
        return Ok(runner);
    };
    let client = KustoClient::new(ClientOptions {
        credential,
        app: "iotc-adx.reports".into(),
        ..ClientOptions::new(t.cluster.clone())
    })
    .map_err(|source| SetupError::Client {
        cluster: t.cluster.to_string(),
        source,
    })?;
    let table = HistoryTable::new(client, t.database.clone(), t.table.clone());
    Ok(runner.with_history_table(table))
}
