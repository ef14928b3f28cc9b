//! `POST /{tenant}/oauth2/v2.0/token`: Entra ID's token endpoint for the client-credentials
//! grant, with a client secret or a client assertion. Answers and errors have Entra ID's shape:
//! `{token_type, expires_in, ext_expires_in, access_token}` on success, and
//! `{error, error_description: "AADSTSnnn: ...", error_codes, timestamp, trace_id,
//! correlation_id, error_uri}` with 400/401 on failure.

use super::assertion::{self, AssertionError};
use super::responses::{audience_of, fault, json, unix_now};
use super::state::{Endpoint, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

/// The `client_assertion_type` for JWT assertions.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A refusal, mapped to Entra ID's status, `error` and AADSTS code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntraError {
    /// The tenant in the path is not this authority's.
    #[error("Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")]
    UnknownTenant(String),
    /// A required form field is missing.
    #[error("The request body must contain the following parameter: '{0}'.")]
    MissingParameter(&'static str),
    /// `grant_type` other than `client_credentials`.
    #[error("The provided value for the input parameter 'grant_type' is not valid. Expected values are the following: 'client_credentials'. Found: '{0}'.")]
    UnsupportedGrantType(String),
    /// Scope without `/.default` (client credentials need it) or more than one resource.
    #[error("The provided value for scope {0} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")]
    InvalidScope(String),
    /// No application with that client id.
    #[error("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")]
    UnknownClient {
        /// The client id sent.
        client_id: String,
        /// The tenant.
        tenant: String,
    },
    /// Neither a secret nor an assertion.
    #[error("The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")]
    NoCredential,
    /// Wrong (or unregistered) secret.
    #[error("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{0}'.")]
    WrongSecret(String),
    /// `client_assertion_type` is not the JWT bearer type.
    #[error("The client_assertion_type '{0}' is not supported; expected '{JWT_BEARER}'.")]
    UnsupportedAssertionType(String),
    /// The assertion was refused.
    #[error("{0}")]
    BadAssertion(#[from] AssertionError),
}

impl EntraError {
    /// HTTP status, `error` and AADSTS number, as Entra ID answers.
    fn classify(&self) -> (StatusCode, &'static str, u32) {
        use EntraError::*;
        match self {
            UnknownTenant(_) => (StatusCode::BAD_REQUEST, "invalid_request", 90002),
            MissingParameter(_) => (StatusCode::BAD_REQUEST, "invalid_request", 900144),
            UnsupportedGrantType(_) => (StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003),
            InvalidScope(_) => (StatusCode::BAD_REQUEST, "invalid_scope", 1002012),
            UnknownClient { .. } => (StatusCode::BAD_REQUEST, "unauthorized_client", 700016),
            NoCredential => (StatusCode::UNAUTHORIZED, "invalid_client", 7000218),
            WrongSecret(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 7000215),
            UnsupportedAssertionType(_) => (StatusCode::BAD_REQUEST, "invalid_request", 700009),
            BadAssertion(AssertionError::Malformed(_)) => {
                (StatusCode::UNAUTHORIZED, "invalid_client", 50027)
            }
            BadAssertion(AssertionError::OutOfTime) => {
                (StatusCode::UNAUTHORIZED, "invalid_client", 700024)
            }
            BadAssertion(AssertionError::WrongSubject { .. }) => {
                (StatusCode::UNAUTHORIZED, "invalid_client", 700021)
            }
            BadAssertion(AssertionError::WrongAudience { .. }) => {
                (StatusCode::UNAUTHORIZED, "invalid_client", 700212)
            }
            BadAssertion(AssertionError::NoFederatedMatch { .. }) => {
                (StatusCode::BAD_REQUEST, "invalid_request", 70021)
            }
        }
    }

    /// The error answer.
    pub(crate) fn into_response(self) -> Response {
        let (status, error, code) = self.classify();
        let trace_id = uuid::Uuid::new_v4();
        let correlation_id = uuid::Uuid::new_v4();
        let timestamp = chrono_like_timestamp();
        json(
            status,
            serde_json::json!({
                "error": error,
                "error_description": format!("AADSTS{code}: {self} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"),
                "error_codes": [code],
                "timestamp": timestamp,
                "trace_id": trace_id.to_string(),
                "correlation_id": correlation_id.to_string(),
                "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
            }),
        )
    }
}

/// `YYYY-MM-DD hh:mm:ssZ`, as Entra ID writes `timestamp`.
fn chrono_like_timestamp() -> String {
    let secs = unix_now();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), to avoid a date dependency.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The handler.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    let audience = form.get("scope").map(|s| audience_of(s));
    if let Some(f) = shared.take_fault() {
        shared.record(Endpoint::Entra, &client_id, audience, f.status);
        return fault(f);
    }
    let host = super::responses::request_host(&headers, &uri);
    match issue(&shared, &tenant, &host, &form) {
        Ok(response) => {
            shared.record(Endpoint::Entra, &client_id, audience, 200);
            response
        }
        Err(e) => {
            tracing::info!(%tenant, %client_id, error = %e, "token request refused");
            let response = e.into_response();
            shared.record(
                Endpoint::Entra,
                &client_id,
                audience,
                response.status().as_u16(),
            );
            response
        }
    }
}

fn issue(
    shared: &Shared,
    tenant: &str,
    host: &str,
    form: &HashMap<String, String>,
) -> Result<Response, EntraError> {
    if !tenant.eq_ignore_ascii_case(shared.authority.tenant()) {
        return Err(EntraError::UnknownTenant(tenant.to_string()));
    }
    let grant_type = form
        .get("grant_type")
        .ok_or(EntraError::MissingParameter("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(EntraError::UnsupportedGrantType(grant_type.clone()));
    }
    let client_id = form
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or(EntraError::MissingParameter("client_id"))?;
    let scope = form
        .get("scope")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or(EntraError::MissingParameter("scope"))?;
    if scope.split_whitespace().count() != 1 || !scope.ends_with("/.default") {
        return Err(EntraError::InvalidScope(scope.to_string()));
    }
    let app = shared
        .options
        .applications
        .iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
        .ok_or_else(|| EntraError::UnknownClient {
            client_id: client_id.clone(),
            tenant: tenant.to_string(),
        })?;

    if let Some(secret) = form.get("client_secret") {
        if app.client_secret.as_deref() != Some(secret.as_str()) {
            return Err(EntraError::WrongSecret(app.client_id.clone()));
        }
    } else if let Some(jwt) = form.get("client_assertion") {
        let kind = form
            .get("client_assertion_type")
            .ok_or(EntraError::MissingParameter("client_assertion_type"))?;
        if kind != JWT_BEARER {
            return Err(EntraError::UnsupportedAssertionType(kind.clone()));
        }
        let claims = assertion::decode(jwt, unix_now())?;
        assertion::check(&claims, app, &endpoint_urls(host, tenant))?;
    } else {
        return Err(EntraError::NoCredential);
    }

    let lifetime = shared.lifetime();
    let (access_token, _exp) = shared.authority.issue(scope, &app.client_id, lifetime);
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "ext_expires_in": lifetime.as_secs(),
            "access_token": access_token,
        }),
    ))
}

/// The URLs this endpoint is known by, as a certificate-style assertion's `aud` may name it:
/// the v2.0 and v1 token URLs on the `Host` the request came to, over https and http.
fn endpoint_urls(host: &str, tenant: &str) -> Vec<String> {
    ["https", "http"]
        .iter()
        .flat_map(|scheme| {
            [
                format!("{scheme}://{host}/{tenant}/oauth2/v2.0/token"),
                format!("{scheme}://{host}/{tenant}/oauth2/token"),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_has_entra_shape() {
        let t = super::chrono_like_timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b' ', "{t}");
        assert!(t.starts_with("20"), "{t}");
    }
}
