//! Case rules through the Rust SDK: every operation, the template attachment, enforcement on
//! CreateCase and UpdateCase, and the error paths with their exact wire form.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::error::SdkError;
use aws_sdk_connectcases::operation::create_case::{CreateCaseError, CreateCaseOutput};
use aws_sdk_connectcases::operation::create_case_rule::CreateCaseRuleError;
use aws_sdk_connectcases::operation::create_template::CreateTemplateError;
use aws_sdk_connectcases::operation::update_case::{UpdateCaseError, UpdateCaseOutput};
use aws_sdk_connectcases::types::{
    BooleanCondition, BooleanOperands, CaseRuleDetails, CaseRuleIdentifier, CompoundCondition,
    EmptyOperandValue, FieldOptionsCaseRule, FieldType, FieldValue, FieldValueUnion,
    GetCaseRuleResponse, HiddenCaseRule, OperandOne, OperandTwo, ParentChildFieldOptionsMapping,
    RequiredCaseRule, RuleType, TemplateRule,
};
use caseload_sdk_tests::{Server, empty, error_body, error_code, fv, ident, message, n, s};

fn compare(field: &str, operand: OperandTwo, result: bool) -> BooleanOperands {
    BooleanOperands::builder()
        .operand_one(OperandOne::FieldId(field.into()))
        .operand_two(operand)
        .result(result)
        .build()
        .unwrap()
}

fn eq(field: &str, value: &str) -> BooleanCondition {
    BooleanCondition::EqualTo(compare(field, OperandTwo::StringValue(value.into()), true))
}

/// `field` equals `operand` (None: has no value) decides `result`.
fn eq_to(field: &str, operand: Option<&str>, result: bool) -> BooleanCondition {
    BooleanCondition::EqualTo(compare(field, string_or_empty(operand), result))
}

/// `field` differs from `operand` (None: has a value) decides `result`.
fn ne_to(field: &str, operand: Option<&str>, result: bool) -> BooleanCondition {
    BooleanCondition::NotEqualTo(compare(field, string_or_empty(operand), result))
}

fn string_or_empty(operand: Option<&str>) -> OperandTwo {
    match operand {
        Some(v) => OperandTwo::StringValue(v.into()),
        None => OperandTwo::EmptyValue(EmptyOperandValue::builder().build()),
    }
}

fn and_all(conditions: Vec<BooleanCondition>) -> BooleanCondition {
    BooleanCondition::AndAll(
        CompoundCondition::builder()
            .set_conditions(Some(conditions))
            .build()
            .unwrap(),
    )
}

fn or_all(conditions: Vec<BooleanCondition>) -> BooleanCondition {
    BooleanCondition::OrAll(
        CompoundCondition::builder()
            .set_conditions(Some(conditions))
            .build()
            .unwrap(),
    )
}

/// A fieldOptions rule: while `parent` has the value of a mapping, `child` takes only its options.
fn options(
    parent: Option<&str>,
    child: Option<&str>,
    mappings: &[(&str, &[&str])],
) -> CaseRuleDetails {
    let mut rule = FieldOptionsCaseRule::builder()
        .set_parent_field_id(parent.map(str::to_owned))
        .set_child_field_id(child.map(str::to_owned));
    for (parent_value, children) in mappings {
        rule = rule.parent_child_field_options_mappings(
            ParentChildFieldOptionsMapping::builder()
                .parent_field_option_value(*parent_value)
                .set_child_field_option_values(Some(
                    children.iter().map(|c| (*c).to_owned()).collect(),
                ))
                .build()
                .unwrap(),
        );
    }
    CaseRuleDetails::FieldOptions(rule.build().unwrap())
}

fn hidden(default: bool, conditions: Vec<BooleanCondition>) -> CaseRuleDetails {
    CaseRuleDetails::Hidden(
        HiddenCaseRule::builder()
            .default_value(default)
            .set_conditions(Some(conditions))
            .build()
            .unwrap(),
    )
}

fn required(default: bool, conditions: Vec<BooleanCondition>) -> CaseRuleDetails {
    CaseRuleDetails::Required(
        RequiredCaseRule::builder()
            .default_value(default)
            .set_conditions(Some(conditions))
            .build()
            .unwrap(),
    )
}

/// A template's use of a rule. aws-sdk-connectcases always sends a fieldId (its model has it
/// required), so rules attached without one are tested in the boto3 suite.
fn attach(rule: &str, field: &str) -> TemplateRule {
    TemplateRule::builder()
        .case_rule_id(rule)
        .field_id(field)
        .build()
        .unwrap()
}

fn value(id: &str, v: &str) -> FieldValue {
    FieldValue::builder()
        .id(id)
        .value(FieldValueUnion::StringValue(v.into()))
        .build()
        .unwrap()
}

struct Fixture {
    c: Client,
    d: String,
    reason: String,
    cat: String,
    sub: String,
    num: String,
}

type Sdk<E> = SdkError<E, HttpResponse>;

fn field_values(values: &[(&str, FieldValueUnion)]) -> Vec<FieldValue> {
    values.iter().map(|(id, v)| fv(id, v.clone())).collect()
}

impl Fixture {
    async fn try_rule(
        &self,
        name: &str,
        rule: CaseRuleDetails,
    ) -> Result<String, Sdk<CreateCaseRuleError>> {
        self.c
            .create_case_rule()
            .domain_id(&self.d)
            .name(name)
            .rule(rule)
            .send()
            .await
            .map(|r| r.case_rule_id)
    }

    async fn rule(&self, name: &str, rule: CaseRuleDetails) -> String {
        self.try_rule(name, rule).await.unwrap()
    }

    async fn template(
        &self,
        name: &str,
        rules: &[(&str, &str)],
    ) -> Result<String, Sdk<CreateTemplateError>> {
        self.c
            .create_template()
            .domain_id(&self.d)
            .name(name)
            .set_rules(Some(rules.iter().map(|(r, f)| attach(r, f)).collect()))
            .send()
            .await
            .map(|t| t.template_id)
    }

    /// A case of `template` titled "t" with `values` besides.
    async fn case(
        &self,
        template: &str,
        values: &[(&str, FieldValueUnion)],
    ) -> Result<CreateCaseOutput, Sdk<CreateCaseError>> {
        let mut fields = vec![fv("title", s("t"))];
        fields.extend(field_values(values));
        self.c
            .create_case()
            .domain_id(&self.d)
            .template_id(template)
            .set_fields(Some(fields))
            .send()
            .await
    }

    async fn update(
        &self,
        case: &str,
        values: &[(&str, FieldValueUnion)],
    ) -> Result<UpdateCaseOutput, Sdk<UpdateCaseError>> {
        self.c
            .update_case()
            .domain_id(&self.d)
            .case_id(case)
            .set_fields(Some(field_values(values)))
            .send()
            .await
    }
}

async fn fixture(server: &Server) -> Fixture {
    let c = server.client();
    let d = c
        .create_domain()
        .name("rules")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    let field = |name: &'static str, t: FieldType| {
        let (c, d) = (c.clone(), d.clone());
        async move {
            c.create_field()
                .domain_id(d)
                .name(name)
                .r#type(t)
                .send()
                .await
                .unwrap()
                .field_id()
                .to_owned()
        }
    };
    let reason = field("Close reason", FieldType::Text).await;
    let cat = field("Category", FieldType::SingleSelect).await;
    let sub = field("Subcategory", FieldType::SingleSelect).await;
    let num = field("Amount", FieldType::Number).await;
    for (f, values) in [
        (&cat, &["hw", "sw"][..]),
        (&sub, &["disk", "cpu", "app"][..]),
    ] {
        let mut put = c.batch_put_field_options().domain_id(&d).field_id(f);
        for v in values {
            put = put.options(
                aws_sdk_connectcases::types::FieldOption::builder()
                    .name(*v)
                    .value(*v)
                    .active(true)
                    .build()
                    .unwrap(),
            );
        }
        put.send().await.unwrap();
    }
    Fixture {
        c,
        d,
        reason,
        cat,
        sub,
        num,
    }
}

#[tokio::test]
async fn case_rules_are_created_read_listed_updated_and_deleted() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());
    let rule = required(false, vec![eq("status", "closed")]);
    let created = c
        .create_case_rule()
        .domain_id(d)
        .name("Reason when closed")
        .description("why it was closed")
        .rule(rule.clone())
        .send()
        .await
        .unwrap();
    let id = created.case_rule_id().to_owned();
    assert_eq!(
        created.case_rule_arn(),
        format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/case-rule/{id}")
    );

    let got = c
        .batch_get_case_rule()
        .domain_id(d)
        .case_rules(CaseRuleIdentifier::builder().id(&id).build().unwrap())
        .case_rules(CaseRuleIdentifier::builder().id("missing").build().unwrap())
        .send()
        .await
        .unwrap();
    let [one] = got.case_rules() else {
        panic!("one rule: {got:?}")
    };
    assert_eq!(one.name(), "Reason when closed");
    assert_eq!(one.description(), Some("why it was closed"));
    assert_eq!(one.rule(), Some(&rule));
    assert!(!one.deleted());
    assert!(one.created_time().is_some() && one.last_modified_time().is_some());
    let [missing] = got.errors() else {
        panic!("one error: {got:?}")
    };
    assert_eq!(missing.id(), "missing");
    assert_eq!(missing.error_code(), "ResourceNotFoundException");
    assert!(got.unprocessed_case_rules().is_empty());

    let listed = c.list_case_rules().domain_id(d).send().await.unwrap();
    let [summary] = listed.case_rules() else {
        panic!("one summary: {listed:?}")
    };
    assert_eq!(summary.case_rule_id(), id);
    assert_eq!(summary.name(), "Reason when closed");
    assert_eq!(summary.case_rule_arn(), created.case_rule_arn());
    assert_eq!(summary.rule_type(), &RuleType::Required);
    assert_eq!(summary.description(), Some("why it was closed"));

    let options = CaseRuleDetails::FieldOptions(
        FieldOptionsCaseRule::builder()
            .parent_field_id(&f.cat)
            .child_field_id(&f.sub)
            .parent_child_field_options_mappings(
                ParentChildFieldOptionsMapping::builder()
                    .parent_field_option_value("hw")
                    .child_field_option_values("disk")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap(),
    );
    c.update_case_rule()
        .domain_id(d)
        .case_rule_id(&id)
        .name("Subcategories")
        .rule(options.clone())
        .send()
        .await
        .unwrap();
    let listed = c.list_case_rules().domain_id(d).send().await.unwrap();
    assert_eq!(listed.case_rules()[0].name(), "Subcategories");
    assert_eq!(listed.case_rules()[0].rule_type(), &RuleType::FieldOptions);

    // Paging through more rules than a page holds returns each once.
    for i in 0..4 {
        c.create_case_rule()
            .domain_id(d)
            .name(format!("r{i}"))
            .rule(required(true, vec![]))
            .send()
            .await
            .unwrap();
    }
    let pages: Vec<_> = c
        .list_case_rules()
        .domain_id(d)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let mut ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.case_rules().iter().map(|r| r.case_rule_id().to_owned()))
        .collect();
    let total = ids.len();
    ids.dedup();
    assert_eq!((total, ids.len()), (5, 5));

    c.delete_case_rule()
        .domain_id(d)
        .case_rule_id(&id)
        .send()
        .await
        .unwrap();
    let got = c
        .batch_get_case_rule()
        .domain_id(d)
        .case_rules(CaseRuleIdentifier::builder().id(&id).build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(got.case_rules()[0].deleted());
    assert_eq!(got.case_rules()[0].rule(), Some(&options));
    let listed = c.list_case_rules().domain_id(d).send().await.unwrap();
    assert!(listed.case_rules().iter().all(|r| r.case_rule_id() != id));
    let e = c
        .update_case_rule()
        .domain_id(d)
        .case_rule_id(&id)
        .name("again")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        format!("Case rule {id} has been deleted and cannot be updated")
    );
}

#[tokio::test]
async fn case_rule_errors_have_the_aws_wire_form() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());

    let e = c
        .create_case_rule()
        .domain_id("nope")
        .name("x")
        .rule(required(true, vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceType"], "Domain");
    assert_eq!(error_body(&e)["resourceId"], "nope");

    for e in [
        c.update_case_rule()
            .domain_id(d)
            .case_rule_id("nope")
            .name("x")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .map_service_error(|e| e.to_string()),
        c.delete_case_rule()
            .domain_id(d)
            .case_rule_id("nope")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .map_service_error(|e| e.to_string()),
    ] {
        let b = error_body(&e);
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
        assert_eq!(b["resourceType"], "CaseRule", "{b}");
        assert_eq!(b["resourceId"], "nope", "{b}");
    }

    // Three levels of nesting.
    let nested = required(
        false,
        vec![BooleanCondition::AndAll(
            CompoundCondition::builder()
                .conditions(BooleanCondition::OrAll(
                    CompoundCondition::builder()
                        .conditions(eq(&f.reason, "x"))
                        .build()
                        .unwrap(),
                ))
                .build()
                .unwrap(),
        )],
    );
    let e = c
        .create_case_rule()
        .domain_id(d)
        .name("deep")
        .rule(nested)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(
        message(&e),
        "rule.required.conditions[0].andAll.conditions[0].orAll.conditions: conditions can be nested at most 2 levels deep"
    );
    let e = c
        .create_case_rule()
        .domain_id(d)
        .name("typed")
        .rule(required(
            false,
            vec![BooleanCondition::EqualTo(compare(
                &f.cat,
                OperandTwo::DoubleValue(1.0),
                true,
            ))],
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "rule.required.conditions[0].equalTo.operandTwo: field '{}' is of type SingleSelect and is compared with a stringValue or an emptyValue, not a doubleValue",
            f.cat
        )
    );

    c.create_case_rule()
        .domain_id(d)
        .name("taken")
        .rule(required(true, vec![]))
        .send()
        .await
        .unwrap();
    let e = c
        .create_case_rule()
        .domain_id(d)
        .name("taken")
        .rule(required(true, vec![]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 409);
}

#[tokio::test]
async fn templates_enforce_required_and_field_options_rules() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());
    let rule = |name: &str, rule: CaseRuleDetails| {
        let (c, d, name) = (c.clone(), d.to_owned(), name.to_owned());
        async move {
            c.create_case_rule()
                .domain_id(d)
                .name(name)
                .rule(rule)
                .send()
                .await
                .unwrap()
                .case_rule_id()
                .to_owned()
        }
    };
    let needs_reason = rule(
        "Reason when closed",
        required(
            false,
            vec![BooleanCondition::NotEqualTo(compare(
                "status",
                OperandTwo::StringValue("open".into()),
                true,
            ))],
        ),
    )
    .await;
    let subcategories = rule(
        "Subcategories",
        CaseRuleDetails::FieldOptions(
            FieldOptionsCaseRule::builder()
                .parent_field_id(&f.cat)
                .parent_child_field_options_mappings(
                    ParentChildFieldOptionsMapping::builder()
                        .parent_field_option_value("hw")
                        .child_field_option_values("disk")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        ),
    )
    .await;
    let hidden = rule(
        "Hidden while open",
        CaseRuleDetails::Hidden(
            HiddenCaseRule::builder()
                .default_value(false)
                .conditions(BooleanCondition::EqualTo(compare(
                    "status",
                    OperandTwo::EmptyValue(EmptyOperandValue::builder().build()),
                    true,
                )))
                .build()
                .unwrap(),
        ),
    )
    .await;
    let t = c
        .create_template()
        .domain_id(d)
        .name("T")
        .rules(attach(&needs_reason, &f.reason))
        .rules(attach(&subcategories, &f.sub))
        .rules(attach(&hidden, &f.reason))
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    let template = c
        .get_template()
        .domain_id(d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(template.rules().len(), 3);

    let create = |values: Vec<FieldValue>| {
        let (c, d, t) = (c.clone(), d.to_owned(), t.clone());
        async move {
            c.create_case()
                .domain_id(d)
                .template_id(t)
                .set_fields(Some(
                    std::iter::once(value("title", "t")).chain(values).collect(),
                ))
                .send()
                .await
        }
    };
    let e = create(vec![value("status", "closed")]).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        format!(
            "Field '{}' is required by case rule 'Reason when closed' ({needs_reason}) and has no value",
            f.reason
        )
    );
    let e = create(vec![value(&f.cat, "hw"), value(&f.sub, "app")])
        .await
        .unwrap_err();
    assert!(
        message(&e).contains("'app' is not an allowed option"),
        "{}",
        message(&e)
    );
    let case = create(vec![value(&f.cat, "hw"), value(&f.sub, "disk")])
        .await
        .unwrap()
        .case_id()
        .to_owned();

    let e = c
        .update_case()
        .domain_id(d)
        .case_id(&case)
        .fields(value("status", "closed"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    c.update_case()
        .domain_id(d)
        .case_id(&case)
        .fields(value("status", "closed"))
        .fields(value(&f.reason, "fixed"))
        .send()
        .await
        .unwrap();

    // While a template uses it, a rule cannot be deleted.
    let e = c
        .delete_case_rule()
        .domain_id(d)
        .case_rule_id(&needs_reason)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
}

/// BatchGetCaseRule of `id` and of a missing rule: checks the error for the missing one and
/// returns the rule.
async fn get_with_a_missing_one(c: &Client, d: &str, id: &str) -> GetCaseRuleResponse {
    let got = c
        .batch_get_case_rule()
        .domain_id(d)
        .case_rules(CaseRuleIdentifier::builder().id(id).build().unwrap())
        .case_rules(CaseRuleIdentifier::builder().id("missing").build().unwrap())
        .send()
        .await
        .unwrap();
    let [error] = got.errors() else {
        panic!("one error: {got:?}")
    };
    assert_eq!(
        error.message.as_deref(),
        Some("CaseRule missing could not be found")
    );
    got.case_rules()[0].clone()
}

#[tokio::test]
async fn a_rule_keeps_its_details_and_tags_and_a_deleted_one_frees_its_name() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());
    let created = c
        .create_case_rule()
        .domain_id(d)
        .name("Reason when closed")
        .description("d")
        .rule(required(false, vec![eq("status", "closed")]))
        .send()
        .await
        .unwrap();
    let id = created.case_rule_id.clone();
    let get = || get_with_a_missing_one(c, d, &id);
    let rule = get().await;
    assert_eq!(rule.case_rule_arn, created.case_rule_arn);
    assert!(rule.tags.unwrap_or_default().is_empty());
    assert!(rule.created_time.is_some());
    assert_eq!(rule.last_modified_time, rule.created_time);

    // An update changes what it names and leaves the rest.
    let hide = hidden(true, vec![ne_to(&f.cat, None, false)]);
    c.update_case_rule()
        .domain_id(d)
        .case_rule_id(&id)
        .name("Renamed")
        .rule(hide.clone())
        .send()
        .await
        .unwrap();
    let after = get().await;
    assert_eq!(after.name, "Renamed");
    assert_eq!(after.description.as_deref(), Some("d"));
    assert_eq!(after.rule, Some(hide));
    assert!(after.last_modified_time >= after.created_time);
    let listed = c.list_case_rules().domain_id(d).send().await.unwrap();
    assert_eq!(listed.case_rules()[0].rule_type(), &RuleType::Hidden);

    c.tag_resource()
        .arn(&created.case_rule_arn)
        .tags("team", Some("ops".into()))
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        // Deleting twice changes nothing the second time.
        c.delete_case_rule()
            .domain_id(d)
            .case_rule_id(&id)
            .send()
            .await
            .unwrap();
    }
    assert!(
        c.list_case_rules()
            .domain_id(d)
            .send()
            .await
            .unwrap()
            .case_rules()
            .is_empty()
    );
    let gone = get().await;
    assert!(gone.deleted);
    assert_eq!(
        gone.tags.unwrap().get("team"),
        Some(&Some("ops".to_owned()))
    );
    // The name of a deleted rule is free again.

    let again = f.rule("Renamed", required(false, vec![])).await;

    // Rules are listed by id; a forged token is refused.
    let mut ids = vec![again, f.rule("another", required(true, vec![])).await];
    ids.sort();
    let listed: Vec<String> = c
        .list_case_rules()
        .domain_id(d)
        .send()
        .await
        .unwrap()
        .case_rules()
        .iter()
        .map(|r| r.case_rule_id().to_owned())
        .collect();
    assert_eq!(listed, ids);
    let e = c
        .list_case_rules()
        .domain_id(d)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn case_rule_errors_name_the_member_and_the_rule() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());
    let leaf = || eq(&f.reason, "x");
    let hw_disk: &[(&str, &[&str])] = &[("hw", &["disk"])];
    for (rule, want) in [
        (
            required(
                false,
                vec![
                    leaf(),
                    leaf(),
                    leaf(),
                    and_all(vec![leaf(), leaf(), leaf()]),
                ],
            ),
            "rule.required.conditions: a case rule can have at most 5 conditions; this one has 6"
                .to_owned(),
        ),
        (
            required(false, vec![and_all(vec![leaf(), or_all(vec![leaf()])])]),
            "rule.required.conditions[0].andAll.conditions[1].orAll.conditions: conditions can be \
             nested at most 2 levels deep"
                .to_owned(),
        ),
        (
            required(false, vec![or_all(vec![])]),
            "rule.required.conditions[0].orAll.conditions: orAll needs at least one condition"
                .to_owned(),
        ),
        (
            required(false, vec![eq("nope", "x")]),
            "rule.required.conditions[0].equalTo.operandOne.fieldId: field 'nope' does not exist \
             in this domain"
                .to_owned(),
        ),
        (
            required(false, vec![eq(&f.num, "1")]),
            format!(
                "rule.required.conditions[0].equalTo.operandTwo: field '{}' is of type Number and \
                 is compared with a doubleValue or an emptyValue, not a stringValue",
                f.num
            ),
        ),
        (
            options(None, Some(&f.sub), hw_disk),
            "rule.fieldOptions.parentFieldId: a fieldOptions rule needs the parent field whose \
             value selects the child's options"
                .to_owned(),
        ),
        (
            options(Some(&f.reason), Some(&f.sub), hw_disk),
            format!(
                "rule.fieldOptions.parentFieldId: field '{}' is of type Text; field options rules \
                 relate SingleSelect fields",
                f.reason
            ),
        ),
    ] {
        let e = f.try_rule("bad", rule).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException");
        assert_eq!(message(&e), want);
    }
    c.delete_field()
        .domain_id(d)
        .field_id(&f.num)
        .send()
        .await
        .unwrap();
    let on_number = BooleanCondition::EqualTo(compare(&f.num, OperandTwo::DoubleValue(1.0), true));
    let e = f
        .try_rule("bad", required(false, vec![on_number]))
        .await
        .unwrap_err();
    assert!(
        message(&e).ends_with(&format!("field '{}' has been deleted", f.num)),
        "{}",
        message(&e)
    );

    f.rule("taken", required(false, vec![])).await;
    let e = f
        .try_rule("taken", required(false, vec![]))
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        "A case rule named 'taken' already exists in this domain"
    );
    let e = c
        .batch_get_case_rule()
        .domain_id("nope")
        .case_rules(CaseRuleIdentifier::builder().id("x").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceType"], "Domain");
    let e = c
        .list_case_rules()
        .domain_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let id = f.rule("r", required(false, vec![])).await;
    let e = c
        .update_case_rule()
        .domain_id(d)
        .case_rule_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        "UpdateCaseRule needs at least one of name, description, rule"
    );
    let e = c
        .batch_get_case_rule()
        .domain_id(d)
        .set_case_rules(Some(
            (0..51)
                .map(|i| {
                    CaseRuleIdentifier::builder()
                        .id(i.to_string())
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn case_rules_per_domain_quota_is_402() {
    let server = Server::start_with(&["--max-case-rules", "2"]);
    let f = fixture(&server).await;
    let first = f.rule("a", required(false, vec![])).await;
    f.rule("b", required(false, vec![])).await;
    let e = f.try_rule("c", required(false, vec![])).await.unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    assert_eq!(
        message(&e),
        "The domain already has the maximum of 2 case rules"
    );
    // A deleted rule frees its place.
    f.c.delete_case_rule()
        .domain_id(&f.d)
        .case_rule_id(&first)
        .send()
        .await
        .unwrap();
    f.rule("c", required(false, vec![])).await;
}

#[tokio::test]
async fn templates_attach_only_rules_they_can_act_on() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (c, d) = (&f.c, f.d.as_str());
    let (reason, cat, sub) = (f.reason.as_str(), f.cat.as_str(), f.sub.as_str());
    let req_id = f.rule("req", required(true, vec![])).await;
    let req = req_id.as_str();
    let opts_id = f
        .rule("opts", options(Some(cat), Some(sub), &[("hw", &["disk"])]))
        .await;
    let opts = opts_id.as_str();
    let t = f
        .template("T", &[(req, reason), (opts, sub)])
        .await
        .unwrap();
    let got = c
        .get_template()
        .domain_id(d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(got.rules(), [attach(req, reason), attach(opts, sub)]);

    let childless_id = f
        .rule("childless", options(Some(cat), None, &[("hw", &["disk"])]))
        .await;
    let childless = childless_id.as_str();
    let refused = |rule: &str| format!("rules[0]: case rule {rule} cannot be attached here: ");
    let cases: Vec<(Vec<(&str, &str)>, String)> = vec![
        (
            vec![("nope", reason)],
            "rules[0].caseRuleId: CaseRule nope does not exist in this domain".into(),
        ),
        (
            vec![(req, "nope")],
            "rules[0].fieldId: Field nope does not exist in this domain".into(),
        ),
        (
            vec![(opts, reason)],
            refused(opts)
                + &format!(
                    "the rule's child field is '{sub}', so fieldId must be '{sub}' or left out, \
                     not '{reason}'"
                ),
        ),
        (
            vec![(req, reason), (req, reason)],
            format!("rules[1]: case rule {req} is attached to the same field more than once"),
        ),
        (
            vec![(childless, reason)],
            refused(childless)
                + &format!(
                    "field '{reason}' is of type Text; the child of a FieldOptions rule is a \
                     SingleSelect field"
                ),
        ),
        (
            vec![(childless, cat)],
            refused(childless)
                + &format!("field '{cat}' is the rule's parent field and cannot also be its child"),
        ),
    ];
    for (rules, want) in cases {
        let e = f.template("Bad", &rules).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException");
        assert_eq!(message(&e), want);
    }
    f.template("Childless", &[(childless, sub)]).await.unwrap();

    // A rule a template uses cannot be deleted, nor changed into one the template cannot attach.
    let e = c
        .delete_case_rule()
        .domain_id(d)
        .case_rule_id(req)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "Case rule {req} is used by template 'T' ({t}); remove it from the template's rules first"
        )
    );
    let e = c
        .update_case_rule()
        .domain_id(d)
        .case_rule_id(opts)
        .rule(options(Some(sub), None, &[("disk", &[])]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        format!(
            "rule: template 'T' ({t}) uses this case rule, and field '{sub}' is the rule's parent \
             field and cannot also be its child"
        )
    );
    c.update_template()
        .domain_id(d)
        .template_id(&t)
        .rules(attach(opts, sub))
        .send()
        .await
        .unwrap();
    c.delete_case_rule()
        .domain_id(d)
        .case_rule_id(req)
        .send()
        .await
        .unwrap();
    let e = f.template("Late", &[(req, reason)]).await.unwrap_err();
    assert_eq!(
        message(&e),
        format!("rules[0].caseRuleId: CaseRule {req} has been deleted")
    );
    // A deleted template does not hold on to its rules.
    c.delete_template()
        .domain_id(d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    c.delete_case_rule()
        .domain_id(d)
        .case_rule_id(opts)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn required_rules_hold_creates_and_the_fields_updates_touch() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (reason, cat, sub, num) = (
        f.reason.as_str(),
        f.cat.as_str(),
        f.sub.as_str(),
        f.num.as_str(),
    );
    let closed_needs_reason = f
        .rule(
            "Reason when closed",
            required(false, vec![eq_to("status", Some("closed"), true)]),
        )
        .await;
    let t = f
        .template("T", &[(&closed_needs_reason, reason)])
        .await
        .unwrap();
    let done = f
        .case(&t, &[("status", s("closed")), (reason, s("fixed"))])
        .await
        .unwrap()
        .case_id;
    // Blank is no value.
    for blank in [empty(), s("   ")] {
        let e = f.update(&done, &[(reason, blank)]).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException");
    }

    let case = f.case(&t, &[]).await.unwrap().case_id;
    f.update(&case, &[("summary", s("still open"))])
        .await
        .unwrap();
    let e = f
        .update(&case, &[("status", s("closed"))])
        .await
        .unwrap_err();
    assert!(
        message(&e).contains("Reason when closed"),
        "{}",
        message(&e)
    );
    f.update(&case, &[("status", s("closed")), (reason, s("done"))])
        .await
        .unwrap();
    f.update(&case, &[("status", s("open")), (reason, empty())])
        .await
        .unwrap();

    // A rule added after a case was made holds it only to what an update touches.
    let always = f.rule("Amount always", required(true, vec![])).await;
    f.c.update_template()
        .domain_id(&f.d)
        .template_id(&t)
        .rules(attach(&closed_needs_reason, reason))
        .rules(attach(&always, num))
        .send()
        .await
        .unwrap();
    f.update(&case, &[("summary", s("no amount yet, still editable"))])
        .await
        .unwrap();
    assert!(f.update(&case, &[(num, empty())]).await.is_err());
    assert!(f.case(&t, &[]).await.is_err());
    f.case(&t, &[(num, n(3.0))]).await.unwrap();

    // andAll / orAll, and the first condition that decides.
    let combo = f
        .rule(
            "combo",
            required(
                true,
                vec![
                    and_all(vec![eq_to(cat, Some("hw"), true), ne_to(sub, None, true)]),
                    or_all(vec![eq_to(cat, Some("sw"), false), eq_to(cat, None, false)]),
                ],
            ),
        )
        .await;
    let t2 = f.template("T2", &[(&combo, reason)]).await.unwrap();
    f.case(&t2, &[(cat, s("sw"))]).await.unwrap();
    f.case(&t2, &[]).await.unwrap();
    // Neither decides: the default, required.
    let e = f.case(&t2, &[(cat, s("hw"))]).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    // The andAll decides: required.
    let e = f
        .case(&t2, &[(cat, s("hw")), (sub, s("disk"))])
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    f.case(&t2, &[(cat, s("hw")), (sub, s("disk")), (reason, s("r"))])
        .await
        .unwrap();
}

#[tokio::test]
async fn field_options_rules_hold_the_child_to_the_parents_mapping() {
    let server = Server::start();
    let f = fixture(&server).await;
    let (cat, sub) = (f.cat.as_str(), f.sub.as_str());
    let opts = f
        .rule(
            "Subcategories",
            options(Some(cat), Some(sub), &[("hw", &["disk", "cpu"]), ("", &[])]),
        )
        .await;
    let t = f.template("T", &[(&opts, sub)]).await.unwrap();
    let e = f
        .case(&t, &[(cat, s("hw")), (sub, s("app"))])
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "'app' is not an allowed option of field '{sub}' while field '{cat}' is 'hw' \
             (case rule 'Subcategories' ({opts})); allowed: [cpu, disk]"
        )
    );
    let e = f.case(&t, &[(sub, s("disk"))]).await.unwrap_err();
    assert!(
        message(&e).contains(&format!("while field '{cat}' has no value")),
        "{}",
        message(&e)
    );
    let case = f
        .case(&t, &[(cat, s("hw")), (sub, s("disk"))])
        .await
        .unwrap()
        .case_id;
    // sw is not mapped: any option.
    f.case(&t, &[(cat, s("sw")), (sub, s("app"))])
        .await
        .unwrap();
    f.update(&case, &[(sub, s("cpu"))]).await.unwrap();
    // The parent changes under the child.
    assert!(f.update(&case, &[(cat, empty())]).await.is_err());
    f.update(&case, &[(cat, s("sw")), (sub, s("app"))])
        .await
        .unwrap();
    f.update(&case, &[(cat, s("hw")), (sub, empty())])
        .await
        .unwrap();
    // The field's own options still apply first.
    let e = f.update(&case, &[(sub, s("nope"))]).await.unwrap_err();
    assert_eq!(
        message(&e),
        format!("'nope' is not an option of field '{sub}'")
    );
}

#[tokio::test]
async fn hidden_rules_are_returned_not_enforced() {
    let server = Server::start();
    let f = fixture(&server).await;
    let reason = f.reason.as_str();
    let hide = f
        .rule(
            "Hide reason",
            hidden(true, vec![eq_to("status", Some("closed"), false)]),
        )
        .await;
    let t = f.template("T", &[(&hide, reason)]).await.unwrap();
    let case = f
        .case(&t, &[(reason, s("visible or not, it is stored"))])
        .await
        .unwrap()
        .case_id;
    let got =
        f.c.get_case()
            .domain_id(&f.d)
            .case_id(&case)
            .fields(ident(reason))
            .send()
            .await
            .unwrap();
    assert_eq!(got.fields, [fv(reason, s("visible or not, it is stored"))]);
    let template =
        f.c.get_template()
            .domain_id(&f.d)
            .template_id(&t)
            .send()
            .await
            .unwrap();
    assert_eq!(template.rules(), [attach(&hide, reason)]);
}
