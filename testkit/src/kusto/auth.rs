//! Bearer-token checks: with [`AuthMode::Tokens`](super::AuthMode), every request except the
//! auth metadata needs a token the shared authority issued for the emulator's audience;
//! otherwise 401 in the OneApiError shape.

use super::errors::ApiError;
use super::shared::{AuthMode, Shared};
use axum::http::{HeaderMap, StatusCode};

fn unauthorized(message: String) -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "Unauthorized".into(),
        type_name: "Kusto.Common.Svc.Exceptions.UnauthorizedOperationException".into(),
        message,
        permanent: true,
        retry_after: None,
    }
}

/// Checks the request's `Authorization` header.
pub(super) fn check(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let AuthMode::Tokens {
        authority,
        audiences,
    } = &shared.options.auth
    else {
        return Ok(());
    };
    let header = headers
        .get("authorization")
        .ok_or_else(|| unauthorized("the request has no Authorization header".into()))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text".into()))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| unauthorized("the Authorization header is not a Bearer token".into()))?;
    let own = [shared.url.clone()];
    let accepted: &[String] = if audiences.is_empty() {
        &own
    } else {
        audiences
    };
    let mut last = None;
    for audience in accepted {
        match authority.validate(token, audience) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(unauthorized(match last {
        Some(e) => format!("the token was refused: {e}"),
        None => "no audience is accepted".into(),
    }))
}
