//! Validates the tokens clients put on `$cbs` — shared access signatures signed with a
//! configured key, and JWTs from the testkit's token authority — and remembers, per connection,
//! which entities they grant access to until when.

use super::address::{host_and_path, path_of};
use super::log::now_ms;
use super::TokenAuthority;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The token type of a shared access signature.
pub(crate) const SAS_TYPE: &str = "servicebus.windows.net:sastoken";
/// The token type of an Entra ID access token.
pub(crate) const JWT_TYPE: &str = "jwt";
/// The audience Entra ID tokens for Event Hubs carry.
pub(crate) const EVENTHUBS_AUDIENCE: &str = "https://eventhubs.azure.net";

/// Access to the entities under `path` until `expires_ms`.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub path: String,
    pub expires_ms: i64,
}

/// Whether `path` lies under `prefix` (case-insensitive, on segment boundaries).
fn under(path: &str, prefix: &str) -> bool {
    let (p, q) = (path.to_ascii_lowercase(), prefix.to_ascii_lowercase());
    q.is_empty() || p == q || (p.starts_with(&q) && p.as_bytes().get(q.len()) == Some(&b'/'))
}

/// Whether any live grant covers the entity at `address`.
pub(crate) fn covers(grants: &[Grant], address: &str) -> bool {
    let now = now_ms();
    let path = path_of(address);
    grants
        .iter()
        .any(|g| g.expires_ms > now && under(path, &g.path))
}

/// Decodes `%XX` escapes (and `+` as space).
pub(crate) fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters, as SAS tokens do for `sr`.
pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The signature of `"<encoded resource>\n<expiry>"` with `key`, base64.
pub(crate) fn sign(key: &str, encoded_resource: &str, expiry: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{encoded_resource}\n{expiry}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A shared access signature for `resource` signed with `key`, valid until `expiry` (Unix s).
pub fn sas_token(resource: &str, key_name: &str, key: &str, expiry: u64) -> String {
    let sr = url_encode(resource);
    let sig = sign(key, &sr, &expiry.to_string());
    format!(
        "SharedAccessSignature sr={sr}&sig={}&se={expiry}&skn={}",
        url_encode(&sig),
        url_encode(key_name)
    )
}

/// Checks a shared access signature for `audience`; returns its expiry in ms.
pub(crate) fn validate_sas(
    keys: &BTreeMap<String, String>,
    token: &str,
    audience: &str,
) -> Result<i64, String> {
    let body = token
        .trim()
        .strip_prefix("SharedAccessSignature")
        .ok_or("not a SharedAccessSignature")?
        .trim();
    let (mut sr, mut sig, mut se, mut skn) = (None, None, None, None);
    for part in body.split('&') {
        let (k, v) = part
            .split_once('=')
            .ok_or("malformed SharedAccessSignature")?;
        match k {
            "sr" => sr = Some(v),
            "sig" => sig = Some(v),
            "se" => se = Some(v),
            "skn" => skn = Some(v),
            _ => {}
        }
    }
    let (sr, sig, se, skn) = match (sr, sig, se, skn) {
        (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
        _ => return Err("SharedAccessSignature lacks sr, sig, se or skn".into()),
    };
    let key_name = url_decode(skn);
    let key = keys
        .get(&key_name)
        .ok_or_else(|| format!("unknown key {key_name}"))?;
    if sign(key, sr, se) != url_decode(sig) {
        return Err("the signature does not match".into());
    }
    let expiry: i64 = se.parse().map_err(|_| "se is not a number")?;
    if expiry * 1000 <= now_ms() {
        return Err("the token expired".into());
    }
    let resource = host_and_path(&url_decode(sr));
    let aud = host_and_path(audience);
    if !under(&aud, &resource) {
        return Err(format!("the token is for {resource}, not {aud}"));
    }
    Ok(expiry * 1000)
}

/// Checks a put-token request; returns the grant it gives.
pub(crate) fn validate_put_token(
    keys: &BTreeMap<String, String>,
    authority: Option<&TokenAuthority>,
    token_type: &str,
    audience: &str,
    token: &str,
) -> Result<Grant, String> {
    let expires_ms = match token_type {
        SAS_TYPE => validate_sas(keys, token, audience)?,
        JWT_TYPE => {
            let authority = authority.ok_or("this namespace trusts no token authority")?;
            let claims = authority
                .validate(token, EVENTHUBS_AUDIENCE)
                .map_err(|e| e.to_string())?;
            (claims.exp as i64) * 1000
        }
        other => return Err(format!("unsupported token type {other}")),
    };
    Ok(Grant {
        path: path_of(audience).to_string(),
        expires_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_round_trip_and_refusals() {
        let keys = BTreeMap::from([("k".to_string(), "secret".to_string())]);
        let exp = (now_ms() / 1000 + 60) as u64;
        let t = sas_token("sb://ns/hub", "k", "secret", exp);
        assert!(validate_sas(
            &keys,
            &t,
            "amqps://ns/hub/ConsumerGroups/$Default/Partitions/0"
        )
        .is_ok());
        assert!(validate_sas(&keys, &t, "amqps://ns/hub2").is_err());
        let bad = sas_token("sb://ns/hub", "k", "wrong", exp);
        assert!(validate_sas(&keys, &bad, "amqps://ns/hub").is_err());
        let old = sas_token("sb://ns/hub", "k", "secret", 1000);
        assert!(validate_sas(&keys, &old, "amqps://ns/hub").is_err());
        assert_eq!(url_decode("a%2Fb%3d"), "a/b=");
        assert!(covers(
            &[Grant {
                path: "hub".into(),
                expires_ms: now_ms() + 1000
            }],
            "amqps://x/hub/Partitions/0"
        ));
        assert!(!covers(
            &[Grant {
                path: "hub".into(),
                expires_ms: now_ms() + 1000
            }],
            "amqps://x/hubx"
        ));
    }
}
