//! [`IdentityServer`]: binds 127.0.0.1 twice (plain HTTP and HTTPS, same routes), serves the
//! Entra ID token endpoint (and its OpenID discovery document), IMDS and App Service token
//! endpoints, and gives tests the request log, fault
//! injection and run-time control of the token lifetime. Dropping it stops everything.

use super::discovery::{self, Scheme};
use super::options::IdentityOptions;
use super::state::{Fault, Shared, TokenRequestRecord};
use super::tls::{self, TlsError};
use super::{entra, managed, TokenAuthority};
use axum::routing::{get, post};
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Path of the IMDS token endpoint.
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// Path of the App Service / Container Apps token endpoint (`IDENTITY_ENDPOINT`).
pub const APP_SERVICE_PATH: &str = "/msi/token";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding a loopback port failed.
    #[error("could not bind 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
    /// The TLS certificate could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Why [`IdentityServer::https_client`] failed.
#[derive(Debug, thiserror::Error)]
#[error("could not build an HTTP client trusting the test CA: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// A running identity server. Everything stops when it is dropped.
pub struct IdentityServer {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    https_addr: SocketAddr,
    ca_der: Vec<u8>,
    ca_pem: String,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for IdentityServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityServer")
            .field("http_addr", &self.http_addr)
            .field("https_addr", &self.https_addr)
            .finish_non_exhaustive()
    }
}

impl IdentityServer {
    /// Starts a server issuing tokens signed by `authority`, configured by `options`.
    pub async fn start(
        authority: TokenAuthority,
        options: IdentityOptions,
    ) -> Result<Self, StartError> {
        let shared = Shared::new(authority, options);
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(entra::token))
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(discovery::openid_configuration),
            )
            .route(IMDS_PATH, get(managed::imds))
            .route(APP_SERVICE_PATH, get(managed::app_service))
            .with_state(shared.clone());
        let material = tls::generate()?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let https = TcpListener::bind("127.0.0.1:0").await?;
        let (http_addr, https_addr) = (http.local_addr()?, https.local_addr()?);
        let tasks = vec![
            tokio::spawn(accept_loop(
                http,
                None,
                router.clone().layer(Extension(Scheme("http"))),
            )),
            tokio::spawn(accept_loop(
                https,
                Some(material.acceptor),
                router.layer(Extension(Scheme("https"))),
            )),
        ];
        tracing::info!(%http_addr, %https_addr, "identity server started");
        Ok(IdentityServer {
            shared,
            http_addr,
            https_addr,
            ca_der: material.ca_der,
            ca_pem: material.ca_pem,
            tasks,
        })
    }

    /// The plain-HTTP address (all endpoints).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The HTTPS address (all endpoints; certificate signed by [`Self::ca_certificate_der`]).
    pub fn https_addr(&self) -> SocketAddr {
        self.https_addr
    }

    /// The authority host for `azure_identity` (`AZURE_AUTHORITY_HOST` or a custom cloud's
    /// `authority_host`): `https://127.0.0.1:<port>`. Clients must trust the test CA.
    pub fn authority_host(&self) -> String {
        format!("https://{}", self.https_addr)
    }

    /// The same endpoints over plain HTTP (for clients that accept an `http://` authority).
    pub fn http_authority_host(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The Entra ID token URL for this authority's tenant, over HTTPS.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_host(),
            self.shared.authority.tenant()
        )
    }

    /// The IMDS token URL (stands in for `http://169.254.169.254/metadata/identity/oauth2/token`).
    pub fn imds_endpoint(&self) -> String {
        format!("http://{}{IMDS_PATH}", self.http_addr)
    }

    /// The value for `IDENTITY_ENDPOINT` (App Service / Container Apps).
    pub fn identity_endpoint(&self) -> String {
        format!("http://{}{APP_SERVICE_PATH}", self.http_addr)
    }

    /// The value for `IDENTITY_HEADER`.
    pub fn identity_header(&self) -> &str {
        &self.shared.options.identity_header
    }

    /// The options the server was started with.
    pub fn options(&self) -> &IdentityOptions {
        &self.shared.options
    }

    /// The authority signing the tokens, to validate them.
    pub fn authority(&self) -> &TokenAuthority {
        &self.shared.authority
    }

    /// The generated CA certificate (DER) that signed the HTTPS certificate.
    pub fn ca_certificate_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The generated CA certificate (PEM), e.g. for `REQUESTS_CA_BUNDLE` or `SSL_CERT_FILE`.
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A reqwest client that trusts the test CA. `reqwest::Client` implements `azure_core`'s
    /// `HttpClient`, so this is what `ClientOptions::transport` takes to reach the HTTPS endpoint.
    pub fn https_client(&self) -> Result<reqwest::Client, ClientError> {
        let ca = reqwest::Certificate::from_der(&self.ca_der)?;
        Ok(reqwest::Client::builder()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(30))
            .build()?)
    }

    /// Every token request so far, oldest first.
    pub fn requests(&self) -> Vec<TokenRequestRecord> {
        self.shared.requests()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.shared.clear_requests()
    }

    /// Makes the next `count` token requests (any endpoint) fail with `status`, with a
    /// `Retry-After: <seconds>` header if `retry_after` is given.
    pub fn fail_next(&self, count: usize, status: u16, retry_after: Option<Duration>) {
        self.shared.inject(
            count,
            Fault {
                status,
                retry_after: retry_after.map(|d| d.as_secs()),
            },
        )
    }

    /// Changes the lifetime of tokens issued from now on (at least one second).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.set_lifetime(lifetime)
    }

    /// The lifetime of tokens issued now.
    pub fn token_lifetime(&self) -> Duration {
        self.shared.lifetime()
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for IdentityServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Accepts connections (through TLS if `tls` is given) and serves HTTP/1.1 and HTTP/2 on each.
/// Connections live in a JoinSet owned by this task, so aborting it closes them all.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(router.clone());
        let tls = tls.clone();
        connections.spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            let served = match tls {
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls_stream)) => {
                            builder
                                .serve_connection(TokioIo::new(tls_stream), service)
                                .await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
