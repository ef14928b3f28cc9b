//! How to reach one cluster ([`ClientOptions`]), and the endpoints derived from it: the
//! data-management (`ingest-`) endpoint queued ingestion talks to, and the token scope.

use super::error::{ErrorKind, KustoError};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Everything the client needs to know about one cluster.
#[derive(Clone)]
pub struct ClientOptions {
    /// The engine, e.g. `https://mycluster.westeurope.kusto.windows.net`, or a local
    /// emulator's `http://127.0.0.1:PORT`.
    pub engine: url::Url,
    /// The data-management endpoint for queued ingestion; `None` derives it from the engine
    /// (see [`ingest_endpoint`]).
    pub ingest: Option<url::Url>,
    /// Where bearer tokens come from; `None` sends no `Authorization` header (local emulators).
    pub credential: Option<Arc<dyn azure_core::credentials::TokenCredential>>,
    /// The token scope; `None` = `<engine origin>/.default`.
    pub scope: Option<String>,
    /// Sent as `x-ms-app`, so the cluster's logs say who called.
    pub app: String,
    /// Time limit of each request.
    pub timeout: Duration,
    /// The HTTP client to use (tests inject one); `None` builds one with rustls and gzip.
    pub http: Option<reqwest::Client>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("engine", &self.engine.as_str())
            .field("ingest", &self.ingest.as_ref().map(url::Url::as_str))
            .field("credential", &self.credential.is_some())
            .field("scope", &self.scope)
            .field("app", &self.app)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Options for `engine` with no credential, app `iotc-adx` and a 60 s timeout.
    pub fn new(engine: url::Url) -> Self {
        ClientOptions {
            engine,
            ingest: None,
            credential: None,
            scope: None,
            app: "iotc-adx".into(),
            timeout: Duration::from_secs(60),
            http: None,
        }
    }
}

fn invalid(message: String) -> KustoError {
    KustoError::new(ErrorKind::Permanent, "client setup").with_message(message)
}

/// Checks that `url` can carry REST paths (http or https with a host).
pub(super) fn check_base(what: &str, url: &url::Url) -> Result<(), KustoError> {
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.cannot_be_a_base()
    {
        return Err(invalid(format!(
            "the {what} URL {} is not an http(s) URL with a host",
            url.origin().ascii_serialization()
        )));
    }
    Ok(())
}

/// Whether `host` is local or an IP address, where no `ingest-` prefix applies (emulators).
fn is_local_or_ip(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok()
}

/// Refuses to send bearer tokens over plain HTTP to anything but loopback or an IP address
/// (local emulators): a token sent in clear to a named host could be read on the way.
pub(super) fn check_token_transport(what: &str, url: &url::Url) -> Result<(), KustoError> {
    if url.scheme() == "http" && !url.host_str().is_some_and(is_local_or_ip) {
        return Err(invalid(format!(
            "the {what} URL {} is plain http: bearer tokens are only sent over https (or to local addresses)",
            url.origin().ascii_serialization()
        )));
    }
    Ok(())
}

/// The data-management endpoint for `engine`: the same URL with `ingest-` before the host,
/// except for localhost and IP addresses (then the engine itself) and hosts that already
/// start with `ingest-`.
pub(super) fn ingest_endpoint(engine: &url::Url) -> Result<url::Url, KustoError> {
    let host = engine
        .host_str()
        .ok_or_else(|| invalid("the engine URL has no host".into()))?;
    if is_local_or_ip(host) || host.to_ascii_lowercase().starts_with("ingest-") {
        return Ok(engine.clone());
    }
    let mut ingest = engine.clone();
    ingest
        .set_host(Some(&format!("ingest-{host}")))
        .map_err(|e| invalid(format!("cannot derive the ingestion endpoint: {e}")))?;
    Ok(ingest)
}

/// The default token scope for `engine`: its origin plus `/.default`.
pub(super) fn default_scope(engine: &url::Url) -> String {
    format!("{}/.default", engine.origin().ascii_serialization())
}

/// `base` with `segments` appended to its path (each percent-encoded).
pub(super) fn join(base: &url::Url, segments: &[&str]) -> Result<url::Url, KustoError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|_| {
            invalid(format!(
                "{} cannot take a path",
                base.origin().ascii_serialization()
            ))
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn ingest_prefix_rules() {
        let cases = [
            (
                "https://mycluster.westeurope.kusto.windows.net",
                "https://ingest-mycluster.westeurope.kusto.windows.net/",
            ),
            (
                "https://mycluster.westeurope.kusto.windows.net:443/",
                "https://ingest-mycluster.westeurope.kusto.windows.net/",
            ),
            (
                "https://ingest-mycluster.kusto.windows.net",
                "https://ingest-mycluster.kusto.windows.net/",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://localhost:8080", "http://localhost:8080/"),
            ("http://[::1]:8080", "http://[::1]:8080/"),
            ("http://10.1.2.3", "http://10.1.2.3/"),
            (
                "https://trd-abc.z0.kusto.fabric.microsoft.com",
                "https://ingest-trd-abc.z0.kusto.fabric.microsoft.com/",
            ),
        ];
        for (engine, want) in cases {
            assert_eq!(
                ingest_endpoint(&u(engine)).unwrap().as_str(),
                want,
                "{engine}"
            );
        }
    }

    #[test]
    fn default_scope_is_the_origin() {
        assert_eq!(
            default_scope(&u("https://c.kusto.windows.net/")),
            "https://c.kusto.windows.net/.default"
        );
        assert_eq!(
            default_scope(&u("http://127.0.0.1:9000")),
            "http://127.0.0.1:9000/.default"
        );
    }

    #[test]
    fn join_encodes_segments() {
        let url = join(
            &u("http://127.0.0.1:1/"),
            &["v1", "rest", "ingest", "my db", "T/x"],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/v1/rest/ingest/my%20db/T%2Fx"
        );
        let url = join(&u("https://a/b/?sig=s"), &["messages"]).unwrap();
        assert_eq!(url.as_str(), "https://a/b/messages");
    }

    #[test]
    fn tokens_need_https_except_locally() {
        assert!(check_token_transport("engine", &u("https://c.kusto.windows.net")).is_ok());
        assert!(check_token_transport("engine", &u("http://127.0.0.1:1")).is_ok());
        assert!(check_token_transport("engine", &u("http://localhost:1")).is_ok());
        assert!(check_token_transport("engine", &u("http://c.kusto.windows.net")).is_err());
    }

    #[test]
    fn bases_are_checked() {
        assert!(check_base("engine", &u("https://a.b")).is_ok());
        assert!(check_base("engine", &u("ftp://a.b")).is_err());
        assert!(check_base("engine", &u("mailto:x@y")).is_err());
    }
}
