//! Deliveries: where a run's messages go. [`Delivery`] is the interface every target
//! implements (webhooks, e-mail), [`post`] the one HTTP POST with retries, backoff and
//! `Retry-After` that webhooks and URL exports share, [`email`] the SMTP delivery.

pub mod contract;
pub mod email;
pub mod post;
pub mod webhook;

pub use contract::Delivery;
pub use email::EmailDelivery;
pub use post::{post_json, DeliveryError};
pub use webhook::WebhookDelivery;
