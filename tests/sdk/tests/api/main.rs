//! Every test that drives the real server through `aws-sdk-connectcases`, in one binary.

mod cases;
mod domains;
mod fleet;
mod protocol;
mod related;
mod rules;
mod schema;
mod search_property;
mod transfer;
