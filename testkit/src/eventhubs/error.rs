//! Errors of the emulator's own API (starting it); protocol errors go to peers as AMQP errors.

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding the listener failed.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
    /// A name that was asked for is not configured.
    #[error("unknown {what}: {name}")]
    Unknown {
        /// Kind of thing (hub, partition, key).
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A property or annotation value that is not a JSON scalar.
    #[error("the value of {0:?} must be a string, number, boolean or null")]
    NotScalar(String),
}
