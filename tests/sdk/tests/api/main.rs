//! Every test that drives the real server through `aws-sdk-connectcases`, in one binary.

mod domains;
mod protocol;
