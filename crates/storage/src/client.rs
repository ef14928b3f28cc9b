//! The one way requests reach Azure Storage: the HTTP client, how they are signed (SAS or
//! bearer token), the headers every request carries (`x-ms-version`, `x-ms-date`, a fresh
//! `x-ms-client-request-id`), the per-request time limit, and the retry loop. Each attempt
//! is a new request; failures that may pass ([`StorageError::is_transient`]) are tried again
//! up to [`ClientOptions::attempts`] times, waiting as the service's `Retry-After` asks.

use crate::auth::{StorageAuth, STORAGE_SCOPE};
use crate::error::{Call, StorageError};
use crate::list::parse_error;
use crate::resource::{is_local, without_query, ResourceUrl};
use crate::retry::{parse_retry_after, retry, RetryPolicy};
use azure_core::credentials::TokenCredential;
use azure_core::time::{to_rfc7231, OffsetDateTime};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// What differs between the callers: each keeps the service version, time limit and retry
/// behaviour it has been tested with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// `x-ms-version`. 2017-11-09 is the first to take bearer tokens.
    pub version: &'static str,
    /// How long one request may take, answer included.
    pub timeout: Duration,
    /// Attempts per call (at least 1); only transient failures are tried again. A caller that
    /// retries on its own (the Kusto sink) asks for 1.
    pub attempts: u32,
    /// The waits between attempts.
    pub backoff: RetryPolicy,
    /// `x-ms-client-request-id` is `{prefix}.{operation};{uuid}` when set (spaces in the
    /// operation become `-`), else a bare uuid.
    pub request_id_prefix: Option<&'static str>,
}

impl Default for ClientOptions {
    /// The checkpoint store's: a recent service version (served by Azure and current
    /// Azurite), 30 s per request, 3 attempts 0.2 s to 2 s apart.
    fn default() -> Self {
        ClientOptions {
            version: "2023-11-03",
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: RetryPolicy {
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(2),
                streaming_attempts: 0,
            },
            request_id_prefix: None,
        }
    }
}

/// A client for blob containers and queues. Cheap to clone: clones share the HTTP client.
#[derive(Clone)]
pub struct StorageClient {
    http: reqwest::Client,
    credential: Option<Arc<dyn TokenCredential>>,
    options: ClientOptions,
}

impl std::fmt::Debug for StorageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageClient")
            .field("credential", &self.credential.is_some())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// One request, rebuilt for every attempt.
pub(crate) struct Request<'a> {
    pub operation: &'static str,
    pub method: Method,
    /// The URL with query and SAS.
    pub url: Url,
    /// What errors show instead of the URL (no query string).
    pub shown: String,
    /// Headers besides the common ones.
    pub headers: Vec<(String, &'a str)>,
    /// The body and its content type.
    pub body: Option<(Bytes, &'a str)>,
}

/// A complete 2xx answer (the bodies read here are small), with the request it answers.
pub(crate) struct Answer {
    pub call: Call,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// A header's value, trimmed, when present and not empty.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

impl StorageClient {
    /// A client signing with `auth`. `http` lets the caller share a client (proxies,
    /// connection pool); `None` builds one.
    pub fn new(
        auth: StorageAuth,
        http: Option<reqwest::Client>,
        options: ClientOptions,
    ) -> Result<Self, StorageError> {
        let http = match http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .build()
                .map_err(StorageError::HttpClient)?,
        };
        Ok(StorageClient::with_http(auth, http, options))
    }

    /// A client signing with `auth` on the caller's HTTP client.
    pub fn with_http(auth: StorageAuth, http: reqwest::Client, options: ClientOptions) -> Self {
        let credential = match auth {
            StorageAuth::Sas => None,
            StorageAuth::Token(credential) => Some(credential),
        };
        StorageClient {
            http,
            credential,
            options,
        }
    }

    /// Checks that requests to `url` can be signed as this client signs them, and keeps its
    /// SAS: with a token credential the URL must carry no SAS (one way of signing) and must
    /// be https, or http to loopback (an emulator), so a token never travels in clear.
    pub fn resource(&self, url: Url) -> Result<ResourceUrl, StorageError> {
        let resource = ResourceUrl::new(url.clone())?;
        if self.credential.is_some() {
            let invalid = |reason: &str| StorageError::InvalidUrl {
                url: without_query(&url),
                reason: reason.to_string(),
            };
            if url.query().is_some_and(|q| !q.is_empty()) {
                return Err(invalid("it carries a query string (a SAS) and a token credential was given too: use one"));
            }
            if url.scheme() != "https" && !is_local(&url) {
                return Err(invalid(
                    "it is plain http: bearer tokens are only sent over https (or to loopback)",
                ));
            }
        }
        Ok(resource)
    }

    /// Sends `request` until it succeeds, fails for good, or the attempts are spent.
    pub(crate) async fn send(&self, request: Request<'_>) -> Result<Answer, StorageError> {
        let request = &request;
        let again = |e: &StorageError| {
            e.is_transient().then(|| {
                tracing::debug!(error = %e, "Azure Storage call failed, retrying");
                e.retry_after()
            })
        };
        retry(
            &self.options.backoff,
            self.options.attempts.max(1),
            |_| self.send_once(request),
            again,
        )
        .await
    }

    fn request_id(&self, operation: &str) -> String {
        let id = uuid::Uuid::new_v4();
        match self.options.request_id_prefix {
            Some(prefix) => format!("{prefix}.{};{id}", operation.replace(' ', "-")),
            None => id.to_string(),
        }
    }

    async fn send_once(&self, r: &Request<'_>) -> Result<Answer, StorageError> {
        let call = Call {
            operation: r.operation,
            method: method_name(&r.method),
            url: r.shown.clone(),
            client_request_id: self.request_id(r.operation),
        };
        let mut request = self
            .http
            .request(r.method.clone(), r.url.clone())
            .timeout(self.options.timeout)
            .header("x-ms-version", self.options.version)
            .header("x-ms-date", to_rfc7231(&OffsetDateTime::now_utc()))
            .header("x-ms-client-request-id", &call.client_request_id);
        for (k, v) in &r.headers {
            request = request.header(k.as_str(), *v);
        }
        request = match &r.body {
            Some((bytes, content_type)) => request
                .header("content-type", *content_type)
                .body(bytes.clone()),
            None if r.method == Method::GET || r.method == Method::HEAD => request,
            None => request.header("content-length", "0").body(Vec::<u8>::new()),
        };
        if let Some(credential) = &self.credential {
            let token = match credential.get_token(&[STORAGE_SCOPE], None).await {
                Ok(token) => token,
                Err(source) => {
                    return Err(StorageError::Credential {
                        call: Box::new(call),
                        scope: STORAGE_SCOPE,
                        source: Box::new(source),
                    })
                }
            };
            request = request.bearer_auth(token.token.secret());
        }
        let (status, headers, body) = match exchange(request).await {
            Ok(answer) => answer,
            Err(source) => {
                return Err(StorageError::Transport {
                    call: Box::new(call),
                    source,
                })
            }
        };
        if (200..300).contains(&status) {
            return Ok(Answer {
                call,
                headers,
                body,
            });
        }
        Err(status_error(call, status, &headers, &body))
    }
}

/// Sends and reads the whole answer; a transport error loses its URL (it holds the SAS).
async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(u16, HeaderMap, Bytes), reqwest::Error> {
    let response = request.send().await.map_err(|e| e.without_url())?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| e.without_url())?;
    Ok((status, headers, body))
}

/// The methods the layer sends, as static text for [`Call`].
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::PUT => "PUT",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}

/// The error for a non-2xx answer: the code from `x-ms-error-code`, else the body's `<Code>`.
fn status_error(call: Call, status: u16, headers: &HeaderMap, body: &[u8]) -> StorageError {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (body_code, message) = parse_error(body);
    StorageError::Status {
        call: Box::new(call),
        status,
        code: header("x-ms-error-code").or(body_code),
        message,
        request_id: header("x-ms-request-id"),
        retry_after: header("retry-after").and_then(|v| parse_retry_after(&v, SystemTime::now())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_becomes_a_status_error_with_the_service_details() {
        let call = Call {
            operation: "blob upload",
            method: "PUT",
            url: "http://h/a/c/b".into(),
            client_request_id: "r".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        headers.insert("x-ms-request-id", "rid".parse().unwrap());
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>Busy.\nRequestId:x</Message></Error>";
        let e = status_error(call.clone(), 503, &headers, body.as_bytes());
        assert!(e.is_transient());
        assert_eq!(e.code(), Some("ServerBusy"));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(
            matches!(&e, StorageError::Status { message: Some(m), request_id: Some(r), .. } if m == "Busy." && r == "rid")
        );
        headers.insert("x-ms-error-code", "OperationTimedOut".parse().unwrap());
        let e = status_error(call, 500, &headers, b"");
        assert_eq!(e.code(), Some("OperationTimedOut"), "the header wins");
    }

    #[test]
    fn request_ids_are_named_when_asked() {
        let client = |prefix| {
            StorageClient::new(
                StorageAuth::Sas,
                Some(reqwest::Client::new()),
                ClientOptions {
                    request_id_prefix: prefix,
                    ..ClientOptions::default()
                },
            )
            .unwrap()
        };
        let id = client(Some("iotc-adx")).request_id("blob upload");
        let (op, uuid) = id.split_once(';').unwrap();
        assert_eq!(op, "iotc-adx.blob-upload");
        assert!(uuid::Uuid::parse_str(uuid).is_ok());
        assert!(uuid::Uuid::parse_str(&client(None).request_id("x")).is_ok());
    }

    #[test]
    fn token_clients_refuse_sas_and_plain_http() {
        let token = StorageClient::new(
            StorageAuth::Token(Arc::new(NoToken)),
            Some(reqwest::Client::new()),
            ClientOptions::default(),
        )
        .unwrap();
        let bad = |url: &str| {
            token
                .resource(Url::parse(url).unwrap())
                .unwrap_err()
                .to_string()
        };
        assert!(bad("http://acct.blob.core.windows.net/c").contains("plain http"));
        let e = bad("https://acct.blob.core.windows.net/c?sig=SECRET");
        assert!(e.contains("use one") && !e.contains("SECRET"), "{e}");
        assert!(token
            .resource(Url::parse("http://127.0.0.1:1/acct/c").unwrap())
            .is_ok());
        let sas = StorageClient::new(StorageAuth::Sas, None, ClientOptions::default()).unwrap();
        assert!(sas
            .resource(Url::parse("http://acct.blob.core.windows.net/c?sig=s").unwrap())
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
