//! Event Hubs emulator over AMQP 1.0 (being built).
