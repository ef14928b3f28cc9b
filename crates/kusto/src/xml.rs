//! The little XML Azure Storage speaks to the client: a queue message's text going out, and
//! elements (error codes, message ids) read back.

/// The text of the first `<name>` element of `xml`, unescaped.
pub(super) fn xml_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml_unescape(&xml[start..end]))
}

/// Escapes text for an element's content.
pub(super) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Reads the entities Azure Storage writes back into text.
fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_reads_error_codes() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>a &amp; b</Message></Error>";
        assert_eq!(
            xml_text(body, "Code").as_deref(),
            Some("AuthenticationFailed")
        );
        assert_eq!(xml_text(body, "Message").as_deref(), Some("a & b"));
        assert_eq!(xml_text(body, "Nope"), None);
    }
}
