//! Entra ID stand-ins: the [`TokenAuthority`] that signs and checks access tokens, and the HTTP
//! token endpoints ([`IdentityServer`]) that `azure_identity` credentials fetch them from.
//!
//! # Pointing clients at the server
//! - **Entra ID credentials** (`ClientSecretCredential`, `ClientAssertionCredential`,
//!   `WorkloadIdentityCredential` in `azure_identity` 1.1.0-beta.1) refuse an authority host that
//!   is not `https://` (`get_authority_host` in azure_identity's `lib.rs`). Give them
//!   `ClientOptions { cloud: Some(CustomConfiguration { authority_host:
//!   server.authority_host(), .. }.into()), transport: Some(Transport::new(Arc::new(
//!   server.https_client()?))), .. }`: the HTTPS listener presents a certificate signed by a CA
//!   generated at start, and [`IdentityServer::https_client`] is a `reqwest::Client` that trusts
//!   it (reqwest's client is an `azure_core` `HttpClient`). `AZURE_AUTHORITY_HOST` works too but
//!   is process-global. Python/MSAL: `authority=server.authority_host()`,
//!   `disable_instance_discovery=True`, and `SSL_CERT_FILE`/`REQUESTS_CA_BUNDLE` pointing at
//!   [`IdentityServer::ca_certificate_pem`] written to a file.
//! - **IMDS**: `azure_identity` always calls `http://169.254.169.254/metadata/identity/oauth2/token`
//!   (a constant in `virtual_machine_managed_identity_credential.rs`); the only seam is the
//!   transport, which must send those requests to [`IdentityServer::http_addr`] instead. Python
//!   honours `AZURE_POD_IDENTITY_AUTHORITY_HOST=`[`IdentityServer::http_authority_host`].
//! - **App Service / Container Apps**: set `IDENTITY_ENDPOINT` =
//!   [`IdentityServer::identity_endpoint`] and `IDENTITY_HEADER` =
//!   [`IdentityServer::identity_header`] (read from the process environment by the SDKs).
//!
//! # What is checked
//! Client secrets exactly; client assertions as described in [`assertion`] (claims and times,
//! **not** signatures); managed identities by client id, object id or resource id against the
//! registered ones; `Metadata: true` and `X-IDENTITY-HEADER`. Tokens are this authority's HS256
//! JWTs, so only the stand-ins (not real Azure services) accept them.

mod authority;
pub use authority::{Claims, TokenAuthority, TokenError};

pub mod assertion;
mod discovery;
mod entra;
mod managed;
mod options;
mod responses;
mod server;
mod state;
mod tls;

pub use entra::{EntraError, JWT_BEARER};
pub use managed::{ManagedError, APP_SERVICE_API_VERSION};
pub use options::{AppRegistration, FederatedCredential, IdentityOptions, ManagedIdentity};
pub use server::{ClientError, IdentityServer, StartError, APP_SERVICE_PATH, IMDS_PATH};
pub use state::{Endpoint, Fault, TokenRequestRecord};
pub use tls::{certificates, TestCertificates, TlsError};
