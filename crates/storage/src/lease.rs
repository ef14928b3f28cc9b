//! Blob leases (`PUT ?comp=lease`): one holder at a time for a blob, for at most 60 s unless
//! renewed. Replicas use them to agree who does a piece of work (a scheduled report run): the
//! lease is the one Azure Storage itself arbitrates, so no clock or extra service is trusted.

use crate::blob::Condition;
use crate::client::{Request, StorageClient};
use crate::error::StorageError;
use crate::resource::ResourceUrl;
use reqwest::Method;
use std::time::Duration;

/// A held lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// `x-ms-lease-id`: sent with every call the holder makes on the blob.
    pub id: String,
}

impl StorageClient {
    async fn lease_call(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        headers: Vec<(String, &str)>,
    ) -> Result<crate::client::Answer, StorageError> {
        let segments: Vec<&str> = name.split('/').collect();
        self.send(Request {
            operation,
            method: Method::PUT,
            url: container.url(&segments, &[("comp", "lease")]),
            shown: container.blob_display(name),
            headers,
            body: None,
        })
        .await
    }

    /// Acquires a lease on the blob `name` of `container` for `duration` (15 to 60 s),
    /// creating the blob (empty) first when it does not exist. `Ok(None)` when someone else
    /// holds it.
    pub async fn acquire_lease(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        duration: Duration,
    ) -> Result<Option<Lease>, StorageError> {
        let seconds = duration.as_secs().clamp(15, 60).to_string();
        let proposed = uuid::Uuid::new_v4().to_string();
        for _ in 0..2 {
            let headers = vec![
                ("x-ms-lease-action".to_string(), "acquire"),
                ("x-ms-lease-duration".to_string(), seconds.as_str()),
                ("x-ms-proposed-lease-id".to_string(), proposed.as_str()),
            ];
            match self.lease_call(operation, container, name, headers).await {
                Ok(answer) => {
                    let id = answer.header("x-ms-lease-id").unwrap_or(&proposed);
                    return Ok(Some(Lease { id: id.to_string() }));
                }
                Err(StorageError::Status { status: 409, .. }) => return Ok(None),
                Err(StorageError::Status { status: 404, .. }) => {
                    self.create_empty(operation, container, name).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Creates the empty blob `name` unless it exists (another replica may create it first).
    async fn create_empty(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
    ) -> Result<(), StorageError> {
        let none: [(&str, &str); 0] = [];
        match self
            .put_blob(
                operation,
                container,
                name,
                None,
                &none,
                &Condition::IfAbsent,
            )
            .await
        {
            Ok(_)
            | Err(StorageError::Status {
                status: 409 | 412, ..
            }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Renews a held lease for another full duration.
    pub async fn renew_lease(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        lease: &Lease,
    ) -> Result<(), StorageError> {
        let headers = vec![
            ("x-ms-lease-action".to_string(), "renew"),
            ("x-ms-lease-id".to_string(), lease.id.as_str()),
        ];
        self.lease_call(operation, container, name, headers)
            .await
            .map(|_| ())
    }

    /// Releases a held lease: others may take it at once.
    pub async fn release_lease(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        lease: &Lease,
    ) -> Result<(), StorageError> {
        let headers = vec![
            ("x-ms-lease-action".to_string(), "release"),
            ("x-ms-lease-id".to_string(), lease.id.as_str()),
        ];
        self.lease_call(operation, container, name, headers)
            .await
            .map(|_| ())
    }

    /// Breaks a lease whoever holds it, at once (`x-ms-lease-break-period: 0`): for a holder
    /// known to be gone.
    pub async fn break_lease(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
    ) -> Result<(), StorageError> {
        let headers = vec![
            ("x-ms-lease-action".to_string(), "break"),
            ("x-ms-lease-break-period".to_string(), "0"),
        ];
        self.lease_call(operation, container, name, headers)
            .await
            .map(|_| ())
    }
}
