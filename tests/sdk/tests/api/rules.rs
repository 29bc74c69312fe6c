//! Case rules through the Rust SDK: every operation, the template attachment, enforcement on
//! CreateCase and UpdateCase, and the error paths with their exact wire form.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{
    BooleanCondition, BooleanOperands, CaseRuleDetails, CaseRuleIdentifier, CompoundCondition,
    EmptyOperandValue, FieldOptionsCaseRule, FieldType, FieldValue, FieldValueUnion,
    HiddenCaseRule, OperandOne, OperandTwo, ParentChildFieldOptionsMapping, RequiredCaseRule,
    RuleType, TemplateRule,
};
use caseload_sdk_tests::{Server, error_body, error_code, message};

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

fn required(default: bool, conditions: Vec<BooleanCondition>) -> CaseRuleDetails {
    CaseRuleDetails::Required(
        RequiredCaseRule::builder()
            .default_value(default)
            .set_conditions(Some(conditions))
            .build()
            .unwrap(),
    )
}

fn attach(rule: &str, field: Option<&str>) -> TemplateRule {
    TemplateRule::builder()
        .case_rule_id(rule)
        .set_field_id(field.map(str::to_owned))
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
    for (f, values) in [(&cat, &["hw", "sw"][..]), (&sub, &["disk", "app"][..])] {
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
        .rules(attach(&needs_reason, Some(&f.reason)))
        .rules(attach(&subcategories, Some(&f.sub)))
        .rules(attach(&hidden, Some(&f.reason)))
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
