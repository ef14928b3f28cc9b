//! A container or queue URL split in two: the resource, which may be shown anywhere, and its
//! SAS query string, which must never appear in an error or a log.

use crate::error::StorageError;
use std::net::IpAddr;
use url::Url;

/// A blob container or a queue, addressed by URL (`https://ACCOUNT.blob.core.windows.net/C`,
/// or path-style `http://127.0.0.1:10000/ACCOUNT/C` for Azurite), with the SAS it carried.
/// `Debug` and [`ResourceUrl::display`] leave the SAS out.
#[derive(Clone, PartialEq, Eq)]
pub struct ResourceUrl {
    /// The URL without query string, fragment or trailing slash.
    base: Url,
    /// The SAS query string, without `?`, when the URL carried one.
    sas: Option<String>,
}

impl std::fmt::Debug for ResourceUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceUrl")
            .field("base", &self.base.as_str())
            .field("sas", &self.sas.is_some())
            .finish()
    }
}

/// `url` without its query string and fragment, for messages.
pub fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// Loopback hosts, where plain HTTP cannot leak a token off the machine.
pub(crate) fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl ResourceUrl {
    /// Checks `url` (http or https, a host, a container or queue name) and splits off its SAS.
    pub fn new(url: Url) -> Result<ResourceUrl, StorageError> {
        let invalid = |reason: &str| StorageError::InvalidUrl {
            url: without_query(&url),
            reason: reason.to_string(),
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(
                "the scheme must be https (or http for a local emulator)",
            ));
        }
        if url.host().is_none() || url.cannot_be_a_base() {
            return Err(invalid("it names no host"));
        }
        if url
            .path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()))
            .is_none()
        {
            return Err(invalid(
                "it names no container or queue (expected https://ACCOUNT.blob.core.windows.net/CONTAINER)",
            ));
        }
        let sas = url.query().map(str::to_string).filter(|q| !q.is_empty());
        let mut base = url;
        base.set_query(None);
        base.set_fragment(None);
        if let Ok(mut segments) = base.path_segments_mut() {
            segments.pop_if_empty();
        }
        Ok(ResourceUrl { base, sas })
    }

    /// Parses and checks `text`, as [`ResourceUrl::new`].
    pub fn parse(text: &str) -> Result<ResourceUrl, StorageError> {
        let url = Url::parse(text).map_err(|e| StorageError::InvalidUrl {
            // Not quoted back: it may hold a SAS.
            url: "(not shown)".into(),
            reason: format!("it does not parse: {e}"),
        })?;
        ResourceUrl::new(url)
    }

    /// Whether the URL carried a SAS.
    pub fn has_sas(&self) -> bool {
        self.sas.is_some()
    }

    /// The resource's URL without the SAS, for messages.
    pub fn display(&self) -> String {
        self.base.to_string()
    }

    /// The resource's URL without the SAS.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// A blob's URL (a container's `name`, `/` separating virtual folders) without the SAS.
    pub fn blob_display(&self, name: &str) -> String {
        self.path(&name.split('/').collect::<Vec<_>>()).to_string()
    }

    /// A blob's URL with the SAS: what another service needs to read it.
    pub fn blob_url(&self, name: &str) -> Url {
        self.url(&name.split('/').collect::<Vec<_>>(), &[])
    }

    /// The storage account: the first host label (`acct.blob.core.windows.net`), or for
    /// path-style URLs on IPs and localhost (Azurite) the first path segment.
    pub fn account(&self) -> String {
        let host = self.base.host_str().unwrap_or("");
        let path_style = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok();
        if path_style {
            if let Some(first) = self.base.path_segments().and_then(|mut s| s.next()) {
                if !first.is_empty() {
                    return first.to_string();
                }
            }
        }
        host.split('.').next().unwrap_or(host).to_string()
    }

    /// `base/segments...` (each segment percent-encoded), without query.
    fn path(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut s) = url.path_segments_mut() {
            s.extend(segments);
        }
        url
    }

    /// `base/segments...` without query: what errors name.
    pub(crate) fn shown(&self, segments: &[&str]) -> String {
        self.path(segments).to_string()
    }

    /// `base/segments...?params&SAS`: the URL a request goes to.
    pub(crate) fn url(&self, segments: &[&str], params: &[(&str, &str)]) -> Url {
        let mut url = self.path(segments);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        let mut query = query.finish();
        if let Some(sas) = &self.sas {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(sas);
        }
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(url: &str) -> ResourceUrl {
        ResourceUrl::parse(url).unwrap()
    }

    #[test]
    fn urls_keep_the_sas_out_of_messages() {
        let c = r("http://127.0.0.1:10000/devstoreaccount1/ckpt/?sv=2019-12-12&sig=SECRET%2B");
        assert_eq!(c.display(), "http://127.0.0.1:10000/devstoreaccount1/ckpt");
        assert_eq!(
            c.blob_display("ns/hub/$default/ownership/0"),
            "http://127.0.0.1:10000/devstoreaccount1/ckpt/ns/hub/$default/ownership/0"
        );
        let u = c.url(&["ns", "hub"], &[("comp", "metadata")]);
        assert_eq!(u.query(), Some("comp=metadata&sv=2019-12-12&sig=SECRET%2B"));
        let l = c.url(
            &[],
            &[("prefix", "ns/hub/$default/"), ("marker", "2!76!x=")],
        );
        assert_eq!(
            l.query(),
            Some(
                "prefix=ns%2Fhub%2F%24default%2F&marker=2%2176%21x%3D&sv=2019-12-12&sig=SECRET%2B"
            )
        );
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn sas_urls_split_and_rebuild() {
        let q = r("http://127.0.0.1:10001/devstoreaccount1/failedingestions?sv=1&sig=a%2Bb");
        assert_eq!(
            q.display(),
            "http://127.0.0.1:10001/devstoreaccount1/failedingestions"
        );
        assert!(q.has_sas());
        assert_eq!(q.account(), "devstoreaccount1");
        let url = q.url(&["messages", "id 1"], &[("popreceipt", "p/q+r")]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:10001/devstoreaccount1/failedingestions/messages/id%201?popreceipt=p%2Fq%2Br&sv=1&sig=a%2Bb"
        );
        let b = r("https://acct1.blob.core.windows.net/tempstorage?sig=x");
        assert_eq!(b.account(), "acct1");
        assert_eq!(
            b.blob_url("db__T__id__iotc-adx.multijson.gz").as_str(),
            "https://acct1.blob.core.windows.net/tempstorage/db__T__id__iotc-adx.multijson.gz?sig=x"
        );
        assert!(!r("http://localhost:1/acct/q").has_sas());
    }

    #[test]
    fn bad_urls_are_refused_without_their_sas() {
        let bad = |url: &str| ResourceUrl::parse(url).unwrap_err().to_string();
        assert!(bad("ftp://host/c").contains("scheme"));
        assert!(bad("https://acct.blob.core.windows.net/").contains("no container"));
        assert!(bad("https://acct.blob.core.windows.net/?sig=SECRET").contains("no container"));
        assert!(!bad("https://acct.blob.core.windows.net/?sig=SECRET").contains("SECRET"));
        assert!(!bad("not a url?sig=SECRET").contains("SECRET"));
    }
}
