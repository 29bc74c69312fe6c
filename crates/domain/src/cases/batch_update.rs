//! BatchUpdateCase (`PUT /cases:batchUpdateCase`): the same values written to up to 100 cases of
//! a domain, each through the UpdateCase path (`update_one`), so every updated case gets its own
//! `Case.Updated` audit event and change-log entry (search sees it as soon as the call returns).
//!
//! The whole request fails, and nothing is written, in the cases the operation's documentation
//! lists: the domain does not exist, a reference id matches no case (ResourceNotFoundException);
//! a case is listed twice, nothing is to be updated, a field identifier resolves to no field, a
//! field name contains `|` or `,`, or `fields` sets title, status or customer_id
//! (ValidationException). Anything else fails one case only: an entry of `failedCases` whose
//! `errorCode` names the exception that case would have met in an UpdateCase.
//!
//! Reference ids: every case has a reference number unique within its domain, which is what a
//! reference id is (unique per domain, matched without regard to case), so caseload's reference
//! id of a case is its reference number.

use super::update::NotUpdated;
use crate::Service;
use crate::idempotency::{self, Claimed};
use crate::store::DomainKey;
use crate::store::{ResourceKind, TokenClaim};
use caseload_model::shapes::*;
use caseload_model::{Error, RequestContext, Result};
use std::collections::HashSet;

const OPERATION: &str = "BatchUpdateCase";
/// The system fields BatchUpdateCase sets only through its top-level members.
const TOP_LEVEL: [(&str, &str); 3] = [
    ("title", "title"),
    ("status", "status"),
    ("customer_id", "customerId"),
];

/// A case as the request names it, resolved to its case id.
struct Target {
    case_id: String,
    /// Given when the request identified the case by reference id.
    reference_id: Option<String>,
}

/// The `errorCode` of a case that failed with `e` (the codes of the `failedCases` documentation).
fn error_code(e: &Error) -> &'static str {
    match e {
        Error::Validation(_) | Error::Serialization(_) => "VALIDATION_ERROR",
        Error::NotFound { resource_type, .. } if resource_type == "Domain" => "DOMAIN_NOT_FOUND",
        Error::NotFound { .. } => "CASE_NOT_FOUND",
        Error::Conflict(_) => "CONFLICT",
        Error::QuotaExceeded(_) => "SERVICE_QUOTA_EXCEEDED",
        Error::Throttling(_) => "THROTTLED",
        Error::AccessDenied(_)
        | Error::MissingAuthenticationToken(_)
        | Error::IncompleteSignature(_)
        | Error::UnrecognizedClient(_)
        | Error::InvalidSignature(_) => "ACCESS_DENIED",
        Error::UnknownOperation(_)
        | Error::RequestTooLarge(_)
        | Error::RequestTimeout(_)
        | Error::FaultInjected(_)
        | Error::NotImplemented(_)
        | Error::Internal(_)
        | Error::Unavailable { .. } => "INTERNAL_ERROR",
    }
}

/// Claims a token at most this often per request: a claim is only lost to a retry that took it
/// over as stale, and that retry's claim to one more.
const MAX_CLAIMS: usize = 4;

/// Why a claimed batch stopped.
enum Stopped {
    /// The request failed as a whole (nothing of it was written).
    Failed(Error),
    /// The claim was taken over: the retry that took it answers.
    ClaimLost,
}

impl From<Error> for Stopped {
    fn from(e: Error) -> Self {
        Stopped::Failed(e)
    }
}

pub(crate) async fn batch_update_case(
    svc: &Service,
    ctx: &RequestContext,
    input: BatchUpdateCaseRequest,
) -> Result<BatchUpdateCaseResponse> {
    let domain = svc.domain(ctx, &input.domain_id).await?;
    let domain_id = domain.domain_id.as_str();
    let Some(token) = input.client_token.as_deref().filter(|t| !t.is_empty()) else {
        return match batch_update(svc, ctx, domain_id, &input, None).await {
            Ok(response) => Ok(response),
            Err(Stopped::Failed(e)) => Err(e),
            Err(Stopped::ClaimLost) => Err(Error::internal(
                "a batch update without a client token lost a claim",
            )),
        };
    };
    // Each case is its own transaction, so the token is claimed before anything is checked
    // or written (see `idempotency`): a token seen before answers as it answered then, even
    // if the schema has changed since.
    let digest = idempotency::request_digest(OPERATION, &input, &["fields"])?;
    for _ in 0..MAX_CLAIMS {
        let claim = match crate::idempotency::claim(svc, ctx, domain_id, OPERATION, token, &digest)
            .await?
        {
            Claimed::Replay(seen) => return idempotency::replay(OPERATION, seen, &digest),
            Claimed::Owned(claim) => claim,
        };
        match batch_update(svc, ctx, domain_id, &input, Some(&claim)).await {
            Ok(response) => {
                let stored = serde_json::to_value(&response).map_err(Error::internal)?;
                if svc
                    .store
                    .finish_token(&idempotency::renewed(&claim), &stored)
                    .await?
                {
                    return Ok(response);
                }
                // Taken over after the last case: the retry that took it answers.
            }
            Err(Stopped::ClaimLost) => {}
            Err(Stopped::Failed(e)) => {
                crate::idempotency::release(svc, ctx, &claim).await;
                return Err(e);
            }
        }
    }
    Err(Error::conflict(format!(
        "A {OPERATION} request with the clientToken '{token}' is still in progress; retry later"
    )))
}

/// The batch itself: every check, then each case through `update_one` (fenced by `claim`).
async fn batch_update(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    input: &BatchUpdateCaseRequest,
    claim: Option<&TokenClaim>,
) -> std::result::Result<BatchUpdateCaseResponse, Stopped> {
    let mut updates = crate::cases::update::updates(svc, ctx, domain_id).await?;
    let values = batch_values(svc, ctx, domain_id, input, |id| {
        updates.fields.get(id).is_some()
    })
    .await?;
    let targets = batch_targets(svc, ctx, domain_id, &input.cases).await?;

    let mut response = BatchUpdateCaseResponse {
        successful_cases: vec![],
        failed_cases: vec![],
    };
    for t in targets {
        match crate::cases::update::update_one(
            svc,
            ctx,
            domain_id,
            &t.case_id,
            crate::cases::update::Write {
                values: &values,
                performed_by: input.performed_by.as_ref(),
            },
            &mut updates,
            claim,
        )
        .await
        {
            Ok(case) => response.successful_cases.push(BatchUpdateCaseSuccessEntry {
                case_identifier: CaseIdentifier {
                    case_id: Some(case.case_id),
                    reference_id: Some(case.reference_number),
                    reference_number: None,
                },
            }),
            Err(NotUpdated::ClaimLost) => return Err(Stopped::ClaimLost),
            Err(NotUpdated::Failed(e)) => {
                let error_message = match &e {
                    Error::Internal(detail) => {
                        tracing::error!(request_id = %ctx.request_id, case_id = %t.case_id, %detail, "batch update of one case failed");
                        "An internal error occurred; quote the request id when reporting it"
                            .to_owned()
                    }
                    e => e.to_string(),
                };
                response.failed_cases.push(BatchUpdateCaseErrorEntry {
                    case_identifier: CaseIdentifier {
                        case_id: Some(t.case_id),
                        reference_id: t.reference_id,
                        reference_number: None,
                    },
                    error_code: error_code(&e).to_owned(),
                    error_message,
                })
            }
        }
    }
    Ok(response)
}

/// The values the request writes, by field id: `fields` resolved (by id or by name) plus the
/// top-level title, status and customerId. `exists` says whether a field id is the domain's.
async fn batch_values(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    input: &BatchUpdateCaseRequest,
    exists: impl Fn(&str) -> bool,
) -> Result<Vec<FieldValue>> {
    let by_name = if input
        .fields
        .iter()
        .any(|f| matches!(f.field_identifier, FieldIdentifierUnion::Name(_)))
    {
        live_field_names(svc, ctx, domain_id).await?
    } else {
        vec![]
    };
    let mut out: Vec<FieldValue> = Vec::new();
    for (i, f) in input.fields.iter().enumerate() {
        let member = format!("fields[{i}].fieldIdentifier");
        let id = match &f.field_identifier {
            FieldIdentifierUnion::Id(id) => {
                if !exists(id) {
                    return Err(Error::validation(format!(
                        "{member}.id: field '{id}' does not exist in this domain"
                    )));
                }
                id.clone()
            }
            FieldIdentifierUnion::Name(name) => {
                if name.contains(['|', ',']) {
                    return Err(Error::validation(format!(
                        "{member}.name: '{name}' contains '|' or ',', which a field name used as an identifier cannot"
                    )));
                }
                by_name
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, id)| id.clone())
                    .ok_or_else(|| {
                        Error::validation(format!(
                            "{member}.name: no field of this domain is named '{name}'"
                        ))
                    })?
            }
        };
        if let Some((_, top)) = TOP_LEVEL.iter().find(|(f, _)| *f == id) {
            return Err(Error::validation(format!(
                "{member}: field '{id}' is set through the top-level {top} member, not through fields"
            )));
        }
        if out.iter().any(|v| v.id == id) {
            return Err(Error::validation(format!(
                "{member}: field '{id}' is listed more than once"
            )));
        }
        out.push(FieldValue {
            id,
            value: f.value.clone(),
        });
    }
    let top = [
        ("title", &input.title),
        ("status", &input.status),
        ("customer_id", &input.customer_id),
    ];
    for (id, v) in top {
        if let Some(v) = v {
            out.push(FieldValue {
                id: id.to_owned(),
                value: FieldValueUnion::StringValue(v.clone()),
            });
        }
    }
    if out.is_empty() {
        return Err(Error::validation(
            "BatchUpdateCase needs at least one entry in fields, or a title, status or customerId",
        ));
    }
    Ok(out)
}

/// (name, id) of the fields that are not deleted: names are unique among them.
async fn live_field_names(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
) -> Result<Vec<(String, String)>> {
    let fields =
        crate::schema::resource::all_of_kind(svc, ctx, domain_id, ResourceKind::Field, false)
            .await?;
    Ok(fields.into_iter().map(|r| (r.name, r.id)).collect())
}

/// The cases the request names, in order, each once. A reference id matching no case fails
/// the request; a case id that does not exist fails only its case, later.
async fn batch_targets(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    cases: &[BatchUpdateCaseIdentifier],
) -> Result<Vec<Target>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let target = match &c.case_identifier {
            CaseIdentifierUnion::CaseId(id) => Target {
                case_id: id.clone(),
                reference_id: None,
            },
            CaseIdentifierUnion::ReferenceId(r) => {
                let case = svc
                    .store
                    .get_case_by_reference(DomainKey::new(&ctx.account_id, domain_id), r)
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        message: format!("No case of this domain has the reference id {r}"),
                        resource_id: r.clone(),
                        resource_type: "Case".to_owned(),
                    })?;
                Target {
                    case_id: case.case_id,
                    reference_id: Some(r.clone()),
                }
            }
        };
        if !seen.insert(target.case_id.clone()) {
            return Err(Error::validation(format!(
                "cases[{i}]: case {} is listed more than once",
                target.case_id
            )));
        }
        out.push(target);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_documented_code() {
        assert_eq!(error_code(&Error::validation("v")), "VALIDATION_ERROR");
        assert_eq!(error_code(&Error::not_found("Case", "c")), "CASE_NOT_FOUND");
        assert_eq!(
            error_code(&Error::not_found("Domain", "d")),
            "DOMAIN_NOT_FOUND"
        );
        assert_eq!(error_code(&Error::conflict("c")), "CONFLICT");
        assert_eq!(
            error_code(&Error::QuotaExceeded("q".into())),
            "SERVICE_QUOTA_EXCEEDED"
        );
        assert_eq!(error_code(&Error::Throttling("t".into())), "THROTTLED");
        assert_eq!(
            error_code(&Error::AccessDenied("a".into())),
            "ACCESS_DENIED"
        );
        assert_eq!(error_code(&Error::internal("x")), "INTERNAL_ERROR");
    }

    #[test]
    fn the_digest_ignores_the_token_and_the_order_of_fields() {
        let field = |id: &str| FieldValueInput {
            field_identifier: FieldIdentifierUnion::Id(id.into()),
            value: FieldValueUnion::BooleanValue(true),
        };
        let req = |fields: Vec<FieldValueInput>, token: &str| BatchUpdateCaseRequest {
            domain_id: "d".into(),
            cases: vec![BatchUpdateCaseIdentifier {
                case_identifier: CaseIdentifierUnion::CaseId("c".into()),
            }],
            fields,
            client_token: Some(token.into()),
            customer_id: None,
            performed_by: None,
            status: None,
            title: Some("t".into()),
        };
        let digest = |r: &BatchUpdateCaseRequest| {
            idempotency::request_digest(OPERATION, r, &["fields"]).unwrap()
        };
        let a = digest(&req(vec![field("x"), field("y")], "1"));
        assert_eq!(a, digest(&req(vec![field("y"), field("x")], "2")));
        assert_ne!(a, digest(&req(vec![field("x")], "1")));
        let mut closed = req(vec![field("x"), field("y")], "1");
        closed.status = Some("closed".into());
        assert_ne!(a, digest(&closed));
    }
}
