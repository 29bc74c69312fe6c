//! The types of the generated constraint and route tables (`generated/schema.rs`). The wire layer
//! interprets them: its router matches `OperationDef::uri`, its validator walks `ShapeDef`s.

pub use crate::generated::schema::{EXCEPTIONS, OPERATIONS, SHAPES};

/// A shape of the model with its constraints.
#[derive(Debug)]
pub struct ShapeDef {
    pub name: &'static str,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    String {
        min: Option<i64>,
        max: Option<i64>,
        /// Anchored; matched against the whole value.
        pattern: Option<&'static str>,
        /// A prefix (itself a pattern) the value must not start with.
        forbidden_prefix: Option<&'static str>,
        /// Empty when any value is allowed.
        enum_values: &'static [&'static str],
        /// Values that must never appear in logs or error messages.
        sensitive: bool,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Double,
    Boolean,
    Timestamp,
    List {
        member: usize,
        min: Option<i64>,
        max: Option<i64>,
        sparse: bool,
    },
    Map {
        key: usize,
        value: usize,
        min: Option<i64>,
        max: Option<i64>,
        sparse: bool,
    },
    Structure {
        /// A union takes exactly one of its members.
        union: bool,
        members: &'static [Member],
    },
}

/// A member of a structure: its target shape (an index into `SHAPES`) and where it travels.
#[derive(Debug)]
pub struct Member {
    pub name: &'static str,
    pub target: usize,
    pub required: bool,
    pub location: Location,
    pub location_name: &'static str,
    /// SDKs fill these in (`clientToken`) when the caller does not.
    pub idempotency_token: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Body,
    /// A `{label}` of the URI.
    Label,
    Query,
    Header,
}

/// An operation with its HTTP binding.
#[derive(Debug)]
pub struct OperationDef {
    pub name: &'static str,
    pub method: &'static str,
    /// The model's request URI template, e.g. `/domains/{domainId}/cases`.
    pub uri: &'static str,
    pub success_code: u16,
    pub input: Option<usize>,
    pub output: Option<usize>,
    pub errors: &'static [&'static str],
}

/// The shape named `name`.
pub fn shape(name: &str) -> Option<&'static ShapeDef> {
    SHAPES.iter().find(|s| s.name == name)
}
