//! Deliveries: where a run's messages go. [`Delivery`] is the interface every target
//! implements (webhooks now; e-mail next), [`post`] the one HTTP POST with retries, backoff
//! and `Retry-After` that webhooks and URL exports share.

pub mod post;
pub mod webhook;

use super::message::Message;
pub use post::{post_json, DeliveryError};
pub use webhook::WebhookDelivery;

/// A target of a report's messages.
#[async_trait::async_trait]
pub trait Delivery: Send + Sync {
    /// For logs, errors and the history: the kind and the host, never a secret.
    fn describe(&self) -> String;
    /// Sends one message, retrying as the target allows.
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}
