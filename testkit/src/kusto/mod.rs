//! Data Explorer emulator over its REST API. The query engine for its KQL subset is in
//! [`kql`]; the HTTP server around it is being built.

pub mod kql;
