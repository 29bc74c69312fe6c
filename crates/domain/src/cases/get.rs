//! GetCase, and how stored values are read back (shared with SearchCases).

use crate::Service;
use crate::store::CaseKey;
use crate::value::Value;
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};
use std::collections::{BTreeMap, HashSet};

/// Most field ids GetCase takes (the model's list limit).
const MAX_GET_FIELDS: usize = 220;

/// The requested fields that have a value, in request order, each once: a cleared field reads as
/// `emptyValue`; a field never set, or unknown, is left out.
pub(crate) fn project(
    values: &BTreeMap<String, Value>,
    ids: &[FieldIdentifier],
) -> Vec<FieldValue> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|f| seen.insert(f.id.as_str()))
        .filter_map(|f| {
            values.get(&f.id).map(|v| FieldValue {
                id: f.id.clone(),
                value: v.to_wire(),
            })
        })
        .collect()
}

pub(crate) async fn get_case(
    svc: &Service,
    ctx: &RequestContext,
    input: GetCaseRequest,
) -> Result<GetCaseResponse> {
    if input.fields.is_empty() || input.fields.len() > MAX_GET_FIELDS {
        return Err(Error::validation(format!(
            "fields must list 1 to {MAX_GET_FIELDS} field ids"
        )));
    }
    svc.domain(ctx, &input.domain_id).await?;
    let ids: Vec<String> = input.fields.iter().map(|f| f.id.clone()).collect();
    let case = svc
        .store
        .get_case_fields(
            CaseKey::new(&ctx.account_id, &input.domain_id, &input.case_id),
            &ids,
        )
        .await?
        .ok_or_else(|| Error::not_found("Case", &input.case_id))?;
    // Every requested field fits in one page (the response holds as many as the request),
    // so this server never issues a nextToken; one it did not issue is refused.
    if let Some(t) = input.next_token.as_deref().filter(|t| !t.is_empty()) {
        svc.tokens.read::<()>("GetCase", t)?;
    }
    Ok(GetCaseResponse {
        fields: project(&case.fields, &input.fields),
        next_token: None,
        tags: Some(case.tags),
        template_id: case.template_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_follows_the_reading_rules() {
        let values: BTreeMap<String, Value> = [
            ("a".to_owned(), Value::String("x".into())),
            ("b".to_owned(), Value::Empty),
        ]
        .into();
        let ids: Vec<FieldIdentifier> = ["b", "never", "a", "b"]
            .iter()
            .map(|i| FieldIdentifier { id: (*i).into() })
            .collect();
        let got = project(&values, &ids);
        assert_eq!(
            got,
            vec![
                FieldValue {
                    id: "b".into(),
                    value: FieldValueUnion::EmptyValue(EmptyFieldValue {})
                },
                FieldValue {
                    id: "a".into(),
                    value: FieldValueUnion::StringValue("x".into())
                },
            ]
        );
    }
}
