//! A case field's value as the domain layer holds it, and its conversion to and from the wire's
//! `FieldValueUnion`.

use caseload_model::shapes::{EmptyFieldValue, FieldType, FieldValueUnion};
use caseload_model::{Error, Result, Timestamp};
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

/// The wire member that carries values of a field type.
pub fn member_for(t: FieldType) -> &'static str {
    match t {
        FieldType::Text | FieldType::Url | FieldType::SingleSelect | FieldType::DateTime => {
            "stringValue"
        }
        FieldType::Number => "doubleValue",
        FieldType::Boolean => "booleanValue",
        FieldType::User => "userArnValue",
    }
}

/// Converts a wire value for field `field_id` of type `t` into its stored form: checks that the
/// member is the one the type takes, makes DateTime values canonical UTC (so that string order is
/// chronological order and string equality is instant equality) and folds `-0.0` into `0.0` (so
/// numeric equality and sort order agree). `emptyValue` passes for every type; rules about
/// where it may be used belong to the caller.
pub fn typed_value(field_id: &str, t: FieldType, v: &FieldValueUnion) -> Result<Value> {
    let value = Value::from_wire(v);
    let fits = matches!(
        (t, &value),
        (_, Value::Empty)
            | (
                FieldType::Text | FieldType::Url | FieldType::SingleSelect | FieldType::DateTime,
                Value::String(_)
            )
            | (FieldType::Number, Value::Double(_))
            | (FieldType::Boolean, Value::Boolean(_))
            | (FieldType::User, Value::UserArn(_))
    );
    if !fits {
        return Err(Error::validation(format!(
            "Field '{field_id}' is of type {} and takes a {}, not a {}",
            t.as_str(),
            member_for(t),
            value.member_name()
        )));
    }
    Ok(match value {
        Value::String(s) if t == FieldType::DateTime => {
            let ts = Timestamp::parse(&s).ok_or_else(|| {
                Error::validation(format!(
                    "Field '{field_id}' is of type DateTime and '{s}' is not an ISO-8601 date-time with an offset, such as 2026-01-31T09:30:00Z"
                ))
            })?;
            Value::String(ts.to_iso8601())
        }
        // The pattern matches -0.0 too (float patterns compare with `==`).
        Value::Double(0.0) => Value::Double(0.0),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::shapes::FieldValueUnion as W;

    #[test]
    fn values_are_checked_against_the_type_and_made_canonical() {
        let dt = typed_value(
            "d",
            FieldType::DateTime,
            &W::StringValue("2026-01-31T10:30:00+01:00".into()),
        );
        assert_eq!(
            dt.unwrap(),
            Value::String("2026-01-31T09:30:00.000Z".into())
        );
        assert!(
            typed_value(
                "d",
                FieldType::DateTime,
                &W::StringValue("2026-01-31".into())
            )
            .is_err()
        );
        assert_eq!(
            typed_value("n", FieldType::Number, &W::DoubleValue(-0.0)).unwrap(),
            Value::Double(0.0)
        );
        for t in FieldType::ALL {
            assert_eq!(
                typed_value("x", *t, &W::EmptyValue(EmptyFieldValue {})).unwrap(),
                Value::Empty
            );
        }
        let e = typed_value("n", FieldType::Number, &W::StringValue("1".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Field 'n' is of type Number and takes a doubleValue, not a stringValue"
        );
        assert!(typed_value("u", FieldType::User, &W::StringValue("arn:x".into())).is_err());
        assert!(typed_value("b", FieldType::Boolean, &W::BooleanValue(true)).is_ok());
        assert!(typed_value("s", FieldType::SingleSelect, &W::StringValue("open".into())).is_ok());
    }
}
