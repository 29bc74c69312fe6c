//! `crates/domain/src/api.rs`: the domain's `CasesApi` implementation, which states in one place
//! where each operation is carried out. Operation `FooBar` is the free function
//! `foo_bar(svc: &Service, ctx, input)` in the module `HOMES` names for it, so an operation is
//! found by its path rather than by grepping for a method.
//!
//! Generating the file (rather than writing it by hand) makes a model change that adds, drops or
//! renames an operation fail here, naming the operation, until it has a home.

use serde_json::{Map, Value};
use std::fmt::Write;

/// Where the generated implementation goes, relative to the workspace root.
pub const OUTPUT: &str = "crates/domain/src/api.rs";

/// Each operation's module in `caseload-domain`, grouped by resource family: the module of the
/// resource it acts on, and within cases and related items the module of its verb.
const HOMES: &[(&str, &str)] = &[
    ("CreateDomain", "domains"),
    ("GetDomain", "domains"),
    ("ListDomains", "domains"),
    ("DeleteDomain", "domains"),
    ("TagResource", "tags"),
    ("UntagResource", "tags"),
    ("ListTagsForResource", "tags"),
    ("CreateField", "schema::fields"),
    ("UpdateField", "schema::fields"),
    ("DeleteField", "schema::fields"),
    ("ListFields", "schema::fields"),
    ("BatchGetField", "schema::fields"),
    ("BatchPutFieldOptions", "schema::options"),
    ("ListFieldOptions", "schema::options"),
    ("CreateTemplate", "schema::templates"),
    ("GetTemplate", "schema::templates"),
    ("UpdateTemplate", "schema::templates"),
    ("DeleteTemplate", "schema::templates"),
    ("ListTemplates", "schema::templates"),
    ("CreateLayout", "schema::layouts"),
    ("GetLayout", "schema::layouts"),
    ("UpdateLayout", "schema::layouts"),
    ("DeleteLayout", "schema::layouts"),
    ("ListLayouts", "schema::layouts"),
    ("CreateCaseRule", "rules::operations"),
    ("BatchGetCaseRule", "rules::operations"),
    ("ListCaseRules", "rules::operations"),
    ("UpdateCaseRule", "rules::operations"),
    ("DeleteCaseRule", "rules::operations"),
    ("CreateCase", "cases::create"),
    ("GetCase", "cases::get"),
    ("UpdateCase", "cases::update"),
    ("DeleteCase", "cases::delete"),
    ("SearchCases", "cases::search"),
    ("BatchUpdateCase", "cases::batch_update"),
    ("GetCaseAuditEvents", "cases::audit"),
    ("StartMergeCases", "merge::start"),
    ("GetMergeCasesStatus", "merge::status"),
    ("CreateRelatedItem", "related::create"),
    ("BatchCreateRelatedItem", "related::create"),
    ("UpdateRelatedItem", "related::update"),
    ("DeleteRelatedItem", "related::delete"),
    ("SearchRelatedItems", "related::search"),
    ("SearchAllRelatedItems", "related::search"),
    ("ListCasesForContact", "related::search"),
    ("GetCaseEventConfiguration", "events"),
    ("PutCaseEventConfiguration", "events"),
];

/// The generated `api.rs`, one method per operation in `HOMES` order (grouped by family).
pub fn generate(operations: &Map<String, Value>) -> String {
    for name in operations.keys() {
        assert!(
            HOMES.iter().any(|(op, _)| op == name),
            "{name} has no module in codegen's domain_api::HOMES"
        );
    }
    let mut out = String::from(super::HEADER);
    out.push_str("//! The `CasesApi` implementation: operation `FooBar` is carried out by the free function\n//! `foo_bar(svc, ctx, input)` in the module named on its line (the table is `caseload-codegen`'s\n//! `domain_api::HOMES`).\n\nuse crate::Service;\nuse caseload_model::shapes::*;\nuse caseload_model::{CasesApi, RequestContext, Result};\n\n#[async_trait::async_trait]\nimpl CasesApi for Service {\n");
    for (i, (name, home)) in HOMES.iter().enumerate() {
        assert!(
            HOMES[..i].iter().all(|(op, _)| op != name),
            "{name} is listed twice in domain_api::HOMES"
        );
        let op = operations
            .get(*name)
            .unwrap_or_else(|| panic!("domain_api::HOMES lists {name}, which the model lacks"));
        let input = op["input"]["shape"].as_str().unwrap();
        let output = op
            .get("output")
            .map_or("()", |o| o["shape"].as_str().unwrap());
        let f = super::snake(name);
        writeln!(out, "    async fn {f}(&self, ctx: &RequestContext, input: {input}) -> Result<{output}> {{\n        crate::{home}::{f}(self, ctx, input).await\n    }}").unwrap();
    }
    out.push_str("}\n");
    out
}
