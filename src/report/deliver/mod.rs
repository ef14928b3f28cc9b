//! Deliveries: where a run's messages go. [`Delivery`] is the interface every target
//! implements (webhooks now; e-mail next), [`post`] the one HTTP POST with retries, backoff
//! and `Retry-After` that webhooks and URL exports share.

pub mod contract;
pub mod post;
pub mod webhook;

pub use contract::Delivery;
pub use post::{post_json, DeliveryError};
pub use webhook::WebhookDelivery;
