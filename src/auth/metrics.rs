//! A credential that counts its failures: a token that cannot be had stops ingestion and
//! checkpointing alike, so operations must see it (`iotc_adx_token_refresh_failures_total`)
//! before the backlog does.

use crate::telemetry::metrics::metrics;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use std::sync::Arc;

/// Wraps the configured credential; `kind` is the metric label (`managed_identity`, ...).
#[derive(Debug)]
pub struct CountedCredential {
    inner: Arc<dyn TokenCredential>,
    kind: &'static str,
}

impl CountedCredential {
    /// Counts the failures of `inner` under `kind`.
    pub fn new(inner: Arc<dyn TokenCredential>, kind: &'static str) -> Self {
        CountedCredential { inner, kind }
    }
}

#[async_trait::async_trait]
impl TokenCredential for CountedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let result = self.inner.get_token(scopes, options).await;
        if result.is_err() {
            metrics()
                .auth
                .token_refresh_failures
                .with_label_values(&[self.kind])
                .inc();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::credentials::Secret;
    use azure_core::time::OffsetDateTime;

    #[derive(Debug)]
    struct Flaky(std::sync::atomic::AtomicBool);

    #[async_trait::async_trait]
    impl TokenCredential for Flaky {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            if self.0.swap(false, std::sync::atomic::Ordering::SeqCst) {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    "token endpoint unreachable",
                ));
            }
            Ok(AccessToken::new(
                Secret::new("t"),
                OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
            ))
        }
    }

    #[tokio::test]
    async fn failures_are_counted_by_credential_kind() {
        let counter = metrics()
            .auth
            .token_refresh_failures
            .with_label_values(&["test_flaky"]);
        let c = CountedCredential::new(
            Arc::new(Flaky(std::sync::atomic::AtomicBool::new(true))),
            "test_flaky",
        );
        assert!(c.get_token(&["s/.default"], None).await.is_err());
        assert!(c.get_token(&["s/.default"], None).await.is_ok());
        assert_eq!(counter.get(), 1);
    }
}
