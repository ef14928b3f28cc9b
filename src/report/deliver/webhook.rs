//! A `[[report.webhook]]` as a [`Delivery`]: the message rendered in the webhook's format
//! (JSON, Teams, Slack) and POSTed with retries.

use super::contract::Delivery;
use super::post::{delivery_policy, post_json, DeliveryError};
use crate::report::message::Message;
use crate::report::render::webhook_body;
use crate::report::settings::{WebhookFormat, WebhookSettings};
use crate::retry::RetryPolicy;

/// One configured webhook.
pub struct WebhookDelivery {
    settings: WebhookSettings,
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl WebhookDelivery {
    /// A delivery to `settings`' URL through `http`.
    pub fn new(settings: WebhookSettings, http: reqwest::Client) -> Self {
        WebhookDelivery {
            settings,
            http,
            policy: delivery_policy(),
        }
    }

    /// The same with another backoff (tests use short ones).
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
}

#[async_trait::async_trait]
impl Delivery for WebhookDelivery {
    fn describe(&self) -> String {
        let kind = match self.settings.format {
            WebhookFormat::Json => "json",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Slack => "slack",
        };
        format!("{kind} webhook {}", self.settings.url.redacted())
    }

    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let body = webhook_body(self.settings.format, message, self.settings.max_rows);
        post_json(
            &self.http,
            &self.settings.url,
            &body,
            self.settings.attempts,
            &self.policy,
        )
        .await
    }
}
