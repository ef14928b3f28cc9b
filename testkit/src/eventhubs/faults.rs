//! Faults tests switch on through the emulator handle: refusing connections or links for a
//! while, and delaying deliveries. (Dropping connections and detaching links act at once, in
//! `emulator.rs`.)

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The error a link is detached (or refused) with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFault {
    /// AMQP error condition, e.g. `amqp:link:detach-forced` or `com.microsoft:server-busy`.
    pub condition: String,
    /// Human-readable description.
    pub description: String,
}

impl LinkFault {
    /// A fault with `condition` and `description`.
    pub fn new(condition: &str, description: &str) -> Self {
        LinkFault {
            condition: condition.into(),
            description: description.into(),
        }
    }

    /// The AMQP error for this fault.
    pub(crate) fn to_error(&self) -> fe2o3_amqp_types::definitions::Error {
        use fe2o3_amqp_types::definitions::{
            AmqpError, ConnectionError, ErrorCondition, LinkError,
        };
        use fe2o3_amqp_types::primitives::Symbol;
        let c = self.condition.as_str();
        let condition = if let Ok(e) = AmqpError::try_from(c) {
            ErrorCondition::AmqpError(e)
        } else if let Ok(e) = LinkError::try_from(c) {
            ErrorCondition::LinkError(e)
        } else if let Ok(e) = ConnectionError::try_from(c) {
            ErrorCondition::ConnectionError(e)
        } else {
            ErrorCondition::Custom(Symbol::from(c))
        };
        fe2o3_amqp_types::definitions::Error::new(condition, Some(self.description.clone()), None)
    }
}

/// Switchable faults, shared by all connections.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    refuse_connections_until: Mutex<Option<Instant>>,
    refuse_links_until: Mutex<Option<(Instant, LinkFault)>>,
    delivery_delay: Mutex<Duration>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Faults {
    pub fn refuse_connections_for(&self, d: Duration) {
        *lock(&self.refuse_connections_until) = Some(Instant::now() + d);
    }

    pub fn refusing_connections(&self) -> bool {
        lock(&self.refuse_connections_until).is_some_and(|t| Instant::now() < t)
    }

    pub fn refuse_links_for(&self, d: Duration, fault: LinkFault) {
        *lock(&self.refuse_links_until) = Some((Instant::now() + d, fault));
    }

    pub fn link_refusal(&self) -> Option<LinkFault> {
        lock(&self.refuse_links_until)
            .as_ref()
            .filter(|(t, _)| Instant::now() < *t)
            .map(|(_, f)| f.clone())
    }

    pub fn set_delivery_delay(&self, d: Duration) {
        *lock(&self.delivery_delay) = d;
    }

    pub fn delivery_delay(&self) -> Duration {
        *lock(&self.delivery_delay)
    }
}
