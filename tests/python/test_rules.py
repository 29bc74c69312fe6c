"""Case rules (CreateCaseRule, BatchGetCaseRule, ListCaseRules, UpdateCaseRule, DeleteCaseRule),
templates that attach them, and their enforcement on CreateCase, UpdateCase and BatchUpdateCase,
as boto3 and the AWS CLI see them."""

import json

import pytest

from conftest import EMPTY, Server, message, s


def eq(field, operand, result=True):
    return {"equalTo": {"operandOne": {"fieldId": field}, "operandTwo": operand, "result": result}}


def ne(field, operand, result=True):
    return {"notEqualTo": {"operandOne": {"fieldId": field}, "operandTwo": operand, "result": result}}


def required(*conditions, default=False):
    return {"required": {"defaultValue": default, "conditions": list(conditions)}}


class Schema:
    """A domain with a close reason (Text), a category and a subcategory (SingleSelect)."""

    def __init__(self, client):
        self.c = client
        self.d = client.create_domain(name="rules")["domainId"]
        self.reason = client.create_field(domainId=self.d, name="Close reason", type="Text")["fieldId"]
        self.cat = client.create_field(domainId=self.d, name="Category", type="SingleSelect")["fieldId"]
        self.sub = client.create_field(domainId=self.d, name="Subcategory", type="SingleSelect")["fieldId"]
        self.num = client.create_field(domainId=self.d, name="Amount", type="Number")["fieldId"]
        for field, values in [(self.cat, ["hw", "sw"]), (self.sub, ["disk", "cpu", "app"])]:
            client.batch_put_field_options(domainId=self.d, fieldId=field, options=[
                {"name": v.upper(), "value": v, "active": True} for v in values])

    def rule(self, name, rule, **kw):
        return self.c.create_case_rule(domainId=self.d, name=name, rule=rule, **kw)["caseRuleId"]

    def template(self, name, rules=()):
        return self.c.create_template(domainId=self.d, name=name, rules=[
            dict(caseRuleId=r, **({"fieldId": f} if f else {})) for r, f in rules])["templateId"]

    def case(self, template, **values):
        fields = [{"id": "title", "value": s("t")}] + [
            {"id": getattr(self, k, k), "value": v} for k, v in values.items()]
        return self.c.create_case(domainId=self.d, templateId=template, fields=fields)["caseId"]

    def update(self, case, **values):
        self.c.update_case(domainId=self.d, caseId=case, fields=[
            {"id": getattr(self, k, k), "value": v} for k, v in values.items()])


@pytest.fixture
def sc(client):
    return Schema(client)


def test_case_rule_lifecycle(sc, client):
    r = client.create_case_rule(domainId=sc.d, name="Reason when closed", description="d",
                                rule=required(eq("status", s("closed"))))
    assert r["caseRuleArn"] == (
        f"arn:aws:cases:us-east-1:000000000000:domain/{sc.d}/case-rule/{r['caseRuleId']}")
    rid = r["caseRuleId"]
    got = client.batch_get_case_rule(domainId=sc.d, caseRules=[{"id": rid}, {"id": "missing"}])
    rule = got["caseRules"][0]
    assert rule["caseRuleId"] == rid and rule["name"] == "Reason when closed"
    assert rule["description"] == "d" and rule["deleted"] is False
    assert rule["rule"] == required(eq("status", s("closed")))
    assert rule["caseRuleArn"] == r["caseRuleArn"] and rule["tags"] == {}
    assert rule["lastModifiedTime"] == rule["createdTime"]
    assert got["errors"] == [{"id": "missing", "errorCode": "ResourceNotFoundException",
                              "message": "CaseRule missing could not be found"}]
    assert got.get("unprocessedCaseRules", []) == []

    listed = client.list_case_rules(domainId=sc.d)["caseRules"]
    assert listed == [{"caseRuleId": rid, "name": "Reason when closed", "caseRuleArn": r["caseRuleArn"],
                       "ruleType": "Required", "description": "d"}]

    hidden = {"hidden": {"defaultValue": True, "conditions": [ne(sc.cat, EMPTY, False)]}}
    client.update_case_rule(domainId=sc.d, caseRuleId=rid, name="Renamed", rule=hidden)
    after = client.batch_get_case_rule(domainId=sc.d, caseRules=[{"id": rid}])["caseRules"][0]
    assert after["name"] == "Renamed" and after["description"] == "d" and after["rule"] == hidden
    assert after["lastModifiedTime"] >= after["createdTime"]
    assert client.list_case_rules(domainId=sc.d)["caseRules"][0]["ruleType"] == "Hidden"

    client.tag_resource(arn=r["caseRuleArn"], tags={"team": "ops"})
    assert client.list_tags_for_resource(arn=r["caseRuleArn"])["tags"] == {"team": "ops"}

    client.delete_case_rule(domainId=sc.d, caseRuleId=rid)
    client.delete_case_rule(domainId=sc.d, caseRuleId=rid)  # again: nothing changes
    assert client.list_case_rules(domainId=sc.d)["caseRules"] == []
    gone = client.batch_get_case_rule(domainId=sc.d, caseRules=[{"id": rid}])["caseRules"][0]
    assert gone["deleted"] is True and gone["tags"] == {"team": "ops"}
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.update_case_rule(domainId=sc.d, caseRuleId=rid, name="x")
    assert "deleted" in message(e)
    # The name of a deleted rule is free again.
    sc.rule("Renamed", required())


def test_list_case_rules_pages(sc, client):
    ids = sorted(sc.rule(f"r{i}", required(default=i % 2 == 0)) for i in range(5))
    seen, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = client.list_case_rules(domainId=sc.d, maxResults=2, **kw)
        assert len(page["caseRules"]) <= 2
        seen += [r["caseRuleId"] for r in page["caseRules"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == ids
    paginated = client.get_paginator("list_case_rules").paginate(domainId=sc.d, PaginationConfig={"PageSize": 3})
    assert [r["caseRuleId"] for p in paginated for r in p["caseRules"]] == ids
    with pytest.raises(client.exceptions.ValidationException):
        client.list_case_rules(domainId=sc.d, nextToken="forged")


def test_case_rule_errors_name_member_and_rule(server, sc, client):
    leaf = eq(sc.reason, s("x"))
    cases = [
        (required(leaf, leaf, leaf, {"andAll": {"conditions": [leaf, leaf, leaf]}}),
         "rule.required.conditions: a case rule can have at most 5 conditions; this one has 6"),
        (required({"andAll": {"conditions": [leaf, {"orAll": {"conditions": [leaf]}}]}}),
         "rule.required.conditions[0].andAll.conditions[1].orAll.conditions: "
         "conditions can be nested at most 2 levels deep"),
        (required({"orAll": {"conditions": []}}),
         "rule.required.conditions[0].orAll.conditions: orAll needs at least one condition"),
        (required(eq("nope", s("x"))),
         "rule.required.conditions[0].equalTo.operandOne.fieldId: field 'nope' does not exist in this domain"),
        (required(eq(sc.num, s("1"))),
         f"rule.required.conditions[0].equalTo.operandTwo: field '{sc.num}' is of type Number and is "
         "compared with a doubleValue or an emptyValue, not a stringValue"),
        ({"fieldOptions": {"childFieldId": sc.sub,
                           "parentChildFieldOptionsMappings": [{"parentFieldOptionValue": "hw",
                                                                "childFieldOptionValues": ["disk"]}]}},
         "rule.fieldOptions.parentFieldId: a fieldOptions rule needs the parent field whose value "
         "selects the child's options"),
        ({"fieldOptions": {"parentFieldId": sc.reason, "childFieldId": sc.sub,
                           "parentChildFieldOptionsMappings": [{"parentFieldOptionValue": "hw",
                                                                "childFieldOptionValues": ["disk"]}]}},
         f"rule.fieldOptions.parentFieldId: field '{sc.reason}' is of type Text; field options rules "
         "relate SingleSelect fields"),
    ]
    for rule, expected in cases:
        with pytest.raises(client.exceptions.ValidationException) as e:
            client.create_case_rule(domainId=sc.d, name="bad", rule=rule)
        assert message(e) == expected
    # The model's constraints are checked before the service's: a union with two members (which
    # boto3 refuses to send, hence a hand-signed request).
    body = {"name": "bad", "rule": {**required(), "hidden": {"defaultValue": True, "conditions": []}}}
    status, headers, out = server.raw("POST", f"/domains/{sc.d}/case-rules", json.dumps(body).encode(),
                                      {"Content-Type": "application/json"})
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert "rule" in out["message"]
    client.delete_field(domainId=sc.d, fieldId=sc.num)
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.rule("bad", required(eq(sc.num, {"doubleValue": 1.0})))
    assert message(e).endswith(f"field '{sc.num}' has been deleted")

    sc.rule("taken", required())
    with pytest.raises(client.exceptions.ConflictException) as e:
        sc.rule("taken", required())
    assert message(e) == "A case rule named 'taken' already exists in this domain"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.create_case_rule(domainId="nope", name="x", rule=required())
    assert e.value.response["resourceType"] == "Domain" and e.value.response["resourceId"] == "nope"
    for call in [lambda: client.update_case_rule(domainId=sc.d, caseRuleId="nope", name="x"),
                 lambda: client.delete_case_rule(domainId=sc.d, caseRuleId="nope")]:
        with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
            call()
        assert e.value.response["resourceType"] == "CaseRule" and e.value.response["resourceId"] == "nope"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.batch_get_case_rule(domainId="nope", caseRules=[{"id": "x"}])
    assert e.value.response["resourceType"] == "Domain"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_case_rules(domainId="nope")
    rid = sc.rule("r", required())
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.update_case_rule(domainId=sc.d, caseRuleId=rid)
    assert message(e) == "UpdateCaseRule needs at least one of name, description, rule"
    with pytest.raises(client.exceptions.ValidationException):
        client.batch_get_case_rule(domainId=sc.d, caseRules=[{"id": str(i)} for i in range(51)])


def test_case_rules_per_domain_quota_is_402():
    server = Server("--max-case-rules", "2")
    try:
        c = server.client()
        d = c.create_domain(name="q")["domainId"]
        first = c.create_case_rule(domainId=d, name="a", rule=required())["caseRuleId"]
        c.create_case_rule(domainId=d, name="b", rule=required())
        with pytest.raises(c.exceptions.ServiceQuotaExceededException) as e:
            c.create_case_rule(domainId=d, name="c", rule=required())
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
        assert message(e) == "The domain already has the maximum of 2 case rules"
        # A deleted rule frees its place.
        c.delete_case_rule(domainId=d, caseRuleId=first)
        c.create_case_rule(domainId=d, name="c", rule=required())
    finally:
        server.stop()


def test_templates_attach_rules_they_can_act_on(sc, client):
    req = sc.rule("req", required(default=True))
    opts = sc.rule("opts", {"fieldOptions": {
        "parentFieldId": sc.cat, "childFieldId": sc.sub,
        "parentChildFieldOptionsMappings": [{"parentFieldOptionValue": "hw", "childFieldOptionValues": ["disk"]}]}})
    t = sc.template("T", [(req, sc.reason), (opts, None)])
    got = client.get_template(domainId=sc.d, templateId=t)["rules"]
    assert got == [{"caseRuleId": req, "fieldId": sc.reason}, {"caseRuleId": opts}]

    bad = [
        ([("nope", sc.reason)], "rules[0].caseRuleId: CaseRule nope does not exist in this domain"),
        ([(req, "nope")], "rules[0].fieldId: Field nope does not exist in this domain"),
        ([(req, None)], f"rules[0]: case rule {req} cannot be attached here: a Required rule applies to "
                        "the field named by fieldId, which is missing"),
        ([(opts, sc.reason)], f"rules[0]: case rule {opts} cannot be attached here: the rule's child field "
                              f"is '{sc.sub}', so fieldId must be '{sc.sub}' or left out, not '{sc.reason}'"),
        ([(req, sc.reason), (req, sc.reason)],
         f"rules[1]: case rule {req} is attached to the same field more than once"),
    ]
    childless = sc.rule("childless", {"fieldOptions": {
        "parentFieldId": sc.cat,
        "parentChildFieldOptionsMappings": [{"parentFieldOptionValue": "hw", "childFieldOptionValues": ["disk"]}]}})
    bad += [
        ([(childless, None)], f"rules[0]: case rule {childless} cannot be attached here: a FieldOptions rule "
                              "without a childFieldId applies to the field named by fieldId, which is missing"),
        ([(childless, sc.reason)], f"rules[0]: case rule {childless} cannot be attached here: field "
                                   f"'{sc.reason}' is of type Text; the child of a FieldOptions rule is a "
                                   "SingleSelect field"),
        ([(childless, sc.cat)], f"rules[0]: case rule {childless} cannot be attached here: field "
                                f"'{sc.cat}' is the rule's parent field and cannot also be its child"),
    ]
    for rules, expected in bad:
        with pytest.raises(client.exceptions.ValidationException) as e:
            sc.template("Bad", rules)
        assert message(e) == expected
    sc.template("Childless", [(childless, sc.sub)])
    with pytest.raises(client.exceptions.ValidationException):
        client.update_template(domainId=sc.d, templateId=t, rules=[{"caseRuleId": req}])

    # A rule a template uses cannot be deleted, nor changed into one the template cannot attach.
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.delete_case_rule(domainId=sc.d, caseRuleId=req)
    assert message(e) == (f"Case rule {req} is used by template 'T' ({t}); "
                          "remove it from the template's rules first")
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.update_case_rule(domainId=sc.d, caseRuleId=opts, rule={"fieldOptions": {
            "parentFieldId": sc.cat,
            "parentChildFieldOptionsMappings": [{"parentFieldOptionValue": "hw", "childFieldOptionValues": []}]}})
    assert message(e).startswith(f"rule: template 'T' ({t}) uses this case rule, and ")
    client.update_template(domainId=sc.d, templateId=t, rules=[{"caseRuleId": opts}])
    client.delete_case_rule(domainId=sc.d, caseRuleId=req)
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.template("Late", [(req, sc.reason)])
    assert message(e) == f"rules[0].caseRuleId: CaseRule {req} has been deleted"
    # A deleted template does not hold on to its rules.
    client.delete_template(domainId=sc.d, templateId=t)
    client.delete_case_rule(domainId=sc.d, caseRuleId=opts)


def test_required_rules_are_enforced(sc, client):
    closed_needs_reason = sc.rule("Reason when closed", required(eq("status", s("closed"))))
    t = sc.template("T", [(closed_needs_reason, sc.reason)])
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.case(t, status=s("closed"))
    assert message(e) == (f"Field '{sc.reason}' is required by case rule 'Reason when closed' "
                          f"({closed_needs_reason}) and has no value")
    done = sc.case(t, status=s("closed"), reason=s("fixed"))
    with pytest.raises(client.exceptions.ValidationException):
        sc.update(done, reason=EMPTY)
    with pytest.raises(client.exceptions.ValidationException):
        sc.update(done, reason=s("   "))

    c = sc.case(t)
    sc.update(c, summary=s("still open"))
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.update(c, status=s("closed"))
    assert "Reason when closed" in message(e)
    sc.update(c, status=s("closed"), reason=s("done"))
    sc.update(c, status=s("open"), reason=EMPTY)

    # A rule added after a case was made holds it only to what an update touches.
    always = sc.rule("Amount always", required(default=True))
    client.update_template(domainId=sc.d, templateId=t, rules=[
        {"caseRuleId": closed_needs_reason, "fieldId": sc.reason}, {"caseRuleId": always, "fieldId": sc.num}])
    sc.update(c, summary=s("no amount yet, still editable"))
    with pytest.raises(client.exceptions.ValidationException):
        sc.update(c, num=EMPTY)
    with pytest.raises(client.exceptions.ValidationException):
        sc.case(t)
    sc.case(t, num={"doubleValue": 3.0})

    # andAll / orAll and the first deciding condition.
    combo = sc.rule("combo", required(
        {"andAll": {"conditions": [eq(sc.cat, s("hw")), ne(sc.sub, EMPTY)]}},
        {"orAll": {"conditions": [eq(sc.cat, s("sw"), result=False), eq(sc.cat, EMPTY, result=False)]}},
        default=True))
    t2 = sc.template("T2", [(combo, sc.reason)])
    sc.case(t2, cat=s("sw"))
    sc.case(t2)
    with pytest.raises(client.exceptions.ValidationException):
        sc.case(t2, cat=s("hw"))  # neither decides: defaultValue, required
    with pytest.raises(client.exceptions.ValidationException):
        sc.case(t2, cat=s("hw"), sub=s("disk"))  # the andAll decides: required
    sc.case(t2, cat=s("hw"), sub=s("disk"), reason=s("r"))


def test_field_options_rules_are_enforced(sc, client):
    opts = sc.rule("Subcategories", {"fieldOptions": {
        "parentFieldId": sc.cat, "childFieldId": sc.sub,
        "parentChildFieldOptionsMappings": [
            {"parentFieldOptionValue": "hw", "childFieldOptionValues": ["disk", "cpu"]},
            {"parentFieldOptionValue": "", "childFieldOptionValues": []},
        ]}})
    t = sc.template("T", [(opts, None)])
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.case(t, cat=s("hw"), sub=s("app"))
    assert message(e) == (f"'app' is not an allowed option of field '{sc.sub}' while field '{sc.cat}' is 'hw' "
                          f"(case rule 'Subcategories' ({opts})); allowed: [cpu, disk]")
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.case(t, sub=s("disk"))
    assert f"while field '{sc.cat}' has no value" in message(e)
    c = sc.case(t, cat=s("hw"), sub=s("disk"))
    sc.case(t, cat=s("sw"), sub=s("app"))  # sw is not mapped: any option
    sc.update(c, sub=s("cpu"))
    with pytest.raises(client.exceptions.ValidationException):
        sc.update(c, cat=EMPTY)  # the parent changes under the child
    sc.update(c, cat=s("sw"), sub=s("app"))
    sc.update(c, cat=s("hw"), sub=EMPTY)
    # Options of the field itself still apply first.
    with pytest.raises(client.exceptions.ValidationException) as e:
        sc.update(c, sub=s("nope"))
    assert message(e) == f"'nope' is not an option of field '{sc.sub}'"


def test_hidden_rules_are_returned_not_enforced(sc, client):
    hide = sc.rule("Hide reason", {"hidden": {"defaultValue": True, "conditions": [eq("status", s("closed"), False)]}})
    t = sc.template("T", [(hide, sc.reason)])
    c = sc.case(t, reason=s("visible or not, it is stored"))
    got = client.get_case(domainId=sc.d, caseId=c, fields=[{"id": sc.reason}])["fields"]
    assert got == [{"id": sc.reason, "value": s("visible or not, it is stored")}]
    assert client.get_template(domainId=sc.d, templateId=t)["rules"] == [{"caseRuleId": hide, "fieldId": sc.reason}]


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
