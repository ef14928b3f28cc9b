//! Queue service calls: post a message, take messages (hidden from other readers for a
//! while), change when a taken message is visible again, delete one.

use crate::client::{Request, StorageClient};
use crate::error::StorageError;
use crate::messages::{escape_text, parse_messages, QueueMessage};
use crate::resource::ResourceUrl;
use bytes::Bytes;
use reqwest::Method;
use std::time::Duration;

/// The body of `Put Message` and `Update Message`.
fn message_body(text: &str) -> Bytes {
    Bytes::from(format!(
        "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
        escape_text(text)
    ))
}

impl StorageClient {
    /// Posts `text` (as the queue's readers expect it, e.g. base64) as a message of `queue`.
    pub async fn put_message(
        &self,
        operation: &'static str,
        queue: &ResourceUrl,
        text: &str,
    ) -> Result<(), StorageError> {
        self.send(Request {
            operation,
            method: Method::POST,
            url: queue.url(&["messages"], &[]),
            shown: queue.shown(&["messages"]),
            headers: Vec::new(),
            body: Some((message_body(text), "application/xml")),
        })
        .await?;
        Ok(())
    }

    /// Takes up to `max` (1..=32) messages of `queue`, hidden from others for `visibility`
    /// (at least a second). An answer that is not a message list holds no messages.
    pub async fn get_messages(
        &self,
        operation: &'static str,
        queue: &ResourceUrl,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, StorageError> {
        let max = max.clamp(1, 32).to_string();
        let vis = visibility.as_secs().max(1).to_string();
        let answer = self
            .send(Request {
                operation,
                method: Method::GET,
                url: queue.url(
                    &["messages"],
                    &[("numofmessages", &max), ("visibilitytimeout", &vis)],
                ),
                shown: queue.shown(&["messages"]),
                headers: Vec::new(),
                body: None,
            })
            .await?;
        Ok(parse_messages(&answer.body))
    }

    /// Sets when `message` (taken with [`StorageClient::get_messages`]) is visible again:
    /// `Duration::ZERO` hands it back to the queue's other readers at once. Its text is sent
    /// back unchanged. Returns the message with its new pop receipt.
    pub async fn update_message(
        &self,
        operation: &'static str,
        queue: &ResourceUrl,
        message: &QueueMessage,
        visibility: Duration,
    ) -> Result<QueueMessage, StorageError> {
        let secs = visibility.as_secs().to_string();
        let answer = self
            .send(Request {
                operation,
                method: Method::PUT,
                url: queue.url(
                    &["messages", &message.id],
                    &[
                        ("popreceipt", &message.pop_receipt),
                        ("visibilitytimeout", &secs),
                    ],
                ),
                shown: queue.shown(&["messages", &message.id]),
                headers: Vec::new(),
                body: Some((message_body(&message.text), "application/xml")),
            })
            .await?;
        let receipt = answer
            .header("x-ms-popreceipt")
            .unwrap_or(&message.pop_receipt);
        Ok(QueueMessage {
            pop_receipt: receipt.to_string(),
            ..message.clone()
        })
    }

    /// Deletes `message` (taken with [`StorageClient::get_messages`]).
    pub async fn delete_message(
        &self,
        operation: &'static str,
        queue: &ResourceUrl,
        message: &QueueMessage,
    ) -> Result<(), StorageError> {
        self.send(Request {
            operation,
            method: Method::DELETE,
            url: queue.url(
                &["messages", &message.id],
                &[("popreceipt", &message.pop_receipt)],
            ),
            shown: queue.shown(&["messages", &message.id]),
            headers: Vec::new(),
            body: None,
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_bodies_escape_their_text() {
        assert_eq!(
            message_body("a<b>&c"),
            Bytes::from_static(
                b"<QueueMessage><MessageText>a&lt;b&gt;&amp;c</MessageText></QueueMessage>"
            )
        );
    }
}
