//! Who is calling: SigV4 request verification, and the access keys the server accepts with the
//! account each one acts as.

mod canonical;
mod identity;
mod verify;

pub use identity::{ConfigError, CredentialLookup, Identities, Identity};
pub use verify::{Caller, verify};
