//! Signs and validates the access tokens the stand-ins use: JWTs (HS256 with a per-process
//! random key) carrying the audience they were requested for and an expiry. The token
//! endpoints issue them; the Event Hubs and Data Explorer emulators validate them, refusing a
//! token that is forged, expired or meant for another audience, as the services do.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The claims of an issued token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Audience: the resource the token is for, such as `https://eventhubs.azure.net`.
    pub aud: String,
    /// Issuer: `https://login.microsoftonline.com/<tenant>/v2.0` style.
    pub iss: String,
    /// Subject: the client id or managed identity the token was issued to.
    pub sub: String,
    /// Application id, as Entra ID puts it in app tokens.
    pub appid: String,
    /// Tenant id.
    pub tid: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Not before (Unix seconds).
    pub nbf: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT this authority signed.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// Past its expiry.
    #[error("the token expired")]
    Expired,
    /// Issued for another resource.
    #[error("the token is for audience {found:?}, not {expected:?}")]
    WrongAudience {
        /// What the service expected.
        expected: String,
        /// What the token carries.
        found: String,
    },
}

/// Issues and checks tokens; share one between the token endpoints and the emulators.
#[derive(Clone)]
pub struct TokenAuthority {
    secret: Vec<u8>,
    tenant: String,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Default for TokenAuthority {
    fn default() -> Self {
        Self::new("72f988bf-86f1-41af-91ab-2d7cd011db47")
    }
}

/// The resource a token is for, from an OAuth scope (`https://x/.default` → `https://x`) or a
/// resource URL (trailing slashes ignored).
pub fn audience_of(scope_or_resource: &str) -> String {
    let s = scope_or_resource.trim();
    let s = s.strip_suffix("/.default").unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenAuthority {
    /// An authority for `tenant`, with a fresh random signing key.
    pub fn new(tenant: &str) -> Self {
        let secret: Vec<u8> = (0..4)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        TokenAuthority {
            secret,
            tenant: tenant.to_string(),
        }
    }

    /// The tenant id tokens are issued in.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Issues a token for `scope_or_resource` to `subject`, valid for `lifetime`.
    /// Returns the token and its expiry in Unix seconds.
    pub fn issue(
        &self,
        scope_or_resource: &str,
        subject: &str,
        lifetime: Duration,
    ) -> (String, u64) {
        let iat = now();
        let exp = iat + lifetime.as_secs().max(1);
        let claims = Claims {
            aud: audience_of(scope_or_resource),
            iss: format!("https://login.microsoftonline.com/{}/v2.0", self.tenant),
            sub: subject.to_string(),
            appid: subject.to_string(),
            tid: self.tenant.clone(),
            iat,
            nbf: iat.saturating_sub(5),
            exp,
        };
        // HS256 over serialisable claims with an in-memory key cannot fail.
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .unwrap_or_default();
        (token, exp)
    }

    /// Checks a token (with or without a `Bearer ` prefix) for `expected_audience`.
    pub fn validate(&self, token: &str, expected_audience: &str) -> Result<Claims, TokenError> {
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "aud"]);
        let data = decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid(e.to_string()),
            })?;
        let expected = audience_of(expected_audience);
        if audience_of(&data.claims.aud) != expected {
            return Err(TokenError::WrongAudience {
                expected,
                found: data.claims.aud,
            });
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_validate_for_their_audience_only() {
        let a = TokenAuthority::default();
        let (token, exp) = a.issue(
            "https://eventhubs.azure.net/.default",
            "app-1",
            Duration::from_secs(60),
        );
        assert!(exp > now());
        let claims = a
            .validate(&format!("Bearer {token}"), "https://eventhubs.azure.net/")
            .unwrap();
        assert_eq!(claims.sub, "app-1");
        assert!(matches!(
            a.validate(&token, "https://kusto.example"),
            Err(TokenError::WrongAudience { .. })
        ));
        let other = TokenAuthority::default();
        assert!(matches!(
            other.validate(&token, "https://eventhubs.azure.net"),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(
            a.validate("garbage", "x"),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let a = TokenAuthority::default();
        let (token, _) = a.issue("https://x", "s", Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(a.validate(&token, "https://x"), Err(TokenError::Expired));
    }
}
