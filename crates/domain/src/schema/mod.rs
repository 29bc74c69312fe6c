//! The schema of a domain: fields (system and custom) with their options, templates, layouts.
//! Each resource is stored as a `ResourceRecord` whose `body` is the versioned document defined
//! in its module; `resource` holds what the three kinds share (lookup, concurrent-safe update,
//! soft delete, paging).

pub mod fields;
pub mod layouts;
pub(crate) mod options;
pub(crate) mod resource;
pub mod templates;
