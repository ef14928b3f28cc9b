//! The HTTP side every Data Explorer call goes through: the HTTP client, the credential and
//! the headers Kusto expects (client request id, app, version, bearer token), and the reading
//! of v1/v2 answers. Shared by the engine client and the queued ingestor, so it imports
//! neither.

use super::error::{ErrorKind, KustoError};
use super::options::join;
use super::request::RequestProperties;
use super::response::{parse_v1, parse_v2, Dataset, ResponseError};
use super::status::{permanence, Attempt, Service};
use azure_core::credentials::TokenCredential;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// `x-ms-client-version`.
const CLIENT_VERSION: &str = concat!("iotc-adx/", env!("CARGO_PKG_VERSION"));

/// The HTTP side shared by the engine calls and the queued ingestor: the HTTP client, the
/// credential and the headers every Kusto request carries.
pub(super) struct Transport {
    pub http: reqwest::Client,
    pub credential: Option<Arc<dyn TokenCredential>>,
    pub scope: String,
    pub app: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("credential", &self.credential.is_some())
            .field("scope", &self.scope)
            .field("app", &self.app)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A fresh client request id for `operation`: `iotc-adx.<operation>;<uuid>`.
pub(super) fn request_id(operation: &str) -> String {
    format!("iotc-adx.{operation};{}", uuid::Uuid::new_v4())
}

/// What a credential failure means for the caller.
fn credential_kind(e: &azure_core::Error) -> ErrorKind {
    use azure_core::error::ErrorKind as Az;
    match e.kind() {
        Az::Io | Az::Connection => ErrorKind::Transient,
        _ => match e.http_status().map(u16::from) {
            Some(429) => ErrorKind::Throttled,
            Some(s) if s >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Unauthorized,
        },
    }
}

impl Transport {
    /// The `Authorization` value, fetched per request (the credential caches tokens).
    async fn bearer(&self, attempt: &Attempt<'_>) -> Result<Option<String>, KustoError> {
        let Some(credential) = &self.credential else {
            return Ok(None);
        };
        match credential.get_token(&[self.scope.as_str()], None).await {
            Ok(token) => Ok(Some(format!("Bearer {}", token.token.secret()))),
            Err(e) => Err(attempt
                .base(credential_kind(&e))
                .with_message(format!("cannot get a token for scope {}", self.scope))
                .with_source(e)),
        }
    }

    /// POSTs to a Kusto endpoint and returns the body of a 2xx answer.
    pub async fn post(
        &self,
        attempt: &Attempt<'_>,
        url: url::Url,
        body: Bytes,
        content_type: &str,
        gzipped: bool,
    ) -> Result<Bytes, KustoError> {
        self.post_within(attempt, url, body, content_type, gzipped, self.timeout)
            .await
    }

    /// [`Transport::post`] with its own time limit.
    async fn post_within(
        &self,
        attempt: &Attempt<'_>,
        url: url::Url,
        body: Bytes,
        content_type: &str,
        gzipped: bool,
        timeout: Duration,
    ) -> Result<Bytes, KustoError> {
        let mut request = self
            .http
            .post(url)
            .timeout(timeout)
            .header("x-ms-client-request-id", attempt.client_request_id)
            .header("x-ms-app", &self.app)
            .header("x-ms-client-version", CLIENT_VERSION)
            .header("accept", "application/json")
            .header("content-type", content_type)
            .body(body);
        if gzipped {
            request = request.header("content-encoding", "gzip");
        }
        if let Some(bearer) = self.bearer(attempt).await? {
            request = request.header("authorization", bearer);
        }
        attempt.send(request).await
    }

    /// Runs a control command (`v2 == false`, `/v1/rest/mgmt`) or a query (`/v2/rest/query`)
    /// against `endpoint`.
    pub async fn command(
        &self,
        endpoint: &url::Url,
        db: &str,
        csl: &str,
        v2: bool,
    ) -> Result<Dataset, KustoError> {
        self.command_with(endpoint, db, csl, v2, &RequestProperties::default())
            .await
    }

    /// [`Transport::command`] with client request properties (parameters, limits, request
    /// id, time limit).
    pub async fn command_with(
        &self,
        endpoint: &url::Url,
        db: &str,
        csl: &str,
        v2: bool,
        props: &RequestProperties,
    ) -> Result<Dataset, KustoError> {
        let (operation, segments) = if v2 {
            ("query", ["v2", "rest", "query"])
        } else {
            ("mgmt", ["v1", "rest", "mgmt"])
        };
        let url = join(endpoint, &segments)?;
        let id = props
            .client_request_id
            .clone()
            .unwrap_or_else(|| request_id(operation));
        let url_text = url.to_string();
        let attempt = Attempt {
            operation,
            method: "POST",
            url: &url_text,
            client_request_id: &id,
            service: Service::Kusto,
        };
        let body = json!({"db": db, "csl": csl, "properties": props.to_json()});
        let bytes = self
            .post_within(
                &attempt,
                url,
                Bytes::from(body.to_string()),
                "application/json; charset=utf-8",
                false,
                props.timeout.unwrap_or(self.timeout),
            )
            .await?;
        let parsed = if v2 {
            parse_v2(&bytes)
        } else {
            parse_v1(&bytes)
        };
        parsed.map_err(|e| answer_error(&attempt, e))
    }
}

/// The error for a 200 answer that failed inside or could not be read.
fn answer_error(attempt: &Attempt<'_>, e: ResponseError) -> KustoError {
    match e {
        ResponseError::Malformed(m) => attempt.base(ErrorKind::Transient).with_message(m),
        ResponseError::Failed(errors) => {
            // Permanent as soon as one of the errors is.
            let kind = if errors.iter().all(|e| e.permanent == Some(false)) {
                ErrorKind::Transient
            } else {
                permanence(None)
            };
            let first = errors.first().cloned().unwrap_or_default();
            let mut err = attempt.base(kind);
            err.details.status = Some(200);
            err.details.code = first.code;
            err.details.activity_id = first.activity_id;
            let mut message = first.message.unwrap_or_default();
            if errors.len() > 1 {
                message.push_str(&format!(" (and {} more errors)", errors.len() - 1));
            }
            err.with_message(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_failures_are_classified() {
        use azure_core::error::ErrorKind as Az;
        let e = |kind: Az| azure_core::Error::with_message(kind, "x");
        assert_eq!(credential_kind(&e(Az::Io)), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(Az::Connection)), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(Az::Credential)), ErrorKind::Unauthorized);
        let http = |status: u16| Az::HttpResponse {
            status: azure_core::http::StatusCode::from(status),
            error_code: None,
            raw_response: None,
        };
        assert_eq!(credential_kind(&e(http(429))), ErrorKind::Throttled);
        assert_eq!(credential_kind(&e(http(503))), ErrorKind::Transient);
        assert_eq!(credential_kind(&e(http(400))), ErrorKind::Unauthorized);
    }

    #[test]
    fn request_ids_name_the_operation() {
        let id = request_id("query");
        let (op, uuid) = id.split_once(';').unwrap();
        assert_eq!(op, "iotc-adx.query");
        assert!(uuid::Uuid::parse_str(uuid).is_ok());
    }
}
