//! [`CheckpointStore`] for [`BlobCheckpointStore`]: the four calls the event processor makes.
//!
//! - `claim_ownership`: per partition, a conditional write of the ownership blob's `ownerid`:
//!   `If-Match` the ETag the caller holds (set metadata), or `If-None-Match: *` when it holds
//!   none (create the blob). A 412, 409 or 404 means another processor changed the blob first:
//!   that partition is left out of the answer, which is how the load balancer learns it lost.
//!   Claims are written one after another, as the Go and .NET stores do.
//! - `list_ownerships` / `list_checkpoints`: every page of the blobs under the hub's prefix.
//! - `update_checkpoint`: set the checkpoint blob's metadata, creating the blob on first use.

use super::blobs::{blob_missing, lost_claim};
use super::error::CheckpointStoreError;
use super::names::{blob_name, prefix, BlobKind};
use super::records::{
    checkpoint_from, checkpoint_metadata, ownership_from, ownership_metadata, Scope,
};
use super::BlobCheckpointStore;
use azure_core::http::Etag;
use azure_messaging_eventhubs::models::{Checkpoint, Ownership};
use azure_messaging_eventhubs::CheckpointStore;
use iotc_adx_storage::Condition;

impl BlobCheckpointStore {
    /// Claims one partition; `Ok(None)` when another processor holds it.
    async fn claim_one(&self, o: &Ownership) -> Result<Option<Ownership>, CheckpointStoreError> {
        let operation = "claim ownership of";
        let name = blob_name(
            BlobKind::Ownership,
            &o.fully_qualified_namespace,
            &o.event_hub_name,
            &o.consumer_group,
            &o.partition_id,
        )?;
        let metadata =
            ownership_metadata(o).map_err(|reason| CheckpointStoreError::InvalidMetadata {
                blob: self.blobs.blob_display(&name),
                reason,
            })?;
        let written = match &o.etag {
            Some(etag) => {
                self.blobs
                    .set_metadata(
                        operation,
                        &name,
                        &metadata,
                        &Condition::IfMatch(etag.to_string()),
                    )
                    .await
            }
            None => {
                self.blobs
                    .put_blob(operation, &name, &metadata, &Condition::IfAbsent)
                    .await
            }
        };
        match written {
            Ok(w) => {
                tracing::debug!(partition_id = %o.partition_id, owner_id = ?o.owner_id, etag = %w.etag, "claimed partition");
                if let Some(h) = &self.handovers {
                    let replaced = o.etag.as_ref().map(ToString::to_string);
                    h.claimed(o, replaced.as_deref());
                }
                Ok(Some(Ownership {
                    etag: Some(Etag::from(w.etag)),
                    last_modified_time: w.last_modified,
                    ..o.clone()
                }))
            }
            Err(e) if lost_claim(&e) => {
                tracing::debug!(partition_id = %o.partition_id, owner_id = ?o.owner_id, reason = %e, "partition not claimed: another owner wrote first");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn ownerships(&self, scope: Scope<'_>) -> Result<Vec<Ownership>, CheckpointStoreError> {
        let prefix = prefix(
            BlobKind::Ownership,
            scope.namespace,
            scope.event_hub,
            scope.consumer_group,
        )?;
        let mut out = Vec::new();
        for blob in self.blobs.list_all(&prefix).await? {
            let o = ownership_from(scope, &prefix, &blob).map_err(|reason| {
                CheckpointStoreError::InvalidMetadata {
                    blob: self.blobs.blob_display(&blob.name),
                    reason,
                }
            })?;
            out.extend(o);
        }
        out.sort_by(|a, b| a.partition_id.cmp(&b.partition_id));
        Ok(out)
    }

    async fn checkpoints(&self, scope: Scope<'_>) -> Result<Vec<Checkpoint>, CheckpointStoreError> {
        let prefix = prefix(
            BlobKind::Checkpoint,
            scope.namespace,
            scope.event_hub,
            scope.consumer_group,
        )?;
        let mut out = Vec::new();
        for blob in self.blobs.list_all(&prefix).await? {
            let c = checkpoint_from(scope, &prefix, &blob).map_err(|reason| {
                CheckpointStoreError::InvalidMetadata {
                    blob: self.blobs.blob_display(&blob.name),
                    reason,
                }
            })?;
            out.extend(c);
        }
        out.sort_by(|a, b| a.partition_id.cmp(&b.partition_id));
        Ok(out)
    }

    async fn write_checkpoint(&self, c: &Checkpoint) -> Result<(), CheckpointStoreError> {
        let operation = "record a checkpoint in";
        let name = blob_name(
            BlobKind::Checkpoint,
            &c.fully_qualified_namespace,
            &c.event_hub_name,
            &c.consumer_group,
            &c.partition_id,
        )?;
        let metadata = checkpoint_metadata(c)
            .map_err(|reason| CheckpointStoreError::InvalidMetadata {
                blob: self.blobs.blob_display(&name),
                reason,
            })?
            .ok_or_else(|| CheckpointStoreError::EmptyCheckpoint {
                blob: self.blobs.blob_display(&name),
            })?;
        match self
            .blobs
            .set_metadata(operation, &name, &metadata, &Condition::None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if blob_missing(&e) => self
                .blobs
                .put_blob(operation, &name, &metadata, &Condition::None)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl CheckpointStore for BlobCheckpointStore {
    async fn claim_ownership(
        &self,
        ownerships: &[Ownership],
    ) -> azure_core::Result<Vec<Ownership>> {
        let mut claimed = Vec::with_capacity(ownerships.len());
        for o in ownerships {
            claimed.extend(self.claim_one(o).await?);
        }
        Ok(claimed)
    }

    async fn list_checkpoints(
        &self,
        namespace: &str,
        event_hub_name: &str,
        consumer_group: &str,
    ) -> azure_core::Result<Vec<Checkpoint>> {
        Ok(self
            .checkpoints(Scope {
                namespace,
                event_hub: event_hub_name,
                consumer_group,
            })
            .await?)
    }

    async fn list_ownerships(
        &self,
        namespace: &str,
        event_hub_name: &str,
        consumer_group: &str,
    ) -> azure_core::Result<Vec<Ownership>> {
        let listed = self
            .ownerships(Scope {
                namespace,
                event_hub: event_hub_name,
                consumer_group,
            })
            .await?;
        if let Some(h) = &self.handovers {
            h.listed(&listed);
        }
        Ok(listed)
    }

    async fn update_checkpoint(&self, checkpoint: Checkpoint) -> azure_core::Result<()> {
        Ok(self.write_checkpoint(&checkpoint).await?)
    }
}

#[cfg(test)]
mod tests_support {
    //! A scripted HTTP server on loopback, for the store's unit tests.

    use super::BlobCheckpointStore;
    use crate::source::eventhubs::checkpoint_store::ContainerAuth;

    pub(super) use iotc_adx_testkit::scripted::serve;

    pub(super) fn store_at(base: &str) -> BlobCheckpointStore {
        let url = url::Url::parse(&format!("{base}/acct/ckpt?sv=1&sig=SECRET")).unwrap();
        BlobCheckpointStore::new(url, ContainerAuth::Sas, None).unwrap()
    }

    pub(super) fn page(names: &[&str], next: Option<&str>) -> String {
        let blobs: String = names
            .iter()
            .map(|n| {
                format!(
                    "<Blob><Name>{n}</Name><Properties><Last-Modified>Sun, 22 Nov 2026 07:30:52 GMT</Last-Modified>\
                     <Etag>0x{}</Etag></Properties><Metadata><ownerid>me</ownerid></Metadata></Blob>",
                    n.len()
                )
            })
            .collect();
        format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>{blobs}</Blobs><NextMarker>{}</NextMarker></EnumerationResults>",
            next.unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    //! The store against a scripted HTTP server on loopback: paging, ETag conflicts, retries.

    use super::tests_support::*;
    use super::*;

    #[tokio::test]
    async fn listing_follows_next_markers_to_the_last_page() {
        let (base, log) = serve(|seen, _| {
            let body = if seen.line.contains("marker=m%2F1") {
                page(
                    &[
                        "ns/hub/cg/ownership/2",
                        "ns/hub/cg/ownership/3",
                        "ns/hub/cg/ownership/3/odd",
                    ],
                    None,
                )
            } else {
                page(
                    &["ns/hub/cg/ownership/0", "ns/hub/cg/ownership/1"],
                    Some("m/1"),
                )
            };
            (200, vec![("content-type", "application/xml".into())], body)
        })
        .await;
        let s = store_at(&base);
        let got = s.list_ownerships("NS", "Hub", "CG").await.unwrap();
        assert_eq!(
            got.iter()
                .map(|o| o.partition_id.as_str())
                .collect::<Vec<_>>(),
            ["0", "1", "2", "3"]
        );
        assert!(got
            .iter()
            .all(|o| o.owner_id.as_deref() == Some("me") && o.etag.is_some()));
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert!(
            log[0].line.starts_with("GET /acct/ckpt?restype=container&comp=list&prefix=ns%2Fhub%2Fcg%2Fownership%2F&include=metadata&sv=1&sig=SECRET "),
            "{}",
            log[0].line
        );
        assert!(
            log[1].line.contains("&marker=m%2F1&sv=1"),
            "{}",
            log[1].line
        );
        assert_eq!(log[0].header("x-ms-version"), Some(rest_version()));
        assert!(log[0]
            .header("x-ms-date")
            .is_some_and(|d| d.ends_with("GMT")));
    }

    fn rest_version() -> &'static str {
        iotc_adx_storage::ClientOptions::default().version
    }

    #[tokio::test]
    async fn a_listing_that_never_ends_is_an_error() {
        let (base, _) = serve(|_, _| {
            (
                200,
                vec![],
                page(&["ns/hub/cg/checkpoint/0"], Some("again")),
            )
        })
        .await;
        let e = store_at(&base)
            .list_checkpoints("ns", "hub", "cg")
            .await
            .unwrap_err();
        assert_eq!(*e.kind(), azure_core::error::ErrorKind::DataConversion);
        assert!(
            e.to_string().contains("never ends") && !e.to_string().contains("SECRET"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn etag_conflicts_drop_the_partition_and_wins_carry_the_new_etag() {
        let (base, log) = serve(|seen, _| {
            if seen.header("if-match").is_some() {
                (
                    412,
                    vec![("x-ms-error-code", "ConditionNotMet".into())],
                    String::new(),
                )
            } else if seen.line.contains("/ownership/2") {
                (
                    409,
                    vec![("x-ms-error-code", "BlobAlreadyExists".into())],
                    String::new(),
                )
            } else {
                (
                    201,
                    vec![
                        ("etag", "\"0xNEW\"".into()),
                        ("last-modified", "Sun, 22 Nov 2026 08:00:00 GMT".into()),
                    ],
                    String::new(),
                )
            }
        })
        .await;
        let s = store_at(&base);
        let o = |partition: &str, etag: Option<&str>| Ownership {
            fully_qualified_namespace: "ns".into(),
            event_hub_name: "hub".into(),
            consumer_group: "cg".into(),
            partition_id: partition.into(),
            owner_id: Some("me".into()),
            etag: etag.map(Etag::from),
            last_modified_time: None,
        };
        let got = s
            .claim_ownership(&[o("0", Some("0xOLD")), o("1", None), o("2", None)])
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].partition_id, "1");
        assert_eq!(
            got[0].etag.as_ref().map(|e| e.to_string()).as_deref(),
            Some("\"0xNEW\"")
        );
        assert_eq!(got[0].last_modified_time.map(|t| t.hour()), Some(8));
        let log = log.lock().unwrap();
        assert!(
            log[0]
                .line
                .starts_with("PUT /acct/ckpt/ns/hub/cg/ownership/0?comp=metadata&sv=1&sig=SECRET "),
            "{}",
            log[0].line
        );
        assert_eq!(
            log[0].header("if-match"),
            Some("\"0xOLD\""),
            "a bare etag is sent quoted"
        );
        assert_eq!(log[0].header("x-ms-meta-ownerid"), Some("me"));
        assert_eq!(log[1].header("if-none-match"), Some("*"));
        assert_eq!(log[1].header("x-ms-blob-type"), Some("BlockBlob"));
        assert_eq!(log[1].header("content-length"), Some("0"));
    }

    #[tokio::test]
    async fn other_failures_fail_the_claim_after_retrying_transient_ones() {
        let (base, log) = serve(|_, n| match n {
            1 | 2 => (
                503,
                vec![
                    ("x-ms-error-code", "ServerBusy".into()),
                    ("retry-after", "0".into()),
                ],
                String::new(),
            ),
            _ => (
                403,
                vec![("x-ms-error-code", "AuthorizationPermissionMismatch".into())],
                String::new(),
            ),
        })
        .await;
        let s = store_at(&base);
        let o = Ownership {
            fully_qualified_namespace: "ns".into(),
            event_hub_name: "hub".into(),
            consumer_group: "cg".into(),
            partition_id: "0".into(),
            owner_id: Some("me".into()),
            ..Default::default()
        };
        let e = s.claim_ownership(&[o]).await.unwrap_err();
        assert_eq!(
            e.http_status(),
            Some(azure_core::http::StatusCode::Forbidden)
        );
        let text = e.to_string();
        assert!(
            text.contains("ownership/0")
                && text.contains("AuthorizationPermissionMismatch")
                && !text.contains("SECRET"),
            "{text}"
        );
        assert_eq!(
            log.lock().unwrap().len(),
            3,
            "two 503s retried, the 403 not"
        );
    }

    #[tokio::test]
    async fn checkpoints_create_their_blob_on_first_write() {
        let (base, log) = serve(|seen, _| {
            if seen.line.contains("comp=metadata") {
                (
                    404,
                    vec![("x-ms-error-code", "BlobNotFound".into())],
                    String::new(),
                )
            } else {
                (201, vec![("etag", "\"0x1\"".into())], String::new())
            }
        })
        .await;
        let c = Checkpoint {
            fully_qualified_namespace: "ns".into(),
            event_hub_name: "hub".into(),
            consumer_group: "cg".into(),
            partition_id: "4".into(),
            offset: Some("100".into()),
            sequence_number: Some(9),
        };
        store_at(&base).update_checkpoint(c).await.unwrap();
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert!(
            log[1]
                .line
                .starts_with("PUT /acct/ckpt/ns/hub/cg/checkpoint/4?sv=1"),
            "{}",
            log[1].line
        );
        assert_eq!(log[1].header("x-ms-meta-sequencenumber"), Some("9"));
        assert_eq!(log[1].header("x-ms-meta-offset"), Some("100"));
        assert_eq!(log[1].header("if-none-match"), None);
    }
}

#[cfg(test)]
mod container_tests {
    //! `ensure_container` against scripted answers.

    use super::tests_support::*;

    #[tokio::test]
    async fn an_existing_container_is_fine_even_without_the_right_to_create_one() {
        for (create, read, ok) in [
            (201, 200, true),
            (409, 200, true),
            (403, 200, true),
            (403, 403, false),
            (404, 404, false),
        ] {
            let (base, log) = serve(move |seen, _| {
                let code = if seen.line.starts_with("PUT") {
                    create
                } else {
                    read
                };
                let error = match code {
                    409 => "ContainerAlreadyExists",
                    403 => "AuthorizationPermissionMismatch",
                    _ => "ResourceNotFound",
                };
                (code, vec![("x-ms-error-code", error.into())], String::new())
            })
            .await;
            let result = store_at(&base).ensure_container().await;
            assert_eq!(
                result.is_ok(),
                ok,
                "create {create}, read {read}: {result:?}"
            );
            if let Err(e) = result {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("{base}/acct/ckpt:")) && !text.contains("SECRET"),
                    "{text}"
                );
            }
            let log = log.lock().unwrap();
            assert!(
                log[0]
                    .line
                    .starts_with("PUT /acct/ckpt?restype=container&sv=1&sig=SECRET "),
                "{}",
                log[0].line
            );
        }
    }
}

#[cfg(test)]
mod token_tests {
    //! Bearer authentication: the header goes out, the token never reaches an error.

    use super::tests_support::*;
    use super::*;
    use crate::source::eventhubs::checkpoint_store::ContainerAuth;
    use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
    use std::sync::{Arc, Mutex};

    #[derive(Debug)]
    struct FixedToken {
        scopes: Mutex<Vec<String>>,
        fail: bool,
    }

    #[async_trait::async_trait]
    impl TokenCredential for FixedToken {
        async fn get_token(
            &self,
            scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.scopes
                .lock()
                .unwrap()
                .extend(scopes.iter().map(|s| s.to_string()));
            if self.fail {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    "no identity here",
                ));
            }
            let expires =
                azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
            Ok(AccessToken::new(Secret::new("TOKEN-123"), expires))
        }
    }

    #[tokio::test]
    async fn bearer_tokens_for_storage_are_sent_without_a_sas() {
        let (base, log) = serve(|_, _| (200, vec![], page(&[], None))).await;
        let credential = Arc::new(FixedToken {
            scopes: Mutex::new(vec![]),
            fail: false,
        });
        let url = url::Url::parse(&format!("{base}/acct/ckpt")).unwrap();
        let s =
            BlobCheckpointStore::new(url, ContainerAuth::Token(credential.clone()), None).unwrap();
        assert!(s
            .list_ownerships("ns", "hub", "cg")
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            *credential.scopes.lock().unwrap(),
            ["https://storage.azure.com/.default"]
        );
        let log = log.lock().unwrap();
        assert_eq!(log[0].header("authorization"), Some("Bearer TOKEN-123"));
        assert!(
            log[0].line.contains("include=metadata HTTP"),
            "no SAS appended: {}",
            log[0].line
        );
    }

    #[tokio::test]
    async fn a_credential_failure_is_a_credential_error() {
        let credential = Arc::new(FixedToken {
            scopes: Mutex::new(vec![]),
            fail: true,
        });
        let url = url::Url::parse("http://127.0.0.1:9/acct/ckpt").unwrap();
        let s = BlobCheckpointStore::new(url, ContainerAuth::Token(credential), None).unwrap();
        let e = s.ensure_container().await.unwrap_err();
        assert!(
            matches!(
                e,
                CheckpointStoreError::Storage(iotc_adx_storage::StorageError::Credential { .. })
            ),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains("https://storage.azure.com/.default")
                && text.contains("http://127.0.0.1:9/acct/ckpt"),
            "{text}"
        );
        assert_eq!(
            *azure_core::Error::from(e).kind(),
            azure_core::error::ErrorKind::Credential
        );
    }
}
