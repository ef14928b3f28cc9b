//! Managed-identity token endpoints:
//! - IMDS, `GET /metadata/identity/oauth2/token?api-version&resource[&client_id|&object_id|&msi_res_id]`
//!   with header `Metadata: true` (what a VM's identity endpoint at 169.254.169.254 serves);
//! - App Service / Container Apps, `GET /msi/token?api-version=2019-08-01&resource[&client_id|
//!   &principal_id|&object_id|&mi_res_id]` with header `X-IDENTITY-HEADER` equal to the
//!   `IDENTITY_HEADER` secret (what `IDENTITY_ENDPOINT` points at).
//!
//! The IMDS error body is `{"error","error_description"}` with 400, as IMDS answers; the App
//! Service error body `{"statusCode","message","correlationId"}` is modelled on App Service's
//! answers (its exact wording is not documented).

use super::options::ManagedIdentity;
use super::responses::{audience_of, fault, json, unix_now};
use super::state::{Endpoint, Shared};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

/// The api-version App Service's `IDENTITY_ENDPOINT` protocol requires.
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Why a managed-identity token request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManagedError {
    /// IMDS: no `Metadata: true` header.
    #[error("Required metadata header not specified")]
    NoMetadataHeader,
    /// App Service: `X-IDENTITY-HEADER` missing or wrong.
    #[error("The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER")]
    BadIdentityHeader,
    /// A required query parameter is missing.
    #[error("Required query variable '{0}' is missing")]
    MissingParameter(&'static str),
    /// App Service: api-version other than 2019-08-01.
    #[error("api-version '{0}' is not supported; use 2019-08-01")]
    UnsupportedApiVersion(String),
    /// More than one of client id / object id / resource id given.
    #[error("Only one of client_id, object_id or msi_res_id may be specified")]
    AmbiguousIdentity,
    /// The identity asked for is not assigned to this host.
    #[error("Identity not found")]
    IdentityNotFound,
}

impl ManagedError {
    fn status(&self) -> StatusCode {
        match self {
            ManagedError::BadIdentityHeader => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn imds_response(&self) -> Response {
        json(
            self.status(),
            serde_json::json!({ "error": "invalid_request", "error_description": self.to_string() }),
        )
    }

    fn app_service_response(&self) -> Response {
        let message = match self {
            ManagedError::IdentityNotFound => {
                "Unable to load the proper Managed Identity.".to_string()
            }
            other => other.to_string(),
        };
        json(
            self.status(),
            serde_json::json!({
                "statusCode": self.status().as_u16(),
                "message": message,
                "correlationId": uuid::Uuid::new_v4().to_string(),
            }),
        )
    }
}

/// Which identity a request selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    SystemAssigned,
    ClientId(String),
    ObjectId(String),
    ResourceId(String),
}

impl Selector {
    /// From the query: the first name in each list selects by client id, object id, resource id.
    fn from_query(
        query: &HashMap<String, String>,
        object_names: &[&str],
        resource_names: &[&str],
    ) -> Result<Self, ManagedError> {
        let pick = |names: &[&str]| names.iter().find_map(|n| query.get(*n)).cloned();
        let found: Vec<Selector> = [
            query.get("client_id").cloned().map(Selector::ClientId),
            pick(object_names).map(Selector::ObjectId),
            pick(resource_names).map(Selector::ResourceId),
        ]
        .into_iter()
        .flatten()
        .collect();
        match found.as_slice() {
            [] => Ok(Selector::SystemAssigned),
            [one] => Ok(one.clone()),
            _ => Err(ManagedError::AmbiguousIdentity),
        }
    }

    fn shown(&self) -> String {
        match self {
            Selector::SystemAssigned => String::new(),
            Selector::ClientId(s) | Selector::ObjectId(s) | Selector::ResourceId(s) => s.clone(),
        }
    }

    fn resolve<'a>(&self, shared: &'a Shared) -> Result<&'a ManagedIdentity, ManagedError> {
        let ua = &shared.options.user_assigned;
        let found = match self {
            Selector::SystemAssigned => shared.options.system_assigned.as_ref(),
            Selector::ClientId(id) => ua.iter().find(|m| m.client_id.eq_ignore_ascii_case(id)),
            Selector::ObjectId(id) => ua.iter().find(|m| m.object_id.eq_ignore_ascii_case(id)),
            Selector::ResourceId(id) => ua
                .iter()
                .find(|m| !m.resource_id.is_empty() && m.resource_id.eq_ignore_ascii_case(id)),
        };
        found.ok_or(ManagedError::IdentityNotFound)
    }
}

fn parse_query(raw: Option<String>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// What a successful request gets, before shaping.
struct Issued {
    access_token: String,
    expires_on: u64,
    lifetime: u64,
    resource: String,
    client_id: String,
}

/// Common part: fault injection, checks, issuing, logging.
fn handle(
    shared: &Shared,
    endpoint: Endpoint,
    query: &HashMap<String, String>,
    check: impl FnOnce() -> Result<Selector, ManagedError>,
) -> Result<Issued, Box<Response>> {
    let audience = query.get("resource").map(|r| audience_of(r));
    let shown = query
        .get("client_id")
        .or_else(|| query.get("object_id"))
        .or_else(|| query.get("principal_id"))
        .or_else(|| query.get("msi_res_id"))
        .or_else(|| query.get("mi_res_id"))
        .cloned()
        .unwrap_or_default();
    if let Some(f) = shared.take_fault() {
        shared.record(endpoint, &shown, audience, f.status);
        return Err(Box::new(fault(f)));
    }
    let refuse = |e: ManagedError| {
        tracing::info!(?endpoint, error = %e, "managed identity token request refused");
        let response = if endpoint == Endpoint::Imds {
            e.imds_response()
        } else {
            e.app_service_response()
        };
        shared.record(
            endpoint,
            &shown,
            audience.clone(),
            response.status().as_u16(),
        );
        Box::new(response)
    };
    let selector = check().map_err(refuse)?;
    let resource = query
        .get("resource")
        .filter(|r| !r.trim().is_empty())
        .cloned();
    let resource = resource
        .ok_or(ManagedError::MissingParameter("resource"))
        .map_err(refuse)?;
    let identity = selector.resolve(shared).map_err(|e| {
        tracing::info!(selector = %selector.shown(), "unknown managed identity");
        refuse(e)
    })?;
    let lifetime = shared.lifetime();
    let (access_token, expires_on) =
        shared
            .authority
            .issue(&resource, &identity.client_id, lifetime);
    shared.record(endpoint, &identity.client_id, audience, 200);
    Ok(Issued {
        access_token,
        expires_on,
        lifetime: lifetime.as_secs(),
        resource,
        client_id: identity.client_id.clone(),
    })
}

/// IMDS handler.
pub(crate) async fn imds(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = parse_query(raw);
    let result = handle(&shared, Endpoint::Imds, &query, || {
        let metadata = headers
            .get("metadata")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // IMDS wants exactly `true`, in lower case.
        if metadata != "true" {
            return Err(ManagedError::NoMetadataHeader);
        }
        if !query.contains_key("api-version") {
            return Err(ManagedError::MissingParameter("api-version"));
        }
        Selector::from_query(
            &query,
            &["object_id", "principal_id"],
            &["msi_res_id", "mi_res_id"],
        )
    });
    match result {
        Err(response) => *response,
        Ok(t) => {
            let now = unix_now();
            json(
                StatusCode::OK,
                serde_json::json!({
                    "access_token": t.access_token,
                    "client_id": t.client_id,
                    "expires_in": t.lifetime.to_string(),
                    "expires_on": t.expires_on.to_string(),
                    "ext_expires_in": t.lifetime.to_string(),
                    "not_before": now.saturating_sub(5).to_string(),
                    "resource": t.resource,
                    "token_type": "Bearer",
                }),
            )
        }
    }
}

/// App Service / Container Apps handler.
pub(crate) async fn app_service(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = parse_query(raw);
    let result = handle(&shared, Endpoint::AppService, &query, || {
        let secret = headers
            .get("x-identity-header")
            .and_then(|v| v.to_str().ok());
        if secret != Some(shared.options.identity_header.as_str()) {
            return Err(ManagedError::BadIdentityHeader);
        }
        match query.get("api-version") {
            None => return Err(ManagedError::MissingParameter("api-version")),
            Some(v) if v != APP_SERVICE_API_VERSION => {
                return Err(ManagedError::UnsupportedApiVersion(v.clone()))
            }
            Some(_) => {}
        }
        Selector::from_query(&query, &["principal_id", "object_id"], &["mi_res_id"])
    });
    match result {
        Err(response) => *response,
        Ok(t) => json(
            StatusCode::OK,
            serde_json::json!({
                "access_token": t.access_token,
                "expires_on": t.expires_on.to_string(),
                "resource": t.resource,
                "token_type": "Bearer",
                "client_id": t.client_id,
            }),
        ),
    }
}
