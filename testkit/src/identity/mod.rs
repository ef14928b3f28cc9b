//! Entra ID stand-ins: the [`TokenAuthority`] that signs and checks access tokens, and (in
//! `endpoints`) the HTTP token endpoints `azure_identity` credentials fetch them from.

mod authority;

pub use authority::{Claims, TokenAuthority, TokenError};
