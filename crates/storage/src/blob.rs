//! Blob service calls: create a container, write a block blob or a blob's metadata (with an
//! optional `If-Match` / `If-None-Match: *` precondition), read a blob with its metadata, and
//! list blobs with their metadata, one page or all of them.

use crate::client::{Answer, Request, StorageClient};
use crate::error::{Call, StorageError};
use crate::list::{parse_list_page, ListPage, ListedBlob};
use crate::resource::ResourceUrl;
use bytes::Bytes;
use reqwest::Method;

/// The most pages one listing reads: at 5,000 blobs a page (the service default), far more
/// than either user stores under one prefix. Past it the service is answering in circles.
pub const MAX_PAGES: usize = 1000;

/// A precondition on a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Write whatever is there.
    None,
    /// Write only if the blob's ETag is still this one (`If-Match`; sent quoted).
    IfMatch(String),
    /// Write only if there is no blob yet (`If-None-Match: *`).
    IfAbsent,
    /// Write a blob this caller holds the lease of (`x-ms-lease-id`).
    Leased(String),
}

/// What a successful write answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The blob's new ETag (`ETag` header, as sent), when given.
    pub etag: Option<String>,
    /// The blob's new `Last-Modified`, an HTTP date, when given.
    pub last_modified: Option<String>,
}

/// A blob read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobContent {
    /// Its metadata: names lowercase, without the `x-ms-meta-` prefix.
    pub metadata: Vec<(String, String)>,
    /// Its content.
    pub body: Bytes,
}

/// An ETag in its quoted form (`"0x8D…"`). Headers carry it quoted, the list XML bare; one
/// form keeps the versions a caller holds comparable and makes a valid `If-Match`.
pub fn quoted_etag(raw: &str) -> String {
    let t = raw.trim();
    if t.starts_with('"') || t.starts_with("W/") {
        t.to_string()
    } else {
        format!("\"{t}\"")
    }
}

/// Metadata as `x-ms-meta-*` headers (names and values must be ASCII).
fn metadata_headers<K: AsRef<str>, V: AsRef<str>>(metadata: &[(K, V)]) -> Vec<(String, &str)> {
    metadata
        .iter()
        .map(|(k, v)| (format!("x-ms-meta-{}", k.as_ref()), v.as_ref()))
        .collect()
}

fn condition_header(condition: &Condition) -> Option<(String, String)> {
    match condition {
        Condition::None => None,
        Condition::IfMatch(etag) => Some(("if-match".into(), quoted_etag(etag))),
        Condition::IfAbsent => Some(("if-none-match".into(), "*".into())),
        Condition::Leased(id) => Some(("x-ms-lease-id".into(), id.clone())),
    }
}

fn written(answer: &Answer) -> Written {
    Written {
        etag: answer.header("etag").map(str::to_string),
        last_modified: answer.header("last-modified").map(str::to_string),
    }
}

impl StorageClient {
    /// Creates `container`; `Ok(false)` when it already existed (409, or 403 on create but
    /// the container can be read: an identity allowed to write blobs but not to create
    /// containers).
    pub async fn create_container(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
    ) -> Result<bool, StorageError> {
        let request = |operation, method| Request {
            operation,
            method,
            url: container.url(&[], &[("restype", "container")]),
            shown: container.display(),
            headers: Vec::new(),
            body: None,
        };
        match self.send(request(operation, Method::PUT)).await {
            Ok(_) => Ok(true),
            Err(StorageError::Status {
                status: 409, code, ..
            }) if code
                .as_deref()
                .is_none_or(|c| c == "ContainerAlreadyExists") =>
            {
                Ok(false)
            }
            Err(e @ StorageError::Status { status: 403, .. }) => {
                match self.send(request("read the container", Method::GET)).await {
                    Ok(_) => Ok(false),
                    Err(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Uploads the block blob `name` of `container`: `content` with its content type, or
    /// empty (`None`), carrying `metadata`, written only if `condition` holds.
    pub async fn put_blob<K: AsRef<str>, V: AsRef<str>>(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        content: Option<(Bytes, &str)>,
        metadata: &[(K, V)],
        condition: &Condition,
    ) -> Result<Written, StorageError> {
        let condition = condition_header(condition);
        let mut headers = vec![("x-ms-blob-type".to_string(), "BlockBlob")];
        headers.extend(metadata_headers(metadata));
        headers.extend(condition.as_ref().map(|(k, v)| (k.clone(), v.as_str())));
        let answer = self
            .send(Request {
                operation,
                method: Method::PUT,
                url: container.blob_url(name),
                shown: container.blob_display(name),
                headers,
                body: content,
            })
            .await?;
        Ok(written(&answer))
    }

    /// Replaces the metadata of the blob `name` of `container`, if `condition` holds.
    pub async fn set_blob_metadata<K: AsRef<str>, V: AsRef<str>>(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
        metadata: &[(K, V)],
        condition: &Condition,
    ) -> Result<Written, StorageError> {
        let condition = condition_header(condition);
        let mut headers = metadata_headers(metadata);
        headers.extend(condition.as_ref().map(|(k, v)| (k.clone(), v.as_str())));
        let segments: Vec<&str> = name.split('/').collect();
        let answer = self
            .send(Request {
                operation,
                method: Method::PUT,
                url: container.url(&segments, &[("comp", "metadata")]),
                shown: container.blob_display(name),
                headers,
                body: None,
            })
            .await?;
        Ok(written(&answer))
    }

    /// Reads the blob `name` of `container`: its content and its metadata.
    pub async fn get_blob(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        name: &str,
    ) -> Result<BlobContent, StorageError> {
        let answer = self
            .send(Request {
                operation,
                method: Method::GET,
                url: container.blob_url(name),
                shown: container.blob_display(name),
                headers: Vec::new(),
                body: None,
            })
            .await?;
        let metadata = answer
            .headers
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str().strip_prefix("x-ms-meta-")?;
                Some((name.to_string(), v.to_str().ok()?.to_string()))
            })
            .collect();
        Ok(BlobContent {
            metadata,
            body: answer.body,
        })
    }

    /// One page of the blobs of `container` whose names start with `prefix`, with their
    /// metadata, from `marker` (the previous page's `next_marker`).
    pub async fn list_blobs_page(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        prefix: &str,
        marker: Option<&str>,
    ) -> Result<ListPage, StorageError> {
        self.list_page(operation, container, prefix, marker)
            .await
            .map(|(page, _)| page)
    }

    /// A page and the request that read it.
    async fn list_page(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        prefix: &str,
        marker: Option<&str>,
    ) -> Result<(ListPage, Call), StorageError> {
        let mut params = vec![
            ("restype", "container"),
            ("comp", "list"),
            ("prefix", prefix),
            ("include", "metadata"),
        ];
        if let Some(marker) = marker {
            params.push(("marker", marker));
        }
        let answer = self
            .send(Request {
                operation,
                method: Method::GET,
                url: container.url(&[], &params),
                shown: format!("{} (prefix {prefix})", container.display()),
                headers: Vec::new(),
                body: None,
            })
            .await?;
        match parse_list_page(&answer.body) {
            Ok(page) => Ok((page, answer.call)),
            Err(reason) => Err(StorageError::BadResponse {
                call: Box::new(answer.call),
                reason,
            }),
        }
    }

    /// Every blob of `container` whose name starts with `prefix`, all pages (at most
    /// [`MAX_PAGES`]), with their metadata.
    pub async fn list_blobs(
        &self,
        operation: &'static str,
        container: &ResourceUrl,
        prefix: &str,
    ) -> Result<Vec<ListedBlob>, StorageError> {
        let mut blobs = Vec::new();
        let mut marker: Option<String> = None;
        let mut last = None;
        for _ in 0..MAX_PAGES {
            let (page, call) = self
                .list_page(operation, container, prefix, marker.as_deref())
                .await?;
            blobs.extend(page.blobs);
            last = Some(call);
            match page.next_marker {
                None => return Ok(blobs),
                Some(next) if marker.as_deref() == Some(next.as_str()) => break,
                Some(next) => marker = Some(next),
            }
        }
        Err(StorageError::BadResponse {
            call: Box::new(last.unwrap_or_else(|| Call {
                operation,
                method: "GET",
                url: format!("{} (prefix {prefix})", container.display()),
                client_request_id: String::new(),
            })),
            reason: format!(
                "the listing never ends (its continuation marker repeats or runs past {MAX_PAGES} pages)"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_once() {
        assert_eq!(quoted_etag("0x8DE"), "\"0x8DE\"");
        assert_eq!(quoted_etag(" \"0x8DE\" "), "\"0x8DE\"");
        assert_eq!(quoted_etag("W/\"x\""), "W/\"x\"");
        assert_eq!(
            condition_header(&Condition::IfMatch("0x1".into())),
            Some(("if-match".into(), "\"0x1\"".into()))
        );
        assert_eq!(
            condition_header(&Condition::IfAbsent),
            Some(("if-none-match".into(), "*".into()))
        );
        assert_eq!(condition_header(&Condition::None), None);
    }
}
