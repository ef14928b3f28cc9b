//! The few Blob service REST calls the store makes, over `reqwest`: create the container, create
//! a blob (optionally only if absent), set a blob's metadata (optionally only if its ETag still
//! matches), and list blobs with their metadata one page at a time.
//!
//! Each call authenticates with the container URL's SAS or a bearer token for Azure Storage,
//! carries `x-ms-version`, `x-ms-date` and a fresh `x-ms-client-request-id`, times out after
//! [`REQUEST_TIMEOUT`], and is tried up to [`ATTEMPTS`] times when the failure is transient
//! (no answer, 408, 429, 5xx). URLs in errors and logs never carry the query string.

use super::auth::ContainerAuth;
use super::error::CheckpointStoreError;
use super::records::{http_date, quoted_etag, Metadata};
use crate::retry::{retry, RetryPolicy};
use azure_core::credentials::TokenCredential;
use azure_core::time::{to_rfc7231, OffsetDateTime};
use iotc_adx_storage::list::{parse_error, parse_list_page, ListPage};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The Blob service version spoken. 2017-11-09 is the first to take bearer tokens; this one
/// is served by Azure and by current Azurite.
pub(super) const API_VERSION: &str = "2023-11-03";
/// The scope of bearer tokens for Azure Storage.
pub(super) const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// How long one request may take, answer included.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries per call when failures are transient.
pub(super) const ATTEMPTS: u32 = 3;

/// A precondition on a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Condition {
    /// Write whatever is there.
    None,
    /// Write only if the blob's ETag is still this one (`If-Match`).
    IfMatch(String),
    /// Write only if there is no blob yet (`If-None-Match: *`).
    IfAbsent,
}

/// What a successful write answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Written {
    /// The blob's new ETag, quoted.
    pub etag: String,
    /// The blob's new `Last-Modified`.
    pub last_modified: Option<OffsetDateTime>,
}

/// A complete answer (bodies of these calls are small).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A Blob container reached over REST.
#[derive(Clone)]
pub(super) struct BlobRest {
    http: reqwest::Client,
    /// The container URL without query string or trailing slash.
    container: Url,
    /// The SAS query string (without `?`), when the URL carried one.
    sas: Option<String>,
    credential: Option<Arc<dyn TokenCredential>>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for BlobRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRest")
            .field("container", &self.container.as_str())
            .field("sas", &self.sas.is_some())
            .field("credential", &self.credential.is_some())
            .finish_non_exhaustive()
    }
}

/// `url` without its query string and fragment, for messages.
pub(super) fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// Loopback hosts, where plain HTTP cannot leak a token off the machine.
fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl BlobRest {
    /// Checks the container URL against the chosen authentication and keeps what the calls need.
    pub(super) fn new(
        container_url: Url,
        auth: ContainerAuth,
        http: Option<reqwest::Client>,
    ) -> Result<Self, CheckpointStoreError> {
        let shown = without_query(&container_url);
        let invalid = |reason: &str| CheckpointStoreError::InvalidUrl {
            url: shown.clone(),
            reason: reason.to_string(),
        };
        if !matches!(container_url.scheme(), "http" | "https") {
            return Err(invalid(
                "the scheme must be https (or http for a local emulator)",
            ));
        }
        if container_url.host().is_none() || container_url.cannot_be_a_base() {
            return Err(invalid("it names no host"));
        }
        if container_url
            .path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()))
            .is_none()
        {
            return Err(invalid(
                "it names no container (expected https://ACCOUNT.blob.core.windows.net/CONTAINER)",
            ));
        }
        let sas = container_url
            .query()
            .map(str::to_string)
            .filter(|q| !q.is_empty());
        let credential = match auth {
            ContainerAuth::Sas => None,
            ContainerAuth::Token(credential) => {
                if sas.is_some() {
                    return Err(invalid("it carries a query string (a SAS) and a token credential was given too: use one"));
                }
                if container_url.scheme() != "https" && !is_local(&container_url) {
                    return Err(invalid(
                        "it is plain http: bearer tokens are only sent over https (or to loopback)",
                    ));
                }
                Some(credential)
            }
        };
        let mut container = container_url;
        container.set_query(None);
        container.set_fragment(None);
        if let Ok(mut segments) = container.path_segments_mut() {
            segments.pop_if_empty();
        }
        let http = match http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .build()
                .map_err(CheckpointStoreError::HttpClient)?,
        };
        let retry = RetryPolicy {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            streaming_attempts: 0,
        };
        Ok(BlobRest {
            http,
            container,
            sas,
            credential,
            retry,
        })
    }

    /// The container URL for messages (no query string).
    pub(super) fn container_display(&self) -> String {
        self.container.to_string()
    }

    /// A blob's URL for messages (no query string).
    pub(super) fn blob_display(&self, name: &str) -> String {
        self.blob_url(name).to_string()
    }

    fn blob_url(&self, name: &str) -> Url {
        let mut url = self.container.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        url
    }

    /// `url` with the operation's parameters and the SAS appended.
    fn with_query(&self, mut url: Url, params: &[(&str, &str)]) -> Url {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        let mut query = query.finish();
        if let Some(sas) = &self.sas {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(sas);
        }
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }

    /// Sends a request built by `build` (fresh per attempt), retrying transient failures.
    async fn send(
        &self,
        operation: &'static str,
        shown: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, CheckpointStoreError> {
        let build = &build;
        let attempt = |_| async move {
            let answer = self
                .send_once(operation, shown, build())
                .await
                .map_err(|e| (e, None))?;
            if (200..300).contains(&answer.status) {
                return Ok(answer);
            }
            let (code, message) = error_details(&answer);
            let e = CheckpointStoreError::Status {
                operation,
                url: shown.to_string(),
                status: answer.status,
                code,
                message,
            };
            Err((e, retry_after(&answer.headers)))
        };
        let again = |(e, retry_after): &(CheckpointStoreError, Option<Duration>)| {
            e.is_transient().then(|| {
                tracing::debug!(error = %e, "checkpoint store call failed, retrying");
                *retry_after
            })
        };
        retry(&self.retry, ATTEMPTS, attempt, again)
            .await
            .map_err(|(e, _)| e)
    }

    async fn send_once(
        &self,
        operation: &'static str,
        shown: &str,
        request: RequestBuilder,
    ) -> Result<Answer, CheckpointStoreError> {
        let mut request = request
            .timeout(REQUEST_TIMEOUT)
            .header("x-ms-version", API_VERSION)
            .header("x-ms-date", to_rfc7231(&OffsetDateTime::now_utc()))
            .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string());
        if let Some(credential) = &self.credential {
            let token = credential
                .get_token(&[STORAGE_SCOPE], None)
                .await
                .map_err(|source| CheckpointStoreError::Credential {
                    operation,
                    url: shown.to_string(),
                    scope: STORAGE_SCOPE,
                    source: Box::new(source),
                })?;
            request = request.bearer_auth(token.token.secret());
        }
        let transport = |source: reqwest::Error| CheckpointStoreError::Transport {
            operation,
            url: shown.to_string(),
            source: source.without_url(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Creates the container; `Ok(false)` when it already existed (409, or 403 on create but
    /// the container can be read).
    pub(super) async fn create_container(&self) -> Result<bool, CheckpointStoreError> {
        let operation = "create the checkpoint container";
        let shown = self.container_display();
        let url = self.with_query(self.container.clone(), &[("restype", "container")]);
        match self
            .send(operation, &shown, || {
                self.http
                    .request(Method::PUT, url.clone())
                    .header("content-length", "0")
                    .body(Vec::<u8>::new())
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(CheckpointStoreError::Status {
                status: 409, code, ..
            }) if code
                .as_deref()
                .is_none_or(|c| c == "ContainerAlreadyExists") =>
            {
                Ok(false)
            }
            // An identity allowed to write blobs but not to create containers: fine if the
            // container is there.
            Err(e @ CheckpointStoreError::Status { status: 403, .. }) => {
                let url = self.with_query(self.container.clone(), &[("restype", "container")]);
                match self
                    .send("read the checkpoint container", &shown, || {
                        self.http.request(Method::GET, url.clone())
                    })
                    .await
                {
                    Ok(_) => Ok(false),
                    Err(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Uploads an empty block blob carrying `metadata`.
    pub(super) async fn put_blob(
        &self,
        operation: &'static str,
        name: &str,
        metadata: &Metadata,
        condition: &Condition,
    ) -> Result<Written, CheckpointStoreError> {
        let shown = self.blob_display(name);
        let url = self.with_query(self.blob_url(name), &[]);
        let answer = self
            .send(operation, &shown, || {
                let r = self
                    .http
                    .request(Method::PUT, url.clone())
                    .header("x-ms-blob-type", "BlockBlob")
                    .header("content-length", "0")
                    .body(Vec::<u8>::new());
                with_condition(with_metadata(r, metadata), condition)
            })
            .await?;
        written(operation, &shown, &answer)
    }

    /// Replaces a blob's metadata with `metadata`.
    pub(super) async fn set_metadata(
        &self,
        operation: &'static str,
        name: &str,
        metadata: &Metadata,
        condition: &Condition,
    ) -> Result<Written, CheckpointStoreError> {
        let shown = self.blob_display(name);
        let url = self.with_query(self.blob_url(name), &[("comp", "metadata")]);
        let answer = self
            .send(operation, &shown, || {
                let r = self
                    .http
                    .request(Method::PUT, url.clone())
                    .header("content-length", "0")
                    .body(Vec::<u8>::new());
                with_condition(with_metadata(r, metadata), condition)
            })
            .await?;
        written(operation, &shown, &answer)
    }

    /// One page of the blobs whose names start with `prefix`, with their metadata.
    pub(super) async fn list_page(
        &self,
        prefix: &str,
        marker: Option<&str>,
    ) -> Result<ListPage, CheckpointStoreError> {
        let operation = "list checkpoint store blobs in";
        let shown = format!("{} (prefix {prefix})", self.container_display());
        let mut params = vec![
            ("restype", "container"),
            ("comp", "list"),
            ("prefix", prefix),
            ("include", "metadata"),
        ];
        if let Some(marker) = marker {
            params.push(("marker", marker));
        }
        let url = self.with_query(self.container.clone(), &params);
        let answer = self
            .send(operation, &shown, || {
                self.http.request(Method::GET, url.clone())
            })
            .await?;
        parse_list_page(&answer.body).map_err(|reason| CheckpointStoreError::BadResponse {
            operation,
            url: shown,
            reason,
        })
    }
}

fn with_metadata(mut request: RequestBuilder, metadata: &Metadata) -> RequestBuilder {
    for (key, value) in metadata {
        request = request.header(format!("x-ms-meta-{key}"), value);
    }
    request
}

fn with_condition(request: RequestBuilder, condition: &Condition) -> RequestBuilder {
    match condition {
        Condition::None => request,
        Condition::IfMatch(etag) => request.header("if-match", quoted_etag(etag)),
        Condition::IfAbsent => request.header("if-none-match", "*"),
    }
}

/// The storage error code: the `x-ms-error-code` header, else the body's `<Code>`.
fn error_details(answer: &Answer) -> (Option<String>, Option<String>) {
    let (body_code, message) = parse_error(&answer.body);
    let header_code = answer
        .headers
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (header_code.or(body_code), message)
}

/// `Retry-After`, when the service sent one.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    crate::retry::parse_retry_after(
        headers.get("retry-after")?.to_str().ok()?,
        std::time::SystemTime::now(),
    )
}

fn written(
    operation: &'static str,
    shown: &str,
    answer: &Answer,
) -> Result<Written, CheckpointStoreError> {
    let bad = |reason: String| CheckpointStoreError::BadResponse {
        operation,
        url: shown.to_string(),
        reason,
    };
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let etag = header("etag").ok_or_else(|| bad("no ETag header".into()))?;
    let last_modified = header("last-modified")
        .map(http_date)
        .transpose()
        .map_err(bad)?;
    Ok(Written {
        etag: quoted_etag(etag),
        last_modified,
    })
}

/// Whether a failed claim means another processor got there first (or the state the caller
/// held is stale): 412 (`If-Match` failed, or `If-None-Match: *` on some services), 409
/// (`BlobAlreadyExists` for `If-None-Match: *`), or 404 for the blob (deleted since listed).
/// Such a claim is simply not granted; anything else is an error.
pub(super) fn lost_claim(e: &CheckpointStoreError) -> bool {
    match e {
        CheckpointStoreError::Status {
            status: 412 | 409, ..
        } => true,
        CheckpointStoreError::Status {
            status: 404, code, ..
        } => code.as_deref() != Some("ContainerNotFound"),
        _ => false,
    }
}

/// Whether setting metadata failed because the blob does not exist yet.
pub(super) fn blob_missing(e: &CheckpointStoreError) -> bool {
    matches!(e, CheckpointStoreError::Status { status: 404, code, .. } if code.as_deref() != Some("ContainerNotFound"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: Option<&str>) -> CheckpointStoreError {
        CheckpointStoreError::Status {
            operation: "claim",
            url: "u".into(),
            status,
            code: code.map(str::to_string),
            message: None,
        }
    }

    #[test]
    fn etag_conflicts_lose_the_claim_other_failures_do_not() {
        assert!(lost_claim(&status(412, Some("ConditionNotMet"))));
        assert!(lost_claim(&status(409, Some("BlobAlreadyExists"))));
        assert!(lost_claim(&status(404, Some("BlobNotFound"))));
        assert!(!lost_claim(&status(404, Some("ContainerNotFound"))));
        assert!(!lost_claim(&status(403, Some("AuthenticationFailed"))));
        assert!(!lost_claim(&status(500, None)));
        assert!(blob_missing(&status(404, Some("BlobNotFound"))));
        assert!(!blob_missing(&status(404, Some("ContainerNotFound"))));
    }

    fn rest(url: &str) -> BlobRest {
        BlobRest::new(Url::parse(url).unwrap(), ContainerAuth::Sas, None).unwrap()
    }

    #[test]
    fn urls_keep_the_sas_out_of_messages() {
        let r = rest("http://127.0.0.1:10000/devstoreaccount1/ckpt/?sv=2019-12-12&sig=SECRET%2B");
        assert_eq!(
            r.container_display(),
            "http://127.0.0.1:10000/devstoreaccount1/ckpt"
        );
        assert_eq!(
            r.blob_display("ns/hub/$default/ownership/0"),
            "http://127.0.0.1:10000/devstoreaccount1/ckpt/ns/hub/$default/ownership/0"
        );
        let u = r.with_query(
            r.blob_url("ns/hub/cg/checkpoint/1"),
            &[("comp", "metadata")],
        );
        assert_eq!(u.query(), Some("comp=metadata&sv=2019-12-12&sig=SECRET%2B"));
        let l = r.with_query(
            r.container.clone(),
            &[("prefix", "ns/hub/$default/"), ("marker", "2!76!x=")],
        );
        assert_eq!(
            l.query(),
            Some(
                "prefix=ns%2Fhub%2F%24default%2F&marker=2%2176%21x%3D&sv=2019-12-12&sig=SECRET%2B"
            )
        );
        assert!(!format!("{r:?}").contains("SECRET"));
    }

    #[test]
    fn container_urls_are_checked() {
        let bad = |url: &str, auth: ContainerAuth| {
            BlobRest::new(Url::parse(url).unwrap(), auth, None)
                .unwrap_err()
                .to_string()
        };
        assert!(bad("ftp://host/c", ContainerAuth::Sas).contains("scheme"));
        assert!(
            bad("https://acct.blob.core.windows.net/", ContainerAuth::Sas).contains("no container")
        );
        let token = || ContainerAuth::Token(Arc::new(NoToken));
        let e = bad("http://acct.blob.core.windows.net/c", token());
        assert!(e.contains("plain http"), "{e}");
        let e = bad("https://acct.blob.core.windows.net/c?sig=SECRET", token());
        assert!(e.contains("use one") && !e.contains("SECRET"), "{e}");
        assert!(BlobRest::new(
            Url::parse("http://127.0.0.1:1/acct/c").unwrap(),
            token(),
            None
        )
        .is_ok());
    }

    #[derive(Debug)]
    struct NoToken;

    #[async_trait::async_trait]
    impl TokenCredential for NoToken {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "no token here",
            ))
        }
    }
}
