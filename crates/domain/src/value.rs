//! A case field's value as the domain layer holds it, and its conversion to and from the wire's
//! `FieldValueUnion`.

use caseload_model::shapes::{EmptyFieldValue, FieldValueUnion};
use serde::{Deserialize, Serialize};

/// A stored field value. DateTime values are `String`s in the canonical form
/// `YYYY-MM-DDTHH:MM:SS.sssZ`, so they compare and sort like the instants they denote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Value {
    String(String),
    Double(f64),
    Boolean(bool),
    UserArn(String),
    /// The field was cleared with `emptyValue`.
    Empty,
}

impl Value {
    pub fn from_wire(v: &FieldValueUnion) -> Self {
        match v {
            FieldValueUnion::StringValue(s) => Value::String(s.clone()),
            FieldValueUnion::DoubleValue(d) => Value::Double(*d),
            FieldValueUnion::BooleanValue(b) => Value::Boolean(*b),
            FieldValueUnion::UserArnValue(u) => Value::UserArn(u.clone()),
            FieldValueUnion::EmptyValue(_) => Value::Empty,
        }
    }

    pub fn to_wire(&self) -> FieldValueUnion {
        match self {
            Value::String(s) => FieldValueUnion::StringValue(s.clone()),
            Value::Double(d) => FieldValueUnion::DoubleValue(*d),
            Value::Boolean(b) => FieldValueUnion::BooleanValue(*b),
            Value::UserArn(u) => FieldValueUnion::UserArnValue(u.clone()),
            Value::Empty => FieldValueUnion::EmptyValue(EmptyFieldValue {}),
        }
    }

    /// The wire member name, for error messages.
    pub fn member_name(&self) -> &'static str {
        match self {
            Value::String(_) => "stringValue",
            Value::Double(_) => "doubleValue",
            Value::Boolean(_) => "booleanValue",
            Value::UserArn(_) => "userArnValue",
            Value::Empty => "emptyValue",
        }
    }
}
