//! What queued ingestion needs from the data-management endpoint, cached: the storage URLs of
//! `.get ingestion resources` and the opaque `.get kusto identity token`, each kept an hour
//! (as the SDKs do) and dropped early when a call shows them stale. Also the account rotation:
//! several TempStorage or queue rows are several storage accounts, used round-robin, and an
//! account that just failed is skipped for a while.

use super::error::{ErrorKind, KustoError};
use super::response::Dataset;
use super::transport::Transport;
use iotc_adx_storage::ResourceUrl;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long fetched resources and identity tokens are used.
pub(super) const CACHE_TTL: Duration = Duration::from_secs(3600);
/// How long an account that failed is skipped while others are available.
pub(super) const ACCOUNT_PENALTY: Duration = Duration::from_secs(60);

/// The rows of `.get ingestion resources`, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct IngestionResources {
    /// `TempStorage`: containers for the data blobs.
    pub temp_storage: Vec<ResourceUrl>,
    /// `SecuredReadyForAggregationQueue`: where ingestion messages go.
    pub queues: Vec<ResourceUrl>,
    /// `FailedIngestionsQueue`: failure reports.
    pub failed_queues: Vec<ResourceUrl>,
    /// `SuccessfulIngestionsQueue`: success reports.
    pub success_queues: Vec<ResourceUrl>,
    /// Which fetch these came from (to drop exactly these when they turn out stale).
    pub generation: u64,
}

impl IngestionResources {
    /// Reads the command's table (`ResourceTypeName`, `StorageRoot`).
    pub fn from_dataset(d: &Dataset) -> Result<IngestionResources, String> {
        let t = d.primary().ok_or("the answer has no table")?;
        let kind_col = t
            .column("ResourceTypeName")
            .ok_or("no ResourceTypeName column")?;
        let root_col = t.column("StorageRoot").ok_or("no StorageRoot column")?;
        let mut out = IngestionResources::default();
        for row in &t.rows {
            let (Some(kind), Some(root)) = (
                row.get(kind_col).and_then(|v| v.as_str()),
                row.get(root_col).and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            let list = match kind {
                "TempStorage" => &mut out.temp_storage,
                "SecuredReadyForAggregationQueue" => &mut out.queues,
                "FailedIngestionsQueue" => &mut out.failed_queues,
                "SuccessfulIngestionsQueue" => &mut out.success_queues,
                _ => continue,
            };
            // The URL is not quoted back: it holds a SAS.
            list.push(
                ResourceUrl::parse(root)
                    .map_err(|e| format!("a {kind} URL cannot be used: {e}"))?,
            );
        }
        if out.temp_storage.is_empty() || out.queues.is_empty() {
            return Err("no TempStorage or no SecuredReadyForAggregationQueue rows".into());
        }
        Ok(out)
    }
}

/// One cached value and when it was fetched.
#[derive(Debug)]
struct Entry<T> {
    value: T,
    fetched: Instant,
}

/// The cache of resources and identity token for one data-management endpoint.
#[derive(Debug)]
pub(super) struct ResourceCache {
    transport: Arc<Transport>,
    endpoint: url::Url,
    resources: tokio::sync::Mutex<Option<Entry<Arc<IngestionResources>>>>,
    token: tokio::sync::Mutex<Option<Entry<String>>>,
    generations: AtomicU64,
}

impl ResourceCache {
    pub fn new(transport: Arc<Transport>, endpoint: url::Url) -> Self {
        ResourceCache {
            transport,
            endpoint,
            resources: tokio::sync::Mutex::new(None),
            token: tokio::sync::Mutex::new(None),
            generations: AtomicU64::new(0),
        }
    }

    /// The data-management endpoint.
    pub fn endpoint(&self) -> &url::Url {
        &self.endpoint
    }

    /// The ingestion resources, fetched when missing or older than [`CACHE_TTL`]. Concurrent
    /// callers wait for one fetch.
    pub async fn resources(&self) -> Result<Arc<IngestionResources>, KustoError> {
        let mut slot = self.resources.lock().await;
        if let Some(e) = slot.as_ref().filter(|e| e.fetched.elapsed() < CACHE_TTL) {
            return Ok(e.value.clone());
        }
        let d = self
            .transport
            .command(
                &self.endpoint,
                "NetDefaultDB",
                ".get ingestion resources",
                false,
            )
            .await?;
        let mut resources = IngestionResources::from_dataset(&d).map_err(|m| {
            KustoError::new(ErrorKind::Transient, "get ingestion resources")
                .with_target("POST", self.endpoint.as_str())
                .with_message(m)
        })?;
        resources.generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let value = Arc::new(resources);
        *slot = Some(Entry {
            value: value.clone(),
            fetched: Instant::now(),
        });
        Ok(value)
    }

    /// Drops the cached resources if they are still those of `generation` (a caller found
    /// them stale: expired SAS, missing queue); the next [`ResourceCache::resources`] fetches.
    pub async fn invalidate_resources(&self, generation: u64) {
        let mut slot = self.resources.lock().await;
        if slot
            .as_ref()
            .is_some_and(|e| e.value.generation == generation)
        {
            *slot = None;
        }
    }

    /// The identity token, fetched when missing or older than [`CACHE_TTL`].
    pub async fn identity_token(&self) -> Result<String, KustoError> {
        let mut slot = self.token.lock().await;
        if let Some(e) = slot.as_ref().filter(|e| e.fetched.elapsed() < CACHE_TTL) {
            return Ok(e.value.clone());
        }
        let d = self
            .transport
            .command(
                &self.endpoint,
                "NetDefaultDB",
                ".get kusto identity token",
                false,
            )
            .await?;
        let token = d
            .primary()
            .and_then(|t| {
                let col = t.column("AuthorizationContext").unwrap_or(0);
                t.rows.first()?.get(col)?.as_str().map(str::to_string)
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                KustoError::new(ErrorKind::Transient, "get kusto identity token")
                    .with_target("POST", self.endpoint.as_str())
                    .with_message("the answer holds no AuthorizationContext")
            })?;
        *slot = Some(Entry {
            value: token.clone(),
            fetched: Instant::now(),
        });
        Ok(token)
    }
}

/// Round-robin over storage accounts, skipping those that failed recently.
#[derive(Debug)]
pub(super) struct Accounts {
    next: AtomicUsize,
    penalties: Mutex<HashMap<String, Instant>>,
}

impl Default for Accounts {
    /// Starts the rotation at a random place, so that many instances do not all begin with
    /// the first account.
    fn default() -> Self {
        Accounts {
            next: AtomicUsize::new(fastrand::usize(..1024)),
            penalties: Mutex::new(HashMap::new()),
        }
    }
}

impl Accounts {
    /// The next URL of `list` whose account is not being skipped (if all are, the next one).
    pub fn pick<'a>(&self, list: &'a [ResourceUrl]) -> Option<&'a ResourceUrl> {
        if list.is_empty() {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let penalties = self.penalties.lock().map(|p| p.clone()).unwrap_or_default();
        (0..list.len())
            .map(|i| &list[(start + i) % list.len()])
            .find(|u| {
                penalties
                    .get(&u.account())
                    .is_none_or(|until| *until <= now)
            })
            .or_else(|| list.get(start % list.len()))
    }

    /// Skips `account` for [`ACCOUNT_PENALTY`].
    pub fn penalize(&self, account: &str) {
        if let Ok(mut p) = self.penalties.lock() {
            p.insert(account.to_string(), Instant::now() + ACCOUNT_PENALTY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{Column, Table};
    use serde_json::json;

    fn sas(u: &str) -> ResourceUrl {
        ResourceUrl::parse(u).unwrap()
    }

    #[test]
    fn resources_are_read_by_kind() {
        let t = Table {
            name: "Table_0".into(),
            kind: None,
            columns: vec![
                Column {
                    name: "ResourceTypeName".into(),
                    r#type: "String".into(),
                },
                Column {
                    name: "StorageRoot".into(),
                    r#type: "String".into(),
                },
            ],
            rows: vec![
                vec![
                    json!("SecuredReadyForAggregationQueue"),
                    json!("https://a.queue.core.windows.net/ready?sig=1"),
                ],
                vec![
                    json!("TempStorage"),
                    json!("https://a.blob.core.windows.net/temp?sig=2"),
                ],
                vec![
                    json!("TempStorage"),
                    json!("https://b.blob.core.windows.net/temp?sig=3"),
                ],
                vec![
                    json!("FailedIngestionsQueue"),
                    json!("https://a.queue.core.windows.net/failed?sig=4"),
                ],
                vec![
                    json!("IngestionsStatusTable"),
                    json!("https://a.table.core.windows.net/status?sig=5"),
                ],
            ],
        };
        let r = IngestionResources::from_dataset(&Dataset {
            tables: vec![t.clone()],
        })
        .unwrap();
        assert_eq!(r.temp_storage.len(), 2);
        assert!(r.queues[0].has_sas());
        assert_eq!(
            r.queues[0].display(),
            "https://a.queue.core.windows.net/ready"
        );
        assert_eq!(r.failed_queues.len(), 1);
        assert!(r.success_queues.is_empty());
        let mut bad = t;
        bad.rows.retain(|r| r[0] != "TempStorage");
        let e = IngestionResources::from_dataset(&Dataset { tables: vec![bad] }).unwrap_err();
        assert!(!e.contains("sig="), "{e}");
    }

    #[test]
    fn accounts_rotate_and_skip_failed_ones() {
        let list = vec![
            sas("https://a.blob.core.windows.net/t?s=1"),
            sas("https://b.blob.core.windows.net/t?s=1"),
            sas("https://c.blob.core.windows.net/t?s=1"),
        ];
        let accounts = Accounts {
            next: AtomicUsize::new(0),
            penalties: Mutex::default(),
        };
        let picked: Vec<String> = (0..6)
            .map(|_| accounts.pick(&list).unwrap().account())
            .collect();
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c"]);
        accounts.penalize("b");
        let picked: Vec<String> = (0..4)
            .map(|_| accounts.pick(&list).unwrap().account())
            .collect();
        assert!(!picked.contains(&"b".to_string()), "{picked:?}");
        for a in ["a", "c"] {
            accounts.penalize(a);
        }
        assert!(accounts.pick(&list).is_some(), "all skipped: still one");
        assert!(accounts.pick(&[]).is_none());
    }
}
