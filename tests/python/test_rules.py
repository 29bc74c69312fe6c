"""Case rules as boto3 and the AWS CLI see them: the ListCaseRules paginator, the CLI, a request
boto3 refuses to send, and the rules' enforcement on BatchUpdateCase (which aws-sdk-connectcases
lacks), and rules attached to a template without a fieldId (which it always sends). The
operations' behaviour is tested through the Rust SDK in tests/sdk/tests/api/rules.rs."""

import json

import pytest

from conftest import message, s


def eq(field, operand, result=True):
    return {"equalTo": {"operandOne": {"fieldId": field}, "operandTwo": operand, "result": result}}


def required(*conditions, default=False):
    return {"required": {"defaultValue": default, "conditions": list(conditions)}}


class Schema:
    """A domain with a close reason (Text)."""

    def __init__(self, client):
        self.c = client
        self.d = client.create_domain(name="rules")["domainId"]
        self.reason = client.create_field(domainId=self.d, name="Close reason", type="Text")["fieldId"]

    def rule(self, name, rule, **kw):
        return self.c.create_case_rule(domainId=self.d, name=name, rule=rule, **kw)["caseRuleId"]

    def template(self, name, rules=()):
        return self.c.create_template(domainId=self.d, name=name, rules=[
            dict(caseRuleId=r, **({"fieldId": f} if f else {})) for r, f in rules])["templateId"]

    def case(self, template):
        return self.c.create_case(domainId=self.d, templateId=template,
                                  fields=[{"id": "title", "value": s("t")}])["caseId"]


@pytest.fixture
def sc(client):
    return Schema(client)


def test_list_case_rules_paginator(sc, client):
    ids = sorted(sc.rule(f"r{i}", required(default=i % 2 == 0)) for i in range(5))
    pages = list(client.get_paginator("list_case_rules").paginate(domainId=sc.d, PaginationConfig={"PageSize": 2}))
    assert [len(p["caseRules"]) for p in pages] == [2, 2, 1]
    assert [r["caseRuleId"] for p in pages for r in p["caseRules"]] == ids


def test_a_union_with_two_members_is_refused_before_the_service(server, sc):
    # The model's constraints are checked before the service's: boto3 refuses to send a union
    # with two members, hence a hand-signed request.
    body = {"name": "bad", "rule": {**required(), "hidden": {"defaultValue": True, "conditions": []}}}
    status, headers, out = server.raw("POST", f"/domains/{sc.d}/case-rules", json.dumps(body).encode(),
                                      {"Content-Type": "application/json"})
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert "rule" in out["message"]


def test_rules_attached_without_a_field_id(sc, client):
    # botocore's model leaves a template rule's fieldId optional; aws-sdk-connectcases has it
    # required and always sends one.
    cat = client.create_field(domainId=sc.d, name="Category", type="SingleSelect")["fieldId"]
    sub = client.create_field(domainId=sc.d, name="Subcategory", type="SingleSelect")["fieldId"]
    for field, values in [(cat, ["hw", "sw"]), (sub, ["disk", "app"])]:
        client.batch_put_field_options(domainId=sc.d, fieldId=field, options=[
            {"name": v.upper(), "value": v, "active": True} for v in values])

    def options(child, children):
        rule = {"parentFieldId": cat, "parentChildFieldOptionsMappings": [
            {"parentFieldOptionValue": "hw", "childFieldOptionValues": children}]}
        return {"fieldOptions": dict(rule, **({"childFieldId": child} if child else {}))}

    req = sc.rule("req", required(default=True))
    opts = sc.rule("opts", options(sub, ["disk"]))
    t = sc.template("T", [(req, sc.reason), (opts, None)])
    assert client.get_template(domainId=sc.d, templateId=t)["rules"] == [
        {"caseRuleId": req, "fieldId": sc.reason}, {"caseRuleId": opts}]
    childless = sc.rule("childless", options(None, ["disk"]))
    for rule, expected in [
        (req, "a Required rule applies to the field named by fieldId, which is missing"),
        (childless, "a FieldOptions rule without a childFieldId applies to the field named by fieldId, "
                    "which is missing"),
    ]:
        with pytest.raises(client.exceptions.ValidationException) as e:
            sc.template("Bad", [(rule, None)])
        assert message(e) == f"rules[0]: case rule {rule} cannot be attached here: {expected}"
    with pytest.raises(client.exceptions.ValidationException):
        client.update_template(domainId=sc.d, templateId=t, rules=[{"caseRuleId": req}])
    # Nor can a rule attached without one become a rule that needs it.
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.update_case_rule(domainId=sc.d, caseRuleId=opts, rule=options(None, []))
    assert message(e) == (f"rule: template 'T' ({t}) uses this case rule, and a FieldOptions rule without a "
                          "childFieldId applies to the field named by fieldId, which is missing")


def test_batch_update_case_enforces_rules_per_case(sc, client):
    closed_needs_reason = sc.rule("Reason when closed", required(eq("status", s("closed"))))
    strict = sc.template("Strict", [(closed_needs_reason, sc.reason)])
    loose = sc.template("Loose")
    a, b = sc.case(strict), sc.case(loose)
    out = client.batch_update_case(domainId=sc.d, cases=[{"caseIdentifier": {"caseId": a}},
                                                         {"caseIdentifier": {"caseId": b}}],
                                   fields=[], status="closed")
    assert [x["caseIdentifier"]["caseId"] for x in out["successfulCases"]] == [b]
    [failed] = out["failedCases"]
    assert failed["caseIdentifier"]["caseId"] == a and failed["errorCode"] == "VALIDATION_ERROR"
    assert "Reason when closed" in failed["errorMessage"]


def test_aws_cli_lists_case_rules(server, sc):
    rid = sc.rule("cli", required())
    rc, out, err = server.aws_cli("list-case-rules", "--domain-id", sc.d)
    assert rc == 0, err
    assert json.loads(out)["caseRules"][0]["caseRuleId"] == rid
    rc, out, err = server.aws_cli("batch-get-case-rule", "--domain-id", sc.d, "--case-rules", f"id={rid}")
    assert rc == 0, err
    assert json.loads(out)["caseRules"][0]["rule"] == required()
