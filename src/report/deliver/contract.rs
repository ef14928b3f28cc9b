//! [`Delivery`]: the interface every target of a report's messages implements (webhooks now;
//! e-mail next), in a file of its own so targets and the runner share it without a cycle.

use super::post::DeliveryError;
use crate::report::message::Message;

/// A target of a report's messages.
#[async_trait::async_trait]
pub trait Delivery: Send + Sync {
    /// For logs, errors and the history: the kind and the host, never a secret.
    fn describe(&self) -> String;
    /// Sends one message, retrying as the target allows.
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}
