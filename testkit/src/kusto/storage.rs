//! The emulator's side of Azure Storage (Azurite): the ingestion containers and queues, the
//! SAS URLs `.get ingestion resources` hands out, and the few Queue/Blob REST calls the
//! queued-ingestion worker makes (get/delete/put messages, get a blob).

use super::{account_sas, Azurite};
use std::sync::Arc;
use std::time::Duration;

/// Container for uploaded ingestion data.
pub(super) const TEMP_CONTAINER: &str = "tempstorage";
/// Queue the clients post ingestion messages to.
pub(super) const READY_QUEUE: &str = "readyforaggregation-secured";
/// Queue for success reports.
pub(super) const SUCCESS_QUEUE: &str = "successfulingestions";
/// Queue for failure reports.
pub(super) const FAILURE_QUEUE: &str = "failedingestions";

const VERSION: &str = "2021-08-06";

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
#[error("storage {what}: {message}")]
pub(super) struct StorageError {
    what: String,
    message: String,
}

fn err(what: &str, message: impl ToString) -> StorageError {
    StorageError {
        what: what.into(),
        message: message.to_string(),
    }
}

/// A message taken from a queue.
#[derive(Debug, Clone)]
pub(super) struct QueueMessage {
    pub id: String,
    pub pop_receipt: String,
    pub text: String,
}

/// Azurite plus a client, and the names of this emulator's container and queues.
#[derive(Debug)]
pub(super) struct Storage {
    pub azurite: Arc<Azurite>,
    client: reqwest::Client,
    pub temp: String,
    pub ready: String,
    pub success: String,
    pub failure: String,
}

impl Storage {
    /// Wraps `azurite` and creates the ingestion container and queues. `suffix` is appended
    /// to their names so that emulators sharing one Azurite do not take each other's messages.
    pub async fn prepare(azurite: Arc<Azurite>, suffix: &str) -> Result<Storage, StorageError> {
        let temp = format!("{TEMP_CONTAINER}{suffix}");
        azurite
            .create_container(&temp)
            .await
            .map_err(|e| err("create container", e))?;
        let [ready, success, failure] =
            [READY_QUEUE, SUCCESS_QUEUE, FAILURE_QUEUE].map(|q| format!("{q}{suffix}"));
        for q in [&ready, &success, &failure] {
            azurite
                .create_queue(q)
                .await
                .map_err(|e| err("create queue", e))?;
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| err("client", e))?;
        Ok(Storage {
            azurite,
            client,
            temp,
            ready,
            success,
            failure,
        })
    }

    fn sas(lifetime: Duration) -> String {
        let lifetime = chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(1));
        account_sas(chrono::Utc::now() + lifetime)
    }

    /// The `.get ingestion resources` rows: (ResourceTypeName, StorageRoot).
    pub fn resources(&self, sas_lifetime: Duration) -> Vec<(String, String)> {
        let sas = Self::sas(sas_lifetime);
        let (blob, queue) = (self.azurite.blob_endpoint(), self.azurite.queue_endpoint());
        vec![
            (
                "SecuredReadyForAggregationQueue".into(),
                format!("{queue}/{}?{sas}", self.ready),
            ),
            ("TempStorage".into(), format!("{blob}/{}?{sas}", self.temp)),
            (
                "SuccessfulIngestionsQueue".into(),
                format!("{queue}/{}?{sas}", self.success),
            ),
            (
                "FailedIngestionsQueue".into(),
                format!("{queue}/{}?{sas}", self.failure),
            ),
        ]
    }

    fn queue_url(&self, queue: &str, tail: &str) -> String {
        format!("{}/{queue}/messages{tail}", self.azurite.queue_endpoint())
    }

    /// Sends a storage request with the service version header, and turns a transport error
    /// or a non-success status into a [`StorageError`] naming `what`.
    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StorageError> {
        let response = request
            .header("x-ms-version", VERSION)
            .send()
            .await
            .map_err(|e| err(what, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(err(what, format!("{status}: {body}")))
    }

    /// Takes up to `max` messages, hiding them for `visibility`.
    pub async fn get_messages(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, StorageError> {
        let url = self.queue_url(
            queue,
            &format!(
                "?numofmessages={max}&visibilitytimeout={}&{}",
                visibility.as_secs().max(1),
                Self::sas(Duration::from_secs(3600))
            ),
        );
        let response = self.send("get messages", self.client.get(url)).await?;
        let body = response.text().await.map_err(|e| err("get messages", e))?;
        Ok(parse_messages(&body))
    }

    /// Deletes a message taken with [`Storage::get_messages`].
    pub async fn delete_message(
        &self,
        queue: &str,
        message: &QueueMessage,
    ) -> Result<(), StorageError> {
        let url = self.queue_url(
            queue,
            &format!(
                "/{}?popreceipt={}&{}",
                message.id,
                encode(&message.pop_receipt),
                Self::sas(Duration::from_secs(3600))
            ),
        );
        self.send("delete message", self.client.delete(url)).await?;
        Ok(())
    }

    /// Posts a message (the text is sent as is: callers base64-encode).
    pub async fn put_message(&self, queue: &str, text: &str) -> Result<(), StorageError> {
        let url = self.queue_url(queue, &format!("?{}", Self::sas(Duration::from_secs(3600))));
        let body = format!(
            "<QueueMessage><MessageText>{}</MessageText></QueueMessage>",
            xml_escape(text)
        );
        self.send("put message", self.client.post(url).body(body))
            .await?;
        Ok(())
    }

    /// Downloads a blob by its URL (which carries its own SAS, kept out of error messages).
    pub async fn get_blob(&self, url: &str) -> Result<Vec<u8>, StorageError> {
        let what = format!("get blob {}", url.split('?').next().unwrap_or(url));
        let response = self.send(&what, self.client.get(url)).await?;
        Ok(response.bytes().await.map_err(|e| err(&what, e))?.to_vec())
    }
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

fn parse_messages(xml: &str) -> Vec<QueueMessage> {
    xml.split("<QueueMessage>")
        .skip(1)
        .filter_map(|m| {
            Some(QueueMessage {
                id: xml_unescape(tag(m, "MessageId")?),
                pop_receipt: xml_unescape(tag(m, "PopReceipt")?),
                text: xml_unescape(tag(m, "MessageText").unwrap_or("")),
            })
        })
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_parse() {
        let xml = "<?xml version=\"1.0\"?><QueueMessagesList><QueueMessage><MessageId>id1</MessageId><PopReceipt>p&amp;1</PopReceipt><MessageText>aGk=</MessageText></QueueMessage></QueueMessagesList>";
        let m = super::parse_messages(xml);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (
                m[0].id.as_str(),
                m[0].pop_receipt.as_str(),
                m[0].text.as_str()
            ),
            ("id1", "p&1", "aGk=")
        );
    }
}
