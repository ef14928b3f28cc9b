//! Data Explorer emulator over its REST API (being built).
