//! Helpers for pointing `azure_identity` credentials at an [`IdentityServer`].
//!
//! - Entra ID credentials (`ClientSecretCredential`, `ClientAssertionCredential`,
//!   `WorkloadIdentityCredential`) take the authority host from `ClientOptions::cloud` (a custom
//!   cloud) and insist on `https://`, so they get the server's HTTPS address and a transport (a
//!   `reqwest::Client`) that trusts the server's generated CA.
//! - `ManagedIdentityCredential` on IMDS always requests `http://169.254.169.254/...`
//!   (`virtual_machine_managed_identity_credential.rs`, `const ENDPOINT`); the only seam is the
//!   transport, so [`RedirectTransport`] sends those requests to the server instead.

#![allow(dead_code)]

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use iotc_adx_testkit::identity::IdentityServer;
use std::net::SocketAddr;
use std::sync::Arc;

/// Client options for Entra ID credentials: custom cloud with the server as authority host, and
/// a transport trusting its CA.
pub fn entra_client_options(server: &IdentityServer) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = server.authority_host();
    let client = server.https_client().expect("https client");
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        transport: Some(Transport::new(Arc::new(client))),
        ..Default::default()
    }
}

/// A transport that sends requests for the IMDS address (169.254.169.254:80) to `target`
/// instead, and everything else unchanged.
#[derive(Debug)]
pub struct RedirectTransport {
    target: SocketAddr,
    inner: reqwest::Client,
}

impl RedirectTransport {
    /// Redirects IMDS requests to the server's plain-HTTP address.
    pub fn to(server: &IdentityServer) -> Self {
        RedirectTransport {
            target: server.http_addr(),
            inner: reqwest::Client::new(),
        }
    }

    /// Client options using this transport.
    pub fn client_options(self) -> ClientOptions {
        ClientOptions {
            transport: Some(Transport::new(Arc::new(self))),
            ..Default::default()
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for RedirectTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut request = request.clone();
        if request.url().host_str() == Some("169.254.169.254") {
            let url = request.url_mut();
            url.set_ip_host(self.target.ip())
                .expect("http URL takes an IP host");
            url.set_port(Some(self.target.port()))
                .expect("http URL takes a port");
        }
        self.inner.execute_request(&request).await
    }
}
