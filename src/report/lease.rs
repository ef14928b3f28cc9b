//! One replica runs each scheduled time: a [`Gate`] on Azure blob leases. Each report has a
//! blob `iotc-adx-reports/<name>` in the lease container (by default the Event Hubs
//! checkpoint container). A replica runs a scheduled time only if it takes the blob's lease
//! and the blob's `lastscheduled` metadata is older than that time; it renews the lease while
//! it runs, then writes the time under the lease and releases it. Others find the lease taken
//! or the time already done. If storage cannot be reached the replica runs anyway and says so:
//! a report sent twice beats an alert never sent.

use super::scheduler::{Gate, Ticket};
use super::settings::ReportsSettings;
use azure_core::credentials::TokenCredential;
use chrono::{DateTime, Utc};
use iotc_adx_storage::{
    ClientOptions, Condition, Lease, ResourceUrl, StorageAuth, StorageClient, StorageError,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long a lease lasts without renewal: a replica that dies frees it this soon.
const LEASE: Duration = Duration::from_secs(30);
/// How often a running replica renews it.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The metadata key holding the last scheduled time run, in Unix milliseconds.
const DONE_KEY: &str = "lastscheduled";

/// Why the lease cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The container URL cannot be used.
    #[error("[reports] lease container: {0}")]
    Container(#[source] StorageError),
    /// A URL without a SAS needs a credential.
    #[error("[reports] lease container {0} has no SAS and [auth] gives no credential: add a SAS to the URL or configure [auth]")]
    NoCredential(String),
}

/// The lease gate for `settings`, or `None` when no lease container is configured.
pub fn gate(
    settings: &ReportsSettings,
    credential: Option<Arc<dyn TokenCredential>>,
) -> Result<Option<Arc<dyn Gate>>, LeaseError> {
    let Some(url) = &settings.lease_container else {
        return Ok(None);
    };
    let has_sas = url.query().is_some_and(|q| q.contains("sig="));
    let auth = match (has_sas, credential) {
        (true, _) => StorageAuth::Sas,
        (false, Some(c)) => StorageAuth::Token(c),
        (false, None) => {
            return Err(LeaseError::NoCredential(iotc_adx_storage::without_query(
                url,
            )))
        }
    };
    let client =
        StorageClient::new(auth, None, ClientOptions::default()).map_err(LeaseError::Container)?;
    let container = client
        .resource(url.clone())
        .map_err(LeaseError::Container)?;
    Ok(Some(Arc::new(LeaseGate {
        client,
        container,
        created: OnceCell::new(),
    })))
}

/// Leases in one blob container.
pub struct LeaseGate {
    client: StorageClient,
    container: ResourceUrl,
    created: OnceCell<()>,
}

impl LeaseGate {
    /// A gate on `container` through `client`.
    pub fn new(client: StorageClient, container: ResourceUrl) -> Self {
        LeaseGate {
            client,
            container,
            created: OnceCell::new(),
        }
    }

    async fn try_claim(
        &self,
        report: &str,
        scheduled: DateTime<Utc>,
    ) -> Result<Option<LeasedRun>, StorageError> {
        self.created
            .get_or_try_init(|| async {
                self.client
                    .create_container("create the report lease container", &self.container)
                    .await
                    .map(|_| ())
            })
            .await?;
        let blob = format!("iotc-adx-reports/{report}");
        let c = &self.client;
        let Some(lease) = c
            .acquire_lease("lease a report run", &self.container, &blob, LEASE)
            .await?
        else {
            return Ok(None);
        };
        let done = c
            .get_blob("read a report's last run", &self.container, &blob)
            .await?
            .metadata
            .into_iter()
            .find(|(k, _)| k == DONE_KEY)
            .and_then(|(_, v)| v.parse::<i64>().ok());
        if done.is_some_and(|d| d >= scheduled.timestamp_millis()) {
            let _ = c
                .release_lease("release a report lease", &self.container, &blob, &lease)
                .await;
            return Ok(None);
        }
        let renewer = tokio::spawn(renew(
            c.clone(),
            self.container.clone(),
            blob.clone(),
            lease.clone(),
        ));
        Ok(Some(LeasedRun {
            client: c.clone(),
            container: self.container.clone(),
            blob,
            lease,
            scheduled,
            renewer,
        }))
    }
}

#[async_trait::async_trait]
impl Gate for LeaseGate {
    async fn claim(&self, report: &str, scheduled: DateTime<Utc>) -> Option<Box<dyn Ticket>> {
        match self.try_claim(report, scheduled).await {
            Ok(Some(run)) => Some(Box::new(run)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(report, error = %e, "cannot take the report's lease; running without it (another replica may run it too)");
                Some(Box::new(Unleased))
            }
        }
    }
}

async fn renew(client: StorageClient, container: ResourceUrl, blob: String, lease: Lease) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        if let Err(e) = client
            .renew_lease("renew a report lease", &container, &blob, &lease)
            .await
        {
            tracing::warn!(blob, error = %e, "cannot renew the report's lease");
        }
    }
}

/// A run holding its report's lease.
struct LeasedRun {
    client: StorageClient,
    container: ResourceUrl,
    blob: String,
    lease: Lease,
    scheduled: DateTime<Utc>,
    renewer: tokio::task::JoinHandle<()>,
}

#[async_trait::async_trait]
impl Ticket for LeasedRun {
    async fn done(self: Box<Self>) {
        self.renewer.abort();
        let done = self.scheduled.timestamp_millis().to_string();
        let condition = Condition::Leased(self.lease.id.clone());
        let c = &self.client;
        if let Err(e) = c
            .set_blob_metadata(
                "record a report's last run",
                &self.container,
                &self.blob,
                &[(DONE_KEY, done.as_str())],
                &condition,
            )
            .await
        {
            tracing::warn!(blob = %self.blob, error = %e, "cannot record the run on the report's lease blob");
        }
        if let Err(e) = c
            .release_lease(
                "release a report lease",
                &self.container,
                &self.blob,
                &self.lease,
            )
            .await
        {
            tracing::debug!(blob = %self.blob, error = %e, "cannot release the report's lease (it expires)");
        }
    }
}

/// A run without a lease (storage could not be reached).
struct Unleased;

#[async_trait::async_trait]
impl Ticket for Unleased {
    async fn done(self: Box<Self>) {}
}
