//! Case rules: table tests of the checks and of enforcement, and property tests that compare the
//! compiled evaluator with a small reference implementation written independently: it interprets
//! the wire shapes directly (no compilation, operands compared by field type each time, nothing
//! short-circuited), defining "decides" through truth plus the value a true condition carries.

use super::definition::{self, FieldFacts, Purpose, compile, template_rule_problem};
use super::enforce::{self, AppliedRule};
use super::eval::{self, Rule, Values};
use crate::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

const SCHEMA: &[(&str, FieldType)] = &[
    ("text", FieldType::Text),
    ("num", FieldType::Number),
    ("flag", FieldType::Boolean),
    ("when", FieldType::DateTime),
    ("pick", FieldType::SingleSelect),
    ("sub", FieldType::SingleSelect),
    ("owner", FieldType::User),
    ("web", FieldType::Url),
    ("gone", FieldType::Text),
];

fn facts(id: &str) -> Option<FieldFacts> {
    SCHEMA
        .iter()
        .find(|(f, _)| *f == id)
        .map(|(f, t)| FieldFacts {
            field_type: *t,
            deleted: *f == "gone",
        })
}

fn type_of_any(id: &str) -> Option<FieldType> {
    facts(id).map(|f| f.field_type)
}

fn type_of(id: &str) -> FieldType {
    facts(id).expect("schema field").field_type
}

fn cmp(field: &str, operand: OperandTwo, result: bool) -> BooleanOperands {
    BooleanOperands {
        operand_one: OperandOne::FieldId(field.into()),
        operand_two: operand,
        result,
    }
}

fn eq(field: &str, operand: OperandTwo, result: bool) -> BooleanCondition {
    BooleanCondition::EqualTo(cmp(field, operand, result))
}

fn ne(field: &str, operand: OperandTwo, result: bool) -> BooleanCondition {
    BooleanCondition::NotEqualTo(cmp(field, operand, result))
}

fn and_all(c: Vec<BooleanCondition>) -> BooleanCondition {
    BooleanCondition::AndAll(Box::new(CompoundCondition { conditions: c }))
}

fn or_all(c: Vec<BooleanCondition>) -> BooleanCondition {
    BooleanCondition::OrAll(Box::new(CompoundCondition { conditions: c }))
}

fn s(v: &str) -> OperandTwo {
    OperandTwo::StringValue(v.into())
}

fn empty() -> OperandTwo {
    OperandTwo::EmptyValue(EmptyOperandValue {})
}

fn required(default: bool, conditions: Vec<BooleanCondition>) -> CaseRuleDetails {
    CaseRuleDetails::Required(RequiredCaseRule {
        default_value: default,
        conditions,
    })
}

fn options(parent: Option<&str>, child: Option<&str>, map: &[(&str, &[&str])]) -> CaseRuleDetails {
    CaseRuleDetails::FieldOptions(FieldOptionsCaseRule {
        parent_field_id: parent.map(str::to_owned),
        child_field_id: child.map(str::to_owned),
        parent_child_field_options_mappings: map
            .iter()
            .map(|(p, c)| ParentChildFieldOptionsMapping {
                parent_field_option_value: (*p).to_owned(),
                child_field_option_values: c.iter().map(|v| (*v).to_owned()).collect(),
            })
            .collect(),
    })
}

fn save(rule: &CaseRuleDetails) -> Result<Rule, String> {
    compile(rule, &facts, Purpose::Save).map_err(|e| e.to_string())
}

fn values(pairs: &[(&str, Value)]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn st(v: &str) -> Value {
    Value::String(v.into())
}

#[test]
fn saving_a_rule_checks_its_limits_fields_and_operands() {
    let leaf = || eq("text", s("a"), true);
    let cases: Vec<(CaseRuleDetails, &str)> = vec![
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
            "rule.required.conditions: a case rule can have at most 5 conditions; this one has 6",
        ),
        (
            required(false, vec![and_all(vec![leaf(), or_all(vec![leaf()])])]),
            "rule.required.conditions[0].andAll.conditions[1].orAll.conditions: conditions can be nested at most 2 levels deep",
        ),
        (
            required(false, vec![or_all(vec![])]),
            "rule.required.conditions[0].orAll.conditions: orAll needs at least one condition",
        ),
        (
            required(false, vec![eq("nope", s("a"), true)]),
            "rule.required.conditions[0].equalTo.operandOne.fieldId: field 'nope' does not exist in this domain",
        ),
        (
            required(false, vec![leaf(), ne("gone", s("a"), true)]),
            "rule.required.conditions[1].notEqualTo.operandOne.fieldId: field 'gone' has been deleted",
        ),
        (
            required(false, vec![eq("num", s("1"), true)]),
            "rule.required.conditions[0].equalTo.operandTwo: field 'num' is of type Number and is compared with a doubleValue or an emptyValue, not a stringValue",
        ),
        (
            required(
                false,
                vec![eq("text", OperandTwo::BooleanValue(true), true)],
            ),
            "rule.required.conditions[0].equalTo.operandTwo: field 'text' is of type Text and is compared with a stringValue or an emptyValue, not a booleanValue",
        ),
        (
            CaseRuleDetails::Hidden(HiddenCaseRule {
                default_value: true,
                conditions: vec![eq("when", s("tomorrow"), false)],
            }),
            "rule.hidden.conditions[0].equalTo.operandTwo: field 'when' is of type DateTime and 'tomorrow' is not an ISO-8601 date-time with an offset",
        ),
        (
            options(None, Some("sub"), &[("a", &["x"])]),
            "rule.fieldOptions.parentFieldId: a fieldOptions rule needs the parent field whose value selects the child's options",
        ),
        (
            options(Some("text"), Some("sub"), &[("a", &["x"])]),
            "rule.fieldOptions.parentFieldId: field 'text' is of type Text; field options rules relate SingleSelect fields",
        ),
        (
            options(Some("pick"), Some("pick"), &[("a", &["x"])]),
            "rule.fieldOptions.childFieldId: the child field cannot be the parent field 'pick'",
        ),
        (
            options(Some("pick"), Some("sub"), &[("a", &["x"]), ("a", &["y"])]),
            "rule.fieldOptions.parentChildFieldOptionsMappings[1].parentFieldOptionValue: 'a' is mapped more than once",
        ),
    ];
    for (rule, message) in cases {
        assert_eq!(save(&rule).unwrap_err(), message);
    }
    // Within the limits: five comparisons over two levels, every operand kind.
    let ok = required(
        true,
        vec![
            and_all(vec![
                eq("num", OperandTwo::DoubleValue(-0.0), true),
                ne("flag", OperandTwo::BooleanValue(true), true),
            ]),
            or_all(vec![
                eq("owner", s("arn:aws:connect:u"), false),
                eq("when", s("2026-01-01T01:00:00+01:00"), true),
            ]),
            eq("web", empty(), false),
        ],
    );
    assert!(save(&ok).is_ok());
    // A stored rule keeps working after a field it reads is deleted.
    let stored = required(false, vec![eq("gone", s("a"), true)]);
    assert!(compile(&stored, &facts, Purpose::Enforce).is_ok());
}

#[test]
fn templates_attach_rules_to_fields_they_can_act_on() {
    let req = required(true, vec![]);
    assert!(template_rule_problem(&req, Some("text"), &type_of_any).is_none());
    assert!(
        template_rule_problem(&req, None, &type_of_any)
            .unwrap()
            .contains("fieldId, which is missing")
    );
    let with_child = options(Some("pick"), Some("sub"), &[("a", &["x"])]);
    assert!(template_rule_problem(&with_child, None, &type_of_any).is_none());
    assert!(template_rule_problem(&with_child, Some("sub"), &type_of_any).is_none());
    assert_eq!(
        template_rule_problem(&with_child, Some("text"), &type_of_any).unwrap(),
        "the rule's child field is 'sub', so fieldId must be 'sub' or left out, not 'text'"
    );
    let without_child = options(Some("pick"), None, &[("a", &["x"])]);
    assert!(template_rule_problem(&without_child, None, &type_of_any).is_some());
    assert!(template_rule_problem(&without_child, Some("pick"), &type_of_any).is_some());
    assert!(template_rule_problem(&without_child, Some("sub"), &type_of_any).is_none());
    assert_eq!(
        template_rule_problem(&without_child, Some("text"), &type_of_any).unwrap(),
        "field 'text' is of type Text; the child of a FieldOptions rule is a SingleSelect field"
    );
    assert_eq!(
        definition::target_field(&without_child, Some("sub")).as_deref(),
        Some("sub")
    );
    assert_eq!(
        definition::target_field(&with_child, None).as_deref(),
        Some("sub")
    );
}

#[test]
fn the_first_deciding_condition_sets_the_flag() {
    let rule = save(&required(
        false,
        vec![
            eq("pick", s("closed"), true),
            ne("text", empty(), false),
            and_all(vec![
                eq("flag", OperandTwo::BooleanValue(true), true),
                eq("num", OperandTwo::DoubleValue(0.0), true),
            ]),
        ],
    ))
    .unwrap();
    let Rule::Flag {
        default,
        conditions,
    } = rule
    else {
        panic!("a flag rule");
    };
    let flag = |v: &[(&str, Value)]| eval::flag(default, &conditions, &values(v));
    assert!(!flag(&[]));
    assert!(flag(&[("pick", st("closed")), ("text", st("x"))]));
    assert!(!flag(&[("pick", st("open")), ("text", st("x"))]));
    // Cleared is "no value": `notEqualTo emptyValue` is false, so the andAll is reached.
    assert!(flag(&[
        ("text", Value::Empty),
        ("flag", Value::Boolean(true)),
        ("num", Value::Double(0.0))
    ]));
    assert!(!flag(&[
        ("flag", Value::Boolean(true)),
        ("num", Value::Double(1.0))
    ]));

    let when = save(&required(
        false,
        vec![eq("when", s("2026-01-01T01:00:00+01:00"), true)],
    ))
    .unwrap();
    let Rule::Flag { conditions, .. } = when else {
        panic!("a flag rule");
    };
    assert!(eval::flag(
        false,
        &conditions,
        &values(&[("when", st("2026-01-01T00:00:00.000Z"))])
    ));
}

fn applied(id: &str, field: &str, rule: CaseRuleDetails) -> AppliedRule {
    AppliedRule {
        rule_id: id.into(),
        rule_name: format!("{id} name"),
        field_id: field.into(),
        rule: save(&rule).unwrap(),
    }
}

#[test]
fn enforcement_names_the_rule_and_field() {
    let rules = vec![
        applied(
            "r1",
            "text",
            required(false, vec![eq("pick", s("closed"), true)]),
        ),
        applied(
            "r2",
            "sub",
            options(
                Some("pick"),
                None,
                &[("hw", &["disk", "cpu"]), ("", &["none"])],
            ),
        ),
    ];
    let check = |v: &[(&str, Value)], touched: Option<&[&str]>| {
        let touched: Option<HashSet<String>> =
            touched.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
        enforce::check(&rules, &values(v), touched.as_ref()).map_err(|e| e.to_string())
    };
    assert!(check(&[("pick", st("open"))], None).is_ok());
    assert_eq!(
        check(&[("pick", st("closed"))], None).unwrap_err(),
        "Field 'text' is required by case rule 'r1 name' (r1) and has no value"
    );
    assert!(check(&[("pick", st("closed")), ("text", st("why"))], None).is_ok());
    assert!(check(&[("pick", st("closed")), ("text", st("  "))], None).is_err());
    // An update is held to the rules it can have changed.
    assert!(check(&[("pick", st("closed"))], Some(&["num"])).is_ok());
    assert!(check(&[("pick", st("closed"))], Some(&["pick"])).is_err());
    assert!(
        check(
            &[("pick", st("closed")), ("text", Value::Empty)],
            Some(&["text"])
        )
        .is_err()
    );

    assert!(check(&[("pick", st("hw")), ("sub", st("disk"))], None).is_ok());
    assert_eq!(
        check(&[("pick", st("hw")), ("sub", st("none"))], None).unwrap_err(),
        "'none' is not an allowed option of field 'sub' while field 'pick' is 'hw' (case rule 'r2 name' (r2)); allowed: [cpu, disk]"
    );
    assert_eq!(
        check(&[("sub", st("disk"))], None).unwrap_err(),
        "'disk' is not an allowed option of field 'sub' while field 'pick' has no value (case rule 'r2 name' (r2)); allowed: [none]"
    );
    // An unmapped parent value leaves the child free; an empty child is always allowed.
    assert!(check(&[("pick", st("sw")), ("sub", st("anything"))], None).is_ok());
    assert!(check(&[("pick", st("hw")), ("sub", Value::Empty)], None).is_ok());
    // Changing the parent re-checks the child; an unrelated write does not.
    assert!(check(&[("pick", st("hw")), ("sub", st("none"))], Some(&["pick"])).is_err());
    assert!(check(&[("pick", st("hw")), ("sub", st("none"))], Some(&["text"])).is_ok());
}

// The reference implementation.

fn ref_equal(t: FieldType, v: Option<&Value>, o: &OperandTwo) -> bool {
    let instant = |s: &str| Timestamp::parse(s).map(|t| t.unix_millis());
    match o {
        OperandTwo::EmptyValue(_) => matches!(v, None | Some(Value::Empty)),
        OperandTwo::StringValue(s) => match (t, v) {
            (FieldType::DateTime, Some(Value::String(x))) => {
                instant(x).is_some() && instant(x) == instant(s)
            }
            (FieldType::User, Some(Value::UserArn(x))) => x == s,
            (FieldType::User | FieldType::DateTime, _) => false,
            (_, Some(Value::String(x))) => x == s,
            _ => false,
        },
        OperandTwo::DoubleValue(d) => matches!(v, Some(Value::Double(x)) if x == d),
        OperandTwo::BooleanValue(b) => matches!(v, Some(Value::Boolean(x)) if x == b),
    }
}

fn ref_true(c: &BooleanCondition, v: &Values) -> bool {
    let compare = |o: &BooleanOperands| {
        let OperandOne::FieldId(f) = &o.operand_one;
        ref_equal(type_of(f), v.get(f), &o.operand_two)
    };
    match c {
        BooleanCondition::EqualTo(o) => compare(o),
        BooleanCondition::NotEqualTo(o) => !compare(o),
        BooleanCondition::AndAll(c) => c.conditions.iter().all(|c| ref_true(c, v)),
        BooleanCondition::OrAll(c) => c.conditions.iter().any(|c| ref_true(c, v)),
    }
}

/// The value a true condition carries.
fn ref_value(c: &BooleanCondition, v: &Values) -> bool {
    match c {
        BooleanCondition::EqualTo(o) | BooleanCondition::NotEqualTo(o) => o.result,
        BooleanCondition::AndAll(c) => ref_value(&c.conditions[0], v),
        BooleanCondition::OrAll(c) => {
            let first_true = c.conditions.iter().find(|c| ref_true(c, v)).unwrap();
            ref_value(first_true, v)
        }
    }
}

fn ref_flag(default: bool, conditions: &[BooleanCondition], v: &Values) -> bool {
    match conditions.iter().find(|c| ref_true(c, v)) {
        Some(c) => ref_value(c, v),
        None => default,
    }
}

fn ref_allowed(rule: &FieldOptionsCaseRule, v: &Values, child: &str) -> bool {
    let parent = match v.get(rule.parent_field_id.as_deref().unwrap()) {
        Some(Value::String(p)) => p.as_str(),
        _ => "",
    };
    rule.parent_child_field_options_mappings
        .iter()
        .find(|m| m.parent_field_option_value == parent)
        .is_none_or(|m| m.child_field_option_values.iter().any(|c| c == child))
}

// Generators: few distinct values per type, so that equalities happen often; DateTime operands
// in other offsets than the stored UTC form.

const INSTANTS: &[(&str, &str)] = &[
    ("2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00+01:00"),
    ("2026-06-30T12:30:00.000Z", "2026-06-30T12:30:00Z"),
];

fn arb_value(t: FieldType) -> BoxedStrategy<Option<Value>> {
    let v: BoxedStrategy<Value> = match t {
        FieldType::Text | FieldType::Url => prop_oneof![Just(st("a")), Just(st("b"))].boxed(),
        FieldType::SingleSelect => prop_oneof![Just(st("x")), Just(st("y")), Just(st("z"))].boxed(),
        FieldType::Number => {
            prop_oneof![Just(Value::Double(0.0)), Just(Value::Double(1.5))].boxed()
        }
        FieldType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        FieldType::DateTime => (0..INSTANTS.len()).prop_map(|i| st(INSTANTS[i].0)).boxed(),
        FieldType::User => prop_oneof![
            Just(Value::UserArn("arn:u1".into())),
            Just(Value::UserArn("arn:u2".into()))
        ]
        .boxed(),
    };
    prop_oneof![1 => Just(None), 1 => Just(Some(Value::Empty)), 4 => v.prop_map(Some)].boxed()
}

fn arb_values() -> impl Strategy<Value = Values> {
    SCHEMA
        .iter()
        .map(|(f, t)| arb_value(*t).prop_map(move |v| ((*f).to_owned(), v)))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            pairs
                .into_iter()
                .filter_map(|(f, v)| v.map(|v| (f, v)))
                .collect::<BTreeMap<_, _>>()
        })
}

fn arb_operand(t: FieldType) -> BoxedStrategy<OperandTwo> {
    let typed: BoxedStrategy<OperandTwo> = match t {
        FieldType::Text | FieldType::Url => prop_oneof![Just(s("a")), Just(s("b"))].boxed(),
        FieldType::SingleSelect => prop_oneof![Just(s("x")), Just(s("y"))].boxed(),
        FieldType::Number => prop_oneof![
            Just(OperandTwo::DoubleValue(-0.0)),
            Just(OperandTwo::DoubleValue(1.5))
        ]
        .boxed(),
        FieldType::Boolean => any::<bool>().prop_map(OperandTwo::BooleanValue).boxed(),
        FieldType::DateTime => (0..INSTANTS.len(), any::<bool>())
            .prop_map(|(i, utc)| s(if utc { INSTANTS[i].0 } else { INSTANTS[i].1 }))
            .boxed(),
        FieldType::User => prop_oneof![Just(s("arn:u1")), Just(s("arn:u2"))].boxed(),
    };
    prop_oneof![1 => Just(empty()), 4 => typed].boxed()
}

fn arb_leaf() -> impl Strategy<Value = BooleanCondition> {
    let live: Vec<(&str, FieldType)> = SCHEMA
        .iter()
        .filter(|(f, _)| *f != "gone")
        .copied()
        .collect();
    (0..live.len(), any::<bool>(), any::<bool>()).prop_flat_map(move |(i, equal, result)| {
        let (f, t) = live[i];
        arb_operand(t).prop_map(move |o| {
            let c = cmp(f, o, result);
            if equal {
                BooleanCondition::EqualTo(c)
            } else {
                BooleanCondition::NotEqualTo(c)
            }
        })
    })
}

fn arb_condition() -> impl Strategy<Value = BooleanCondition> {
    prop_oneof![
        3 => arb_leaf(),
        1 => proptest::collection::vec(arb_leaf(), 1..3).prop_map(and_all),
        1 => proptest::collection::vec(arb_leaf(), 1..3).prop_map(or_all),
    ]
}

fn arb_mappings() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
    let parents = prop_oneof![Just(""), Just("x"), Just("y"), Just("z")];
    let children = proptest::collection::vec(prop_oneof![Just("x"), Just("y"), Just("z")], 0..3);
    proptest::collection::vec((parents, children), 1..4).prop_map(|m| {
        m.into_iter()
            .map(|(p, c)| (p.to_owned(), c.into_iter().map(str::to_owned).collect()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn flags_agree_with_the_reference(
        default in any::<bool>(),
        conditions in proptest::collection::vec(arb_condition(), 0..4),
        values in arb_values(),
    ) {
        let details = required(default, conditions.clone());
        let compiled = compile(&details, &facts, Purpose::Save);
        let count: usize = conditions.iter().map(|c| match c {
            BooleanCondition::AndAll(c) | BooleanCondition::OrAll(c) => c.conditions.len(),
            _ => 1,
        }).sum();
        // Only rules over the limit are refused.
        prop_assert_eq!(compiled.is_err(), count > definition::MAX_CONDITIONS);
        prop_assume!(compiled.is_ok());
        let Ok(Rule::Flag { default, conditions: compiled }) = compiled else {
            panic!("a flag rule");
        };
        prop_assert_eq!(
            eval::flag(default, &compiled, &values),
            ref_flag(default, &conditions, &values)
        );
        for (c, reference) in compiled.iter().zip(&conditions) {
            prop_assert_eq!(eval::decide(c, &values).is_some(), ref_true(reference, &values));
        }
    }

    #[test]
    fn field_options_agree_with_the_reference(
        mappings in arb_mappings(),
        values in arb_values(),
    ) {
        let map: Vec<(&str, Vec<&str>)> = mappings
            .iter()
            .map(|(p, c)| (p.as_str(), c.iter().map(String::as_str).collect()))
            .collect();
        let map: Vec<(&str, &[&str])> = map.iter().map(|(p, c)| (*p, c.as_slice())).collect();
        let details = options(Some("pick"), Some("sub"), &map);
        let parents: HashSet<&str> = mappings.iter().map(|(p, _)| p.as_str()).collect();
        let compiled = compile(&details, &facts, Purpose::Save);
        prop_assert_eq!(compiled.is_err(), parents.len() < mappings.len());
        prop_assume!(compiled.is_ok());
        let Ok(Rule::Options { parent, allowed, .. }) = compiled else {
            panic!("an options rule");
        };
        let CaseRuleDetails::FieldOptions(raw) = &details else { unreachable!() };
        for child in ["x", "y", "z"] {
            let got = eval::allowed_options(&parent, &allowed, &values)
                .is_none_or(|a| a.contains(child));
            prop_assert_eq!(got, ref_allowed(raw, &values, child));
        }
    }
}
