//! `GET /{tenant}/v2.0/.well-known/openid-configuration`: the OpenID Connect discovery document.
//! MSAL (and so Python's `azure-identity`) reads the token endpoint from it before it asks for a
//! token; `azure_identity` (Rust) does not need it. Only the fields MSAL reads are meaningful.

use super::entra::EntraError;
use super::responses::request_host;
use super::state::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;

/// The scheme a listener serves (`http` or `https`), so that advertised URLs use it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scheme(pub &'static str);

/// The handler.
pub(crate) async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Extension(Scheme(scheme)): Extension<Scheme>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !tenant.eq_ignore_ascii_case(shared.authority.tenant()) {
        return EntraError::UnknownTenant(tenant).into_response();
    }
    let base = format!("{scheme}://{}/{tenant}", request_host(&headers, &uri));
    super::responses::json(
        StatusCode::OK,
        serde_json::json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }),
    )
}
