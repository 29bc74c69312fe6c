//! The schema of a domain: fields (system and custom) with their options, templates, layouts.
//! Each resource is stored as a `ResourceRecord` whose `body` is the versioned document defined
//! in its module.

pub mod fields;
pub mod layouts;
pub mod templates;
