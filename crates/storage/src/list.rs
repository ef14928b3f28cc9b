//! Reading Azure Storage's XML answers: a page of `List Blobs` (`restype=container&comp=list`
//! with `include=metadata`), the messages of `Get Messages`, and the `<Error>` body of a failed
//! call; and escaping text for a queue message.
//!
//! Parsed with `quick-xml`'s serde support: only the few fields the store needs are declared,
//! everything else in the answer (other properties, `BlobPrefix`, attributes) is ignored, so
//! newer service versions adding fields do not break the store.

use serde::Deserialize;
use std::collections::HashMap;

/// One blob of a listing, reduced to what the store reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    /// The blob's name within the container.
    pub name: String,
    /// `Properties/Etag`, as listed (usually without quotes).
    pub etag: Option<String>,
    /// `Properties/Last-Modified`, an HTTP date.
    pub last_modified: Option<String>,
    /// `Metadata`, names as stored.
    pub metadata: Vec<(String, String)>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The blobs on this page.
    pub blobs: Vec<ListedBlob>,
    /// Where the next page starts; `None` on the last page.
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
struct EnumerationResults {
    #[serde(rename = "Blobs")]
    blobs: Blobs,
    #[serde(rename = "NextMarker", default)]
    next_marker: Option<String>,
}

#[derive(Deserialize, Default)]
struct Blobs {
    #[serde(rename = "Blob", default)]
    blob: Vec<Blob>,
}

#[derive(Deserialize)]
struct Blob {
    #[serde(rename = "Name")]
    name: Name,
    #[serde(rename = "Properties", default)]
    properties: Properties,
    #[serde(rename = "Metadata", default)]
    metadata: HashMap<String, String>,
}

/// Newer service versions mark names holding characters XML cannot carry with
/// `Encoded="true"` and percent-encode them. The store's own names never need that.
#[derive(Deserialize)]
struct Name {
    #[serde(rename = "@Encoded", default)]
    encoded: Option<String>,
    #[serde(rename = "$text", default)]
    text: String,
}

#[derive(Deserialize, Default)]
struct Properties {
    #[serde(rename = "Last-Modified", default)]
    last_modified: Option<String>,
    #[serde(rename = "Etag", default)]
    etag: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

/// The text of an XML answer, without the byte-order mark Azure Storage puts in front.
pub(crate) fn xml_text(body: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the answer is not UTF-8: {e}"))?;
    Ok(text.trim_start_matches('\u{feff}'))
}

/// Parses one page of `List Blobs`. Blobs whose names are percent-encoded by the service
/// (`Encoded="true"`) are left out: the store never writes such names.
pub fn parse_list_page(body: &[u8]) -> Result<ListPage, String> {
    let text = xml_text(body)?;
    // serde does not look at the root element's name: without this, any XML page (a proxy's
    // HTML error) would read as an empty listing, i.e. no owners and no checkpoints.
    if !text.contains("<EnumerationResults") {
        return Err("the answer is not a blob list (no <EnumerationResults>)".into());
    }
    let results: EnumerationResults = quick_xml::de::from_str(text)
        .map_err(|e| format!("the blob list is not the expected XML: {e}"))?;
    let blobs = results
        .blobs
        .blob
        .into_iter()
        .filter(|b| {
            !b.name
                .encoded
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("true"))
        })
        .map(|b| {
            let mut metadata: Vec<(String, String)> = b.metadata.into_iter().collect();
            metadata.sort();
            ListedBlob {
                name: b.name.text,
                etag: b.properties.etag.filter(|e| !e.trim().is_empty()),
                last_modified: b.properties.last_modified.filter(|t| !t.trim().is_empty()),
                metadata,
            }
        })
        .collect();
    let next_marker = results
        .next_marker
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    Ok(ListPage { blobs, next_marker })
}

/// The `<Code>` and the whole `<Message>` of an error answer, when the body is one.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(text) = xml_text(body) else {
        return (None, None);
    };
    match quick_xml::de::from_str::<ErrorBody>(text) {
        Ok(e) => (
            e.code
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            e.message,
        ),
        Err(_) => (None, None),
    }
}

/// The `<Code>` and the first line of the `<Message>` of an error answer, when the body is one.
/// The message is cut at 300 characters; storage messages carry request ids and times, never
/// the signature.
pub fn parse_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let (code, message) = parse_error_body(body);
    let message = message
        .as_deref()
        .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|m| m.chars().take(300).collect());
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<EnumerationResults ServiceEndpoint=\"https://acct.blob.core.windows.net/\" ContainerName=\"ckpt\">\
<Prefix>ns/hub/cg/ownership/</Prefix><MaxResults>2</MaxResults>\
<Blobs>\
<Blob><Name>ns/hub/cg/ownership/0</Name><Properties><Creation-Time>Sun, 22 Nov 2026 07:00:00 GMT</Creation-Time>\
<Last-Modified>Sun, 22 Nov 2026 07:30:52 GMT</Last-Modified><Etag>0x8DE0A</Etag><Content-Length>0</Content-Length>\
<BlobType>BlockBlob</BlobType></Properties><Metadata><ownerid>a</ownerid></Metadata><OrMetadata /></Blob>\
<Blob><Name>ns/hub/cg/ownership/1</Name><Properties><Last-Modified>Sun, 22 Nov 2026 07:30:53 GMT</Last-Modified>\
<Etag>\"0x8DE0B\"</Etag></Properties><Metadata><ownerid /></Metadata></Blob>\
</Blobs><NextMarker>2!76!bXkgbWFya2Vy</NextMarker></EnumerationResults>";

    const PAGE_2: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<EnumerationResults ContainerName=\"ckpt\"><Prefix>ns/hub/cg/ownership/</Prefix><Marker>2!76!bXkgbWFya2Vy</Marker>\
<Blobs><Blob><Name>ns/hub/cg/ownership/2</Name><Properties><Etag>0x8DE0C</Etag></Properties><Metadata/></Blob>\
<Blob><Name Encoded=\"true\">ns%2Fodd%EF%BF%BF</Name><Properties /></Blob></Blobs><NextMarker /></EnumerationResults>";

    #[test]
    fn a_page_with_a_next_marker() {
        let page = parse_list_page(PAGE_1.as_bytes()).unwrap();
        assert_eq!(page.next_marker.as_deref(), Some("2!76!bXkgbWFya2Vy"));
        assert_eq!(page.blobs.len(), 2);
        assert_eq!(
            page.blobs[0],
            ListedBlob {
                name: "ns/hub/cg/ownership/0".into(),
                etag: Some("0x8DE0A".into()),
                last_modified: Some("Sun, 22 Nov 2026 07:30:52 GMT".into()),
                metadata: vec![("ownerid".into(), "a".into())],
            }
        );
        assert_eq!(page.blobs[1].etag.as_deref(), Some("\"0x8DE0B\""));
        assert_eq!(
            page.blobs[1].metadata,
            vec![("ownerid".to_string(), String::new())]
        );
    }

    #[test]
    fn the_last_page_and_empty_elements() {
        let page = parse_list_page(PAGE_2.as_bytes()).unwrap();
        assert_eq!(page.next_marker, None);
        assert_eq!(page.blobs.len(), 1, "the encoded name is skipped");
        assert_eq!(page.blobs[0].name, "ns/hub/cg/ownership/2");
        assert!(page.blobs[0].metadata.is_empty());
        assert_eq!(page.blobs[0].last_modified, None);
    }

    #[test]
    fn an_empty_listing() {
        let empty = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"c\"><Prefix>p/</Prefix><Blobs /><NextMarker /></EnumerationResults>";
        assert_eq!(
            parse_list_page(empty.as_bytes()).unwrap(),
            ListPage {
                blobs: vec![],
                next_marker: None
            }
        );
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        for body in [
            "",
            "<html>502 Bad Gateway</html>",
            "<EnumerationResults><Blobs><Blob></Blob></Blobs>",
            "\u{0}\u{1}",
        ] {
            assert!(parse_list_page(body.as_bytes()).is_err(), "{body:?}");
        }
        assert!(parse_list_page(&[0xff, 0xfe, 0x00]).is_err());
    }

    #[test]
    fn error_bodies() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ConditionNotMet</Code>\
<Message>The condition specified using HTTP conditional header(s) is not met.\nRequestId:1\nTime:2026-11-22T07:30:52Z</Message></Error>";
        assert_eq!(
            parse_error(body.as_bytes()),
            (
                Some("ConditionNotMet".into()),
                Some("The condition specified using HTTP conditional header(s) is not met.".into())
            )
        );
        assert_eq!(parse_error(b"not xml"), (None, None));
        assert_eq!(parse_error(b""), (None, None));
    }
}
