//! Code generated from the service model by `caseload-codegen`; see that crate. Never edited by
//! hand, and left as the generator writes it (`rustfmt::skip`), so that the up-to-date test can
//! compare bytes.

#[rustfmt::skip]
pub mod api;
#[rustfmt::skip]
pub mod schema;
#[rustfmt::skip]
pub mod shapes;
