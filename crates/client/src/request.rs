//! An operation's HTTP request from its typed input: the inverse of `caseload-wire`'s binding.
//!
//! The server's binding gathers URI labels, the query string and the JSON body into one document
//! by the model's shape table; here one typed input is taken apart by the same table. The input
//! is serialized once through `Split`, a serializer that sees the input's members one by one and
//! sends each where its `Location` says: body members are written straight into the JSON body
//! (no intermediate `serde_json::Value`, so a request costs what `serde_json::to_vec` of its body
//! costs), labels into the URI template, query members into the query string. Members the input
//! leaves unset (`None`) are skipped by the shapes' serde attributes and appear nowhere.

use bytes::Bytes;
use caseload_model::OperationInput;
use caseload_model::schema::{Kind, Location, Member, SHAPES};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde::ser::{Error as _, Impossible, SerializeStruct};
use serde_json::Value;

/// What the SDKs leave unescaped in a label or a query value: RFC 3986's unreserved characters.
/// The AWS SDK for Rust escapes everything else (its `BASE_SET` plus every non-ASCII byte), and
/// botocore's `percent_encode` keeps only `-_.~` too; a non-greedy label escapes `/`, so an ARN
/// travels as one path segment (`arn%3Aaws%3Acases%3A...%2Fdomain%2Fd-1`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// A greedy label (`{key+}`) spans segments: its `/` stay. The ConnectCases model has none
/// today; the router accepts the form, so the client writes it too.
const GREEDY: &AsciiSet = &UNRESERVED.remove(b'/');

/// An operation's request as it goes on the wire, before signing.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    /// The model's URI template with its labels filled in, and the query string.
    pub path_and_query: String,
    /// Members bound to headers: (header name, value).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body. `None` when the input shape has no body members: restJson1 then sends no
    /// body and no `Content-Type`, as the SDKs do (GetDomain, ListDomains, DeleteCase). `Bytes`,
    /// so a request built once can be sent many times without copying (the benchmark does).
    pub body: Option<Bytes>,
}

/// Builds the request of the operation `I` names. Fails only for an input the API would refuse
/// anyway and that cannot even be addressed: a label left empty.
pub fn build<I: OperationInput>(input: &I) -> Result<HttpRequest, String> {
    let def = I::OPERATION.def();
    let members: &'static [Member] = match def.input.map(|i| &SHAPES[i].kind) {
        Some(Kind::Structure { members, .. }) => members,
        _ => &[],
    };
    let mut split = Split {
        members,
        body: Vec::with_capacity(128),
        body_members: 0,
        labels: Vec::new(),
        query: Vec::new(),
        headers: Vec::new(),
    };
    input.serialize(&mut split).map_err(|e| e.to_string())?;

    let mut path_and_query = String::with_capacity(def.uri.len() + 48);
    let mut rest = def.uri;
    while let Some(open) = rest.find('{') {
        path_and_query.push_str(&rest[..open]);
        let close = open
            + rest[open..]
                .find('}')
                .ok_or_else(|| format!("bad URI template {}", def.uri))?;
        let label = &rest[open + 1..close];
        let (name, set) = match label.strip_suffix('+') {
            Some(name) => (name, GREEDY),
            None => (label, UNRESERVED),
        };
        let value = split
            .labels
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        // The SDKs refuse to build such a request: an empty segment would address another
        // operation (`/domains//cases`) or none.
        if value.is_empty() {
            return Err(format!(
                "{}: the URI label {name} must be set and not empty",
                def.name
            ));
        }
        push_encoded(&mut path_and_query, value, set);
        rest = &rest[close + 1..];
    }
    path_and_query.push_str(rest);
    for (i, (key, value)) in split.query.iter().enumerate() {
        path_and_query.push(if i == 0 { '?' } else { '&' });
        push_encoded(&mut path_and_query, key, UNRESERVED);
        path_and_query.push('=');
        push_encoded(&mut path_and_query, value, UNRESERVED);
    }

    let has_body = members.iter().any(|m| m.location == Location::Body);
    let body = has_body.then(|| {
        let mut body = split.body;
        if split.body_members == 0 {
            body.push(b'{');
        }
        body.push(b'}');
        Bytes::from(body)
    });
    Ok(HttpRequest {
        method: def.method,
        path_and_query,
        headers: split.headers,
        body,
    })
}

fn push_encoded(out: &mut String, s: &str, set: &'static AsciiSet) {
    out.extend(percent_encoding::utf8_percent_encode(s, set));
}

/// The text of a label, query or header value: strings as they are, numbers and booleans as
/// JSON writes them (the model's query members are strings, integers and lists of them).
fn scalar(v: Value) -> Result<Option<String>, serde_json::Error> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(_) | Value::Object(_) => {
            return Err(serde_json::Error::custom(
                "a structured value cannot be a URI label",
            ));
        }
    })
}

/// Receives the members of one input structure and routes each to its place.
struct Split {
    members: &'static [Member],
    /// The JSON body so far: `{` and the members written, without the closing `}`.
    body: Vec<u8>,
    body_members: usize,
    /// (label name, value), unescaped.
    labels: Vec<(&'static str, String)>,
    /// (query key, value), unescaped, in member order; a list repeats its key.
    query: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
}

impl SerializeStruct for &mut Split {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let member = self
            .members
            .iter()
            .find(|m| m.name == key)
            .ok_or_else(|| serde_json::Error::custom(format!("{key} is not a member")))?;
        match member.location {
            Location::Body => {
                self.body
                    .push(if self.body_members == 0 { b'{' } else { b',' });
                self.body_members += 1;
                serde_json::to_writer(&mut self.body, key)?;
                self.body.push(b':');
                serde_json::to_writer(&mut self.body, value)?;
            }
            Location::Label => {
                if let Some(v) = scalar(serde_json::to_value(value)?)? {
                    self.labels.push((member.location_name, v));
                }
            }
            Location::Query => match serde_json::to_value(value)? {
                Value::Array(items) => {
                    for item in items {
                        if let Some(v) = scalar(item)? {
                            self.query.push((member.location_name, v));
                        }
                    }
                }
                v => {
                    if let Some(v) = scalar(v)? {
                        self.query.push((member.location_name, v));
                    }
                }
            },
            Location::Header => {
                if let Some(v) = scalar(serde_json::to_value(value)?)? {
                    self.headers.push((member.location_name, v));
                }
            }
        }
        Ok(())
    }

    fn end(self) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

fn not_a_structure() -> serde_json::Error {
    serde_json::Error::custom("an operation's input must be a structure")
}

/// Only `serialize_struct` is reachable from a generated input shape; everything else is not an
/// input and refused.
impl<'a> serde::Serializer for &'a mut Split {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = &'a mut Split;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, serde_json::Error> {
        Ok(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_i8(self, _: i8) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_i16(self, _: i16) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_i32(self, _: i32) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_i64(self, _: i64) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_u8(self, _: u8) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_u16(self, _: u16) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_u32(self, _: u32) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_u64(self, _: u64) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_f32(self, _: f32) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_f64(self, _: f64) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_char(self, _: char) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_str(self, _: &str) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_none(self) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_unit(self) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, serde_json::Error> {
        Err(not_a_structure())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, serde_json::Error> {
        Err(not_a_structure())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseload_model::shapes::*;
    use serde_json::json;

    fn body(r: &HttpRequest) -> Value {
        serde_json::from_slice(r.body.as_deref().expect("a body")).unwrap()
    }

    #[test]
    fn labels_fill_the_template_and_leave_the_body() {
        let r = build(&GetCaseRequest {
            case_id: "c-1".into(),
            domain_id: "d-1".into(),
            fields: vec![FieldIdentifier { id: "title".into() }],
            next_token: None,
        })
        .unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path_and_query, "/domains/d-1/cases/c-1");
        // Member order as the shape serializes it; unset members are absent, labels too.
        assert_eq!(
            std::str::from_utf8(r.body.as_deref().unwrap()).unwrap(),
            r#"{"fields":[{"id":"title"}]}"#
        );
    }

    #[test]
    fn arn_labels_are_one_escaped_segment_as_the_sdks_send_them() {
        let arn = "arn:aws:cases:us-east-1:000000000000:domain/d-1/case/c 1+é";
        let r = build(&TagResourceRequest {
            arn: arn.into(),
            tags: [("k".to_owned(), Some("v".to_owned()))].into(),
        })
        .unwrap();
        assert_eq!(
            r.path_and_query,
            "/tags/arn%3Aaws%3Acases%3Aus-east-1%3A000000000000%3Adomain%2Fd-1%2Fcase%2Fc%201%2B%C3%A9"
        );
        assert_eq!(body(&r), json!({ "tags": { "k": "v" } }));
        // Every printable ASCII character, against the AWS SDK for Rust's own label encoder.
        let all: String = (0x20u8..0x7f).map(char::from).collect();
        let mut ours = String::new();
        push_encoded(&mut ours, &all, UNRESERVED);
        assert_eq!(
            ours,
            aws_smithy_http::label::fmt_string(
                &all,
                aws_smithy_http::label::EncodingStrategy::Default
            )
        );
    }

    #[test]
    fn query_members_repeat_lists_and_write_numbers() {
        let r = build(&UntagResourceRequest {
            arn: "arn:x/y".into(),
            tag_keys: vec!["a".into(), "b:c d".into()],
        })
        .unwrap();
        assert_eq!(r.method, "DELETE");
        assert_eq!(
            r.path_and_query,
            "/tags/arn%3Ax%2Fy?tagKeys=a&tagKeys=b%3Ac%20d"
        );
        assert_eq!(r.body, None, "UntagResource has no body members");

        let r = build(&ListDomainsRequest {
            max_results: Some(2),
            next_token: Some("a+b/c=".into()),
        })
        .unwrap();
        assert_eq!(
            r.path_and_query,
            "/domains-list?maxResults=2&nextToken=a%2Bb%2Fc%3D"
        );
        assert_eq!(r.body, None);
        let r = build(&ListDomainsRequest::default()).unwrap();
        assert_eq!(r.path_and_query, "/domains-list");

        let r = build(&ListFieldOptionsRequest {
            domain_id: "d".into(),
            field_id: "f".into(),
            max_results: None,
            next_token: None,
            values: Some(vec!["x".into(), "y".into()]),
        })
        .unwrap();
        assert_eq!(
            r.path_and_query,
            "/domains/d/fields/f/options-list?values=x&values=y"
        );
    }

    #[test]
    fn an_input_with_body_members_always_has_a_body() {
        let r = build(&SearchCasesRequest {
            domain_id: "d".into(),
            fields: None,
            filter: None,
            max_results: None,
            next_token: None,
            search_term: None,
            sorts: None,
        })
        .unwrap();
        assert_eq!(r.path_and_query, "/domains/d/cases-search");
        assert_eq!(r.body.as_deref(), Some(&b"{}"[..]));
        let r = build(&GetDomainRequest {
            domain_id: "d".into(),
        })
        .unwrap();
        assert_eq!((r.method, r.body), ("POST", None));
    }

    #[test]
    fn templates_keep_their_literal_quirks() {
        let r = build(&CreateRelatedItemRequest {
            case_id: "c".into(),
            content: RelatedItemInputContent::Comment(CommentContent {
                body: "hi".into(),
                content_type: CommentBodyTextType::TextPlain,
            }),
            domain_id: "d".into(),
            performed_by: None,
            r#type: RelatedItemType::Comment,
        })
        .unwrap();
        assert_eq!(r.path_and_query, "/domains/d/cases/c/related-items/");
        assert_eq!(
            body(&r),
            json!({ "content": { "comment": { "body": "hi", "contentType": "Text/Plain" } }, "type": "Comment" })
        );
        let r = build(&BatchUpdateCaseRequest {
            cases: vec![],
            client_token: None,
            customer_id: None,
            domain_id: "d".into(),
            fields: vec![],
            performed_by: None,
            status: None,
            title: None,
        })
        .unwrap();
        assert_eq!(
            (r.method, r.path_and_query.as_str()),
            ("PUT", "/cases:batchUpdateCase")
        );
        assert_eq!(body(&r)["domainId"], "d", "domainId is a body member here");
    }

    #[test]
    fn an_empty_label_cannot_be_sent() {
        let e = build(&GetDomainRequest {
            domain_id: String::new(),
        })
        .unwrap_err();
        assert!(e.contains("domainId"), "{e}");
    }

    /// What the client builds, the server's router and binding read back as the same input, for
    /// every shape of label, query and body this test writes.
    #[test]
    fn the_server_binds_what_the_client_builds() {
        fn round_trip<
            I: OperationInput + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        >(
            input: I,
        ) {
            let r = build(&input).unwrap();
            let (path, query) = match r.path_and_query.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (r.path_and_query.as_str(), None),
            };
            let method = http::Method::from_bytes(r.method.as_bytes()).unwrap();
            let routed = caseload_wire::router::route(&method, path).unwrap();
            assert_eq!(routed.operation, I::OPERATION);
            let doc = caseload_wire::binding::bind_input(
                &routed,
                query,
                r.body.as_deref().unwrap_or_default(),
            )
            .unwrap();
            assert_eq!(serde_json::from_value::<I>(doc).unwrap(), input);
        }
        round_trip(UntagResourceRequest {
            arn: "arn:aws:cases:us-east-1:000000000000:domain/d-1/case/c 1%2F".into(),
            tag_keys: vec!["a".into(), "b:c+d=e/f".into()],
        });
        round_trip(ListFieldOptionsRequest {
            domain_id: "d".into(),
            field_id: "f".into(),
            max_results: Some(7),
            next_token: Some("t+/=".into()),
            values: Some(vec!["x y".into()]),
        });
        round_trip(UpdateCaseRequest {
            case_id: "c-1".into(),
            domain_id: "d-1".into(),
            fields: vec![FieldValue {
                id: "title".into(),
                value: FieldValueUnion::StringValue("x".into()),
            }],
            performed_by: None,
        });
    }
}
