//! The few Azure Storage REST calls queued ingestion makes, with the SAS URLs
//! `.get ingestion resources` hands out: upload a block blob (with metadata) and read it back,
//! post a queue message, take, release and delete queue messages (for failure reports). The SAS
//! never appears in an error.

use super::error::KustoError;
use super::status::{Attempt, Service};
use bytes::Bytes;
pub(super) use iotc_adx_storage::messages::QueueMessage;
use iotc_adx_storage::messages::{escape_text, parse_messages};
use std::time::Duration;

/// The storage service version sent as `x-ms-version`.
pub(super) const STORAGE_VERSION: &str = "2021-08-06";

/// A SAS-bearing URL split in two: the resource (shown in errors) and the SAS query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SasUrl {
    /// Container or queue URL without query.
    pub base: url::Url,
    /// The SAS query string, without `?` (may be empty).
    pub sas: String,
}

impl SasUrl {
    /// Splits `text` (a StorageRoot value).
    pub fn parse(text: &str) -> Result<SasUrl, url::ParseError> {
        let mut base = url::Url::parse(text)?;
        let sas = base.query().unwrap_or("").to_string();
        base.set_query(None);
        base.set_fragment(None);
        Ok(SasUrl { base, sas })
    }

    /// `base/segments...` with the SAS and `extra` query parameters.
    pub fn child(&self, segments: &[&str], extra: &[(&str, &str)]) -> Result<url::Url, KustoError> {
        let mut url = super::options::join(&self.base, segments)?;
        let mut query = self.sas.clone();
        for (k, v) in extra {
            let pair: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(k, v)
                .finish();
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&pair);
        }
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        Ok(url)
    }

    /// The storage account: the first host label (`acct.blob.core.windows.net`), or for
    /// path-style URLs on IPs and localhost (Azurite) the first path segment.
    pub fn account(&self) -> String {
        let host = self.base.host_str().unwrap_or("");
        let path_style = host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
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
}

/// Storage calls with one HTTP client and time limit.
#[derive(Debug, Clone)]
pub(super) struct StorageClient {
    pub http: reqwest::Client,
    pub timeout: Duration,
}

impl StorageClient {
    async fn send(
        &self,
        operation: &str,
        method: reqwest::Method,
        url: url::Url,
        body: Option<(Bytes, &str)>,
        headers: &[(&str, &str)],
    ) -> Result<Bytes, KustoError> {
        self.send_full(operation, method, url, body, headers)
            .await
            .map(|(_, bytes)| bytes)
    }

    async fn send_full(
        &self,
        operation: &str,
        method: reqwest::Method,
        url: url::Url,
        body: Option<(Bytes, &str)>,
        headers: &[(&str, &str)],
    ) -> Result<(reqwest::header::HeaderMap, Bytes), KustoError> {
        let id = super::transport::request_id(&operation.replace(' ', "-"));
        let shown = super::error::strip_query(url.as_str()).to_string();
        let attempt = Attempt {
            operation,
            method: method.as_str(),
            url: &shown,
            client_request_id: &id,
            service: Service::Storage,
        };
        let mut request = self
            .http
            .request(method.clone(), url)
            .timeout(self.timeout)
            .header("x-ms-version", STORAGE_VERSION)
            .header("x-ms-client-request-id", &id);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request = match body {
            Some((bytes, content_type)) => request.header("content-type", content_type).body(bytes),
            None => request.header("content-length", "0"),
        };
        attempt.send_full(request).await
    }

    /// Uploads `body` as the block blob `name` in `container`, with `metadata` (ASCII names
    /// and values); returns the blob URL without SAS.
    pub async fn put_blob(
        &self,
        container: &SasUrl,
        name: &str,
        body: Bytes,
        metadata: &[(String, String)],
    ) -> Result<url::Url, KustoError> {
        let url = container.child(&[name], &[])?;
        let mut plain = url.clone();
        plain.set_query(None);
        let names: Vec<String> = metadata
            .iter()
            .map(|(k, _)| format!("x-ms-meta-{k}"))
            .collect();
        let mut headers = vec![("x-ms-blob-type", "BlockBlob")];
        headers.extend(
            names
                .iter()
                .zip(metadata)
                .map(|(n, (_, v))| (n.as_str(), v.as_str())),
        );
        self.send(
            "blob upload",
            reqwest::Method::PUT,
            url,
            Some((body, "application/octet-stream")),
            &headers,
        )
        .await?;
        Ok(plain)
    }

    /// Reads the blob `name` of `container`: its content and its metadata (names lowercase,
    /// without the `x-ms-meta-` prefix).
    pub async fn get_blob(
        &self,
        container: &SasUrl,
        name: &str,
    ) -> Result<(Vec<(String, String)>, Bytes), KustoError> {
        let url = container.child(&[name], &[])?;
        let (headers, body) = self
            .send_full("blob read", reqwest::Method::GET, url, None, &[])
            .await?;
        let metadata = headers
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str().strip_prefix("x-ms-meta-")?;
                Some((name.to_string(), v.to_str().ok()?.to_string()))
            })
            .collect();
        Ok((metadata, body))
    }

    /// Posts `text` (already base64) as a message of `queue`.
    pub async fn put_message(&self, queue: &SasUrl, text: &str) -> Result<(), KustoError> {
        let url = queue.child(&["messages"], &[])?;
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            escape_text(text)
        );
        self.send(
            "queue message post",
            reqwest::Method::POST,
            url,
            Some((Bytes::from(body), "application/xml")),
            &[],
        )
        .await?;
        Ok(())
    }

    /// Takes up to `max` (1..=32) messages of `queue`, hidden from others for `visibility`.
    pub async fn get_messages(
        &self,
        queue: &SasUrl,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, KustoError> {
        let max = max.clamp(1, 32).to_string();
        let vis = visibility.as_secs().max(1).to_string();
        let url = queue.child(
            &["messages"],
            &[("numofmessages", &max), ("visibilitytimeout", &vis)],
        )?;
        let body = self
            .send("queue message read", reqwest::Method::GET, url, None, &[])
            .await?;
        Ok(parse_messages(&body))
    }

    /// Sets when a message taken with [`StorageClient::get_messages`] is visible again:
    /// `Duration::ZERO` hands it back to the queue's other readers at once. Its text is sent
    /// back unchanged. Returns the message with its new pop receipt.
    pub async fn set_visibility(
        &self,
        queue: &SasUrl,
        message: &QueueMessage,
        visibility: Duration,
    ) -> Result<QueueMessage, KustoError> {
        let secs = visibility.as_secs().to_string();
        let url = queue.child(
            &["messages", &message.id],
            &[
                ("popreceipt", &message.pop_receipt),
                ("visibilitytimeout", &secs),
            ],
        )?;
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            escape_text(&message.text)
        );
        let (headers, _) = self
            .send_full(
                "queue message update",
                reqwest::Method::PUT,
                url,
                Some((Bytes::from(body), "application/xml")),
                &[],
            )
            .await?;
        let receipt = headers
            .get("x-ms-popreceipt")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(&message.pop_receipt);
        Ok(QueueMessage {
            pop_receipt: receipt.to_string(),
            ..message.clone()
        })
    }

    /// Deletes a message taken with [`StorageClient::get_messages`].
    pub async fn delete_message(
        &self,
        queue: &SasUrl,
        message: &QueueMessage,
    ) -> Result<(), KustoError> {
        let url = queue.child(
            &["messages", &message.id],
            &[("popreceipt", &message.pop_receipt)],
        )?;
        self.send(
            "queue message delete",
            reqwest::Method::DELETE,
            url,
            None,
            &[],
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_urls_split_and_rebuild() {
        let q = SasUrl::parse(
            "http://127.0.0.1:10001/devstoreaccount1/failedingestions?sv=1&sig=a%2Bb",
        )
        .unwrap();
        assert_eq!(
            q.base.as_str(),
            "http://127.0.0.1:10001/devstoreaccount1/failedingestions"
        );
        assert_eq!(q.sas, "sv=1&sig=a%2Bb");
        assert_eq!(q.account(), "devstoreaccount1");
        let url = q
            .child(&["messages", "id 1"], &[("popreceipt", "p/q+r")])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:10001/devstoreaccount1/failedingestions/messages/id%201?sv=1&sig=a%2Bb&popreceipt=p%2Fq%2Br"
        );
        let b = SasUrl::parse("https://acct1.blob.core.windows.net/tempstorage?sig=x").unwrap();
        assert_eq!(b.account(), "acct1");
        assert_eq!(
            b.child(&["db__T__id__iotc-adx.multijson.gz"], &[]).unwrap().as_str(),
            "https://acct1.blob.core.windows.net/tempstorage/db__T__id__iotc-adx.multijson.gz?sig=x"
        );
    }
}
