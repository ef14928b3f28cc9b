//! Queue messages: the answer of `Get Messages`, and the text of one going out.

use crate::list::xml_text;
use serde::Deserialize;

/// One message taken from a queue, with what is needed to delete or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// `MessageId`.
    pub id: String,
    /// `PopReceipt`, needed to delete or update the message.
    pub pop_receipt: String,
    /// `MessageText` as stored (queued ingestion's are base64).
    pub text: String,
}

#[derive(Deserialize, Default)]
struct QueueMessagesList {
    #[serde(rename = "QueueMessage", default)]
    messages: Vec<Listed>,
}

#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "MessageId", default)]
    id: Option<String>,
    #[serde(rename = "PopReceipt", default)]
    pop_receipt: Option<String>,
    #[serde(rename = "MessageText", default)]
    text: Option<String>,
}

/// The messages of a `Get Messages` answer; a message without an id or a pop receipt cannot
/// be acted on and is left out, and an answer that is not a message list holds none.
pub fn parse_messages(body: &[u8]) -> Vec<QueueMessage> {
    let Ok(text) = xml_text(body) else {
        return Vec::new();
    };
    let list: QueueMessagesList = quick_xml::de::from_str(text).unwrap_or_default();
    list.messages
        .into_iter()
        .filter_map(|m| {
            Some(QueueMessage {
                id: m.id?,
                pop_receipt: m.pop_receipt?,
                text: m.text.unwrap_or_default(),
            })
        })
        .collect()
}

/// Escapes text for an element's content (`&`, `<`, `>`), as a `Put Message` body needs.
pub fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_with_their_receipts() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>\
<QueueMessage><MessageId>id1</MessageId><InsertionTime>Sun, 22 Nov 2026 07:30:52 GMT</InsertionTime>\
<PopReceipt>p&amp;1</PopReceipt><DequeueCount>1</DequeueCount><MessageText>aGk=</MessageText></QueueMessage>\
<QueueMessage><MessageId>id2</MessageId><PopReceipt>p2</PopReceipt><MessageText /></QueueMessage>\
<QueueMessage><MessageId>no-receipt</MessageId></QueueMessage></QueueMessagesList>";
        let m = parse_messages(body.as_bytes());
        assert_eq!(
            m,
            vec![
                QueueMessage {
                    id: "id1".into(),
                    pop_receipt: "p&1".into(),
                    text: "aGk=".into()
                },
                QueueMessage {
                    id: "id2".into(),
                    pop_receipt: "p2".into(),
                    text: String::new()
                },
            ]
        );
        assert!(parse_messages(b"<QueueMessagesList />").is_empty());
        assert!(parse_messages(b"<html>502</html>").is_empty());
    }

    #[test]
    fn text_is_escaped_for_an_element() {
        assert_eq!(escape_text("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
