//! Checks the `client_assertion` of a client-credentials request.
//!
//! Two kinds are accepted, as Entra ID accepts them:
//! - **certificate-style** (`ClientCertificateCredential`, `ClientAssertionCredential`): `iss` and
//!   `sub` are the client id and `aud` is the token endpoint the request was sent to;
//! - **federated** (`WorkloadIdentityCredential`): `iss`, `sub` and `aud` match one of the
//!   application's [`super::FederatedCredential`]s.
//!
//! Checked: the assertion is a JWT (three base64url segments, JSON header with `alg`, JSON
//! claims), `exp` is present and in the future, `nbf` (if present) is not in the future, and the
//! claims above. **Not checked:** the signature. The stand-in has no registered certificate or
//! issuer key set to verify against, so a forged assertion with the right claims is accepted.

use super::options::AppRegistration;
use base64::Engine;
use serde_json::Value;

/// Allowed clock skew when checking `exp` and `nbf`.
const SKEW_SECONDS: u64 = 60;

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// Not a JWT.
    #[error("the client assertion is not a well-formed JWT: {0}")]
    Malformed(String),
    /// Expired, not yet valid, or without `exp`.
    #[error("the client assertion is not within its valid time range")]
    OutOfTime,
    /// Certificate-style assertion whose `iss`/`sub` is not the client id.
    #[error("the client assertion's iss/sub {found:?} is not the client id")]
    WrongSubject {
        /// The `sub` (or `iss`) found.
        found: String,
    },
    /// Certificate-style assertion for another audience.
    #[error("the client assertion's audience {found:?} is not this token endpoint")]
    WrongAudience {
        /// The audiences found.
        found: String,
    },
    /// Federated assertion matching no federated credential.
    #[error("no matching federated identity record for issuer {issuer:?}, subject {subject:?}, audience {audience:?}")]
    NoFederatedMatch {
        /// `iss` of the assertion.
        issuer: String,
        /// `sub` of the assertion.
        subject: String,
        /// `aud` of the assertion.
        audience: String,
    },
}

/// The claims of an assertion this module looks at.
#[derive(Debug, Clone)]
pub struct AssertionClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`, as a list (a JWT may carry one string or an array).
    pub audiences: Vec<String>,
}

/// Decodes the header and claims of a JWT and checks its time range.
pub fn decode(jwt: &str, now: u64) -> Result<AssertionClaims, AssertionError> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(AssertionError::Malformed(format!(
            "{} segments, not 3",
            parts.len()
        )));
    };
    if signature.is_empty() {
        return Err(AssertionError::Malformed("empty signature segment".into()));
    }
    let header = segment_json(header, "header")?;
    if !header.get("alg").is_some_and(Value::is_string) {
        return Err(AssertionError::Malformed("header has no alg".into()));
    }
    let claims = segment_json(claims, "claims")?;
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let audiences = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(AssertionError::OutOfTime)?;
    if exp + SKEW_SECONDS <= now {
        return Err(AssertionError::OutOfTime);
    }
    if claims
        .get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|nbf| nbf > now + SKEW_SECONDS)
    {
        return Err(AssertionError::OutOfTime);
    }
    Ok(AssertionClaims {
        issuer: text("iss"),
        subject: text("sub"),
        audiences,
    })
}

fn segment_json(segment: &str, what: &str) -> Result<Value, AssertionError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|e| AssertionError::Malformed(format!("{what} is not base64url: {e}")))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| AssertionError::Malformed(format!("{what} is not JSON: {e}")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(AssertionError::Malformed(format!(
            "{what} is not a JSON object"
        )))
    }
}

/// Checks `claims` against `app`: federated credentials first, then the certificate-style rule
/// (`iss` = `sub` = client id, `aud` = one of `endpoint_urls`).
pub fn check(
    claims: &AssertionClaims,
    app: &AppRegistration,
    endpoint_urls: &[String],
) -> Result<(), AssertionError> {
    let federated = app.federated_credentials.iter().any(|f| {
        f.issuer == claims.issuer
            && f.subject == claims.subject
            && claims.audiences.iter().any(|a| a == &f.audience)
    });
    if federated {
        return Ok(());
    }
    if !app.accepts_certificate_assertions {
        return Err(AssertionError::NoFederatedMatch {
            issuer: claims.issuer.clone(),
            subject: claims.subject.clone(),
            audience: claims.audiences.join(","),
        });
    }
    if claims.issuer != app.client_id || claims.subject != app.client_id {
        let found = if claims.subject != app.client_id {
            &claims.subject
        } else {
            &claims.issuer
        };
        return Err(AssertionError::WrongSubject {
            found: found.clone(),
        });
    }
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let expected: Vec<String> = endpoint_urls.iter().map(|u| norm(u)).collect();
    if claims.audiences.iter().any(|a| expected.contains(&norm(a))) {
        Ok(())
    } else {
        Err(AssertionError::WrongAudience {
            found: claims.audiences.join(","),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn jwt(claims: Value) -> String {
        format!(
            "{}.{}.c2ln",
            b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            b64(&claims)
        )
    }

    #[test]
    fn decodes_and_checks_time() {
        let now = 1_000_000;
        let ok =
            jwt(serde_json::json!({"iss": "a", "sub": "a", "aud": ["x", "y"], "exp": now + 600}));
        let c = decode(&ok, now).unwrap();
        assert_eq!(c.audiences, vec!["x", "y"]);
        let expired =
            jwt(serde_json::json!({"iss": "a", "sub": "a", "aud": "x", "exp": now - 3600}));
        assert_eq!(
            decode(&expired, now).unwrap_err(),
            AssertionError::OutOfTime
        );
        let no_exp = jwt(serde_json::json!({"iss": "a", "sub": "a", "aud": "x"}));
        assert_eq!(decode(&no_exp, now).unwrap_err(), AssertionError::OutOfTime);
        let future = jwt(serde_json::json!({"aud": "x", "exp": now + 9000, "nbf": now + 3600}));
        assert_eq!(decode(&future, now).unwrap_err(), AssertionError::OutOfTime);
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.c2ln",
            "e30.e30.",
            "e30.e30.c2ln",
            "eyJhbGciOiJub25lIn0.WzFd.c2ln",
        ] {
            assert!(
                matches!(decode(bad, now), Err(AssertionError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
