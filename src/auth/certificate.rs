//! Service-principal sign-in with a certificate: a client assertion (a JWT signed with the
//! certificate's RSA key, RFC 7523) handed to `azure_identity`'s `ClientAssertionCredential`.
//!
//! `azure_identity`'s own `ClientCertificateCredential` needs OpenSSL and a PKCS#12 file; a PEM
//! file (private key and certificate, as `az ad sp create-for-rbac --create-cert` writes and as
//! Kubernetes secrets usually hold) signed with the pure-Rust `jsonwebtoken` keeps the build
//! free of system libraries.

use super::error::AuthError;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha1::Sha1;
use sha2::Sha256;
use std::fmt;
use std::path::Path;

/// How long each assertion is valid; a fresh one is signed for every token request.
const ASSERTION_LIFETIME_SECS: u64 = 600;

/// Signs client assertions with a certificate's key.
pub struct CertificateAssertion {
    key: EncodingKey,
    x5t: String,
    x5t_s256: String,
    client_id: String,
    audience: String,
}

impl fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

impl CertificateAssertion {
    /// Reads a PEM file holding the RSA private key and the certificate. `token_endpoint` is
    /// the assertion's audience: `<authority host>/<tenant>/oauth2/v2.0/token`.
    pub fn from_pem_file(
        path: &Path,
        client_id: &str,
        token_endpoint: &str,
    ) -> Result<Self, AuthError> {
        let bad = |reason: String| AuthError::Certificate {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        Self::from_pem(&text, client_id, token_endpoint).map_err(bad)
    }

    fn from_pem(text: &[u8], client_id: &str, token_endpoint: &str) -> Result<Self, String> {
        let blocks = pem::parse_many(text).map_err(|e| format!("not a PEM file: {e}"))?;
        let cert = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or("holds no CERTIFICATE block: put the certificate after the private key in the same file")?;
        let key_block = blocks
            .iter()
            .find(|b| b.tag() == "PRIVATE KEY" || b.tag() == "RSA PRIVATE KEY")
            .ok_or("holds no PRIVATE KEY block (an unencrypted RSA key is needed)")?;
        let key = EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes())
            .map_err(|e| format!("the private key is not a usable RSA key: {e}"))?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Ok(CertificateAssertion {
            key,
            x5t: b64.encode(<Sha1 as sha1::Digest>::digest(cert.contents())),
            x5t_s256: b64.encode(<Sha256 as sha2::Digest>::digest(cert.contents())),
            client_id: client_id.to_string(),
            audience: token_endpoint.to_string(),
        })
    }

    /// A freshly signed assertion.
    pub fn sign(&self) -> Result<String, jsonwebtoken::errors::Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = Header::new(Algorithm::RS256);
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = Claims {
            aud: &self.audience,
            iss: &self.client_id,
            sub: &self.client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        self.sign().map_err(|e| {
            azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!("cannot sign the client assertion: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &[u8] = include_bytes!("testdata/test-only-sp.pem");

    #[test]
    fn signs_an_rs256_assertion_with_thumbprints() {
        let a = CertificateAssertion::from_pem(
            PEM,
            "app-id",
            "https://login.example/t/oauth2/v2.0/token",
        )
        .unwrap();
        let jwt = a.sign().unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.x5t_s256.as_deref().map(str::len), Some(43));
        assert_eq!(header.x5t.as_deref().map(str::len), Some(27));
        // The signature verifies with the certificate's public key.
        let public = pem::parse_many(PEM)
            .unwrap()
            .into_iter()
            .find(|b| b.tag() == "PUBLIC KEY")
            .unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem::encode(&public).as_bytes()).unwrap();
        let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
        v.set_audience(&["https://login.example/t/oauth2/v2.0/token"]);
        v.set_issuer(&["app-id"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &v).unwrap();
        assert_eq!(data.claims["sub"], "app-id");
    }

    #[test]
    fn explains_what_is_missing() {
        let err = CertificateAssertion::from_pem(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "a",
            "b",
        )
        .unwrap_err();
        assert!(err.contains("PRIVATE KEY"), "{err}");
        let err = CertificateAssertion::from_pem(b"nothing", "a", "b").unwrap_err();
        assert!(err.contains("CERTIFICATE"), "{err}");
    }
}
