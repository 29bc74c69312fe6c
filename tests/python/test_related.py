"""Related items, their searches and the audit history, as boto3 and the AWS CLI see them."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import AGENT, Server, code, message, s

CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/{}"
FILE = "arn:aws:connect:us-east-1:000000000000:instance/i-1/file/{}"


def comment(body):
    return {"comment": {"body": body, "contentType": "Text/Plain"}}


def sla(name="first reply", minutes=60, field="status", target="closed"):
    cfg = {"name": name, "type": "CaseField", "targetSlaMinutes": minutes}
    if field:
        cfg["fieldId"] = field
    if target:
        cfg["targetFieldValues"] = [s(target)]
    return {"sla": {"slaInputConfiguration": cfg}}


class Fixture:
    def __init__(self, client, name="related"):
        self.c = client
        self.d = client.create_domain(name=name)["domainId"]
        self.t = client.create_template(domainId=self.d, name="T")["templateId"]
        self.text = client.create_field(domainId=self.d, name="Notes", type="Text")["fieldId"]
        self.num = client.create_field(domainId=self.d, name="Amount", type="Number")["fieldId"]

    def case(self, title="a case", **kw):
        return self.c.create_case(domainId=self.d, templateId=self.t,
                                  fields=[{"id": "title", "value": s(title)}], **kw)["caseId"]

    def add(self, case, type_, content, **kw):
        return self.c.create_related_item(domainId=self.d, caseId=case, type=type_, content=content, **kw)

    def items(self, case, **kw):
        out, token = [], None
        while True:
            page = self.c.search_related_items(domainId=self.d, caseId=case, **kw, **({"nextToken": token} if token else {}))
            out += page["relatedItems"]
            token = page.get("nextToken")
            if not token:
                return out

    def get(self, case, *ids):
        out = self.c.get_case(domainId=self.d, caseId=case, fields=[{"id": i} for i in ids])
        return {f["id"]: f["value"] for f in out["fields"]}


@pytest.fixture
def fx(client):
    return Fixture(client)


def test_every_type_is_created_and_read_back(fx):
    case = fx.case(tags={"team": "blue"})
    other = fx.case("linked")
    made = {}
    for type_, content in [
        ("Contact", {"contact": {"contactArn": CONTACT.format("c-1")}}),
        ("Comment", comment("hello")),
        ("File", {"file": {"fileArn": FILE.format("f-1")}}),
        ("Sla", sla()),
        ("ConnectCase", {"connectCase": {"caseId": other}}),
        ("Custom", {"custom": {"fields": [{"id": fx.text, "value": s("x")}, {"id": fx.num, "value": {"doubleValue": 2.0}}]}}),
    ]:
        r = fx.add(case, type_, content, performedBy={"userArn": AGENT})
        assert r["relatedItemArn"] == (
            f"arn:aws:cases:us-east-1:000000000000:domain/{fx.d}/case/{case}/related-item/{r['relatedItemId']}")
        made[type_] = r["relatedItemId"]
    items = fx.items(case)
    # Newest first.
    assert [i["type"] for i in items] == ["Custom", "ConnectCase", "Sla", "File", "Comment", "Contact"]
    by_type = {i["type"]: i for i in items}
    for i in items:
        assert i["relatedItemId"] == made[i["type"]]
        assert i["performedBy"] == {"userArn": AGENT}
        assert i["tags"] == {"team": "blue"}
    contact = by_type["Contact"]["content"]["contact"]
    assert contact["contactArn"] == CONTACT.format("c-1")
    assert contact["channel"] == "VOICE"
    assert contact["connectedToSystemTime"] == by_type["Contact"]["associationTime"]
    assert by_type["Comment"]["content"] == comment("hello")
    assert by_type["File"]["content"] == {"file": {"fileArn": FILE.format("f-1")}}
    assert by_type["ConnectCase"]["content"] == {"connectCase": {"caseId": other}}
    assert by_type["Custom"]["content"]["custom"]["fields"] == [
        {"id": fx.text, "value": s("x")}, {"id": fx.num, "value": {"doubleValue": 2.0}}]
    cfg = by_type["Sla"]["content"]["sla"]["slaConfiguration"]
    assert cfg["status"] == "Active" and cfg["name"] == "first reply" and cfg["fieldId"] == "status"
    assert (cfg["targetTime"] - by_type["Sla"]["associationTime"]).total_seconds() == 3600
    assert "completionTime" not in cfg
    # The SLA sets the case's next breach.
    breach = fx.get(case, "next_sla_breach_datetime")["next_sla_breach_datetime"]["stringValue"]
    assert breach.startswith(cfg["targetTime"].strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize("type_,content,expected", [
    ("Comment", {"contact": {"contactArn": CONTACT.format("c")}}, "type is Comment but content has a contact member"),
    ("Contact", {"contact": {"contactArn": "not-an-arn"}}, "content.contact.contactArn"),
    ("File", {"file": {"fileArn": CONTACT.format("c")}}, "content.file.fileArn"),
    ("Sla", sla(field=None), "fieldId is required"),
    ("Sla", sla(target=None), "targetFieldValues is required"),
    ("Sla", sla(field="title"), "is of type Text; an SLA tracks a SingleSelect field"),
    ("Sla", sla(target="nope"), "options of field 'status'"),
    ("Sla", sla(field="gone"), "'gone' is not a field of this domain"),
    ("Custom", {"custom": {"fields": [{"id": "title", "value": s("x")}]}}, "'title' is a system field"),
    ("Custom", {"custom": {"fields": [{"id": "nope", "value": s("x")}]}}, "Field 'nope' does not exist"),
])
def test_invalid_content_is_a_validation_exception_naming_the_member(fx, type_, content, expected):
    case = fx.case()
    with pytest.raises(ClientError) as e:
        fx.add(case, type_, content)
    assert code(e) == "ValidationException"
    assert expected in message(e)


def test_missing_resources_and_links(fx):
    case = fx.case()
    with pytest.raises(ClientError) as e:
        fx.add(case, "ConnectCase", {"connectCase": {"caseId": "missing-case"}})
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceId"] == "missing-case" and e.value.response["resourceType"] == "Case"
    with pytest.raises(ClientError) as e:
        fx.add(case, "ConnectCase", {"connectCase": {"caseId": case}})
    assert "cannot be linked to itself" in message(e)
    with pytest.raises(ClientError) as e:
        fx.add("missing-case", "Comment", comment("x"))
    assert code(e) == "ResourceNotFoundException" and e.value.response["resourceType"] == "Case"
    with pytest.raises(ClientError) as e:
        fx.c.create_related_item(domainId="missing", caseId=case, type="Comment", content=comment("x"))
    assert e.value.response["resourceType"] == "Domain"
    with pytest.raises(ClientError) as e:
        fx.add(case, "Comment", comment("x" * 15001))
    assert code(e) == "ValidationException" and "15000" in message(e)
    with pytest.raises(ClientError) as e:
        fx.add(case, "Custom", {"custom": {"fields": [{"id": fx.text, "value": s(str(i))} for i in range(6)]}})
    assert code(e) == "ServiceQuotaExceededException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert "at most 5 fields" in message(e)


def test_quotas_per_case():
    server = Server("--max-related-items", "4", "--max-files", "1", "--max-slas", "1")
    try:
        fx = Fixture(server.client())
        case = fx.case()
        fx.add(case, "File", {"file": {"fileArn": FILE.format("1")}})
        with pytest.raises(ClientError) as e:
            fx.add(case, "File", {"file": {"fileArn": FILE.format("2")}})
        assert code(e) == "ServiceQuotaExceededException"
        assert message(e) == f"Case {case} already has the maximum of 1 File related items"
        fx.add(case, "Sla", sla())
        with pytest.raises(ClientError) as e:
            fx.add(case, "Sla", sla("second"))
        assert "maximum of 1 Sla related items" in message(e)
        fx.add(case, "Comment", comment("a"))
        fx.add(case, "Comment", comment("b"))
        with pytest.raises(ClientError) as e:
            fx.add(case, "Comment", comment("c"))
        assert message(e) == f"Case {case} already has the maximum of 4 related items"
        # Another case has its own room.
        fx.add(fx.case(), "Comment", comment("c"))
    finally:
        server.stop()


def test_update_follows_the_rules_of_each_type(fx):
    case = fx.case()
    c = fx.c
    com = fx.add(case, "Comment", comment("draft"), performedBy={"userArn": AGENT})["relatedItemId"]
    r = c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=com, content=comment("final"),
                              performedBy={"customEntity": "bot"})
    assert r["content"] == comment("final") and r["type"] == "Comment"
    assert r["createdBy"] == {"userArn": AGENT} and r["lastUpdatedUser"] == {"customEntity": "bot"}
    assert r["relatedItemArn"].endswith(f"/case/{case}/related-item/{com}")

    cus = fx.add(case, "Custom", {"custom": {"fields": [{"id": fx.text, "value": s("x")}, {"id": fx.num, "value": {"doubleValue": 1.0}}]}})["relatedItemId"]
    r = c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=cus,
                              content={"custom": {"fields": [{"id": fx.num, "value": {"doubleValue": 3.0}}]}})
    # A full replacement: the Text field is gone.
    assert r["content"]["custom"]["fields"] == [{"id": fx.num, "value": {"doubleValue": 3.0}}]

    slaid = fx.add(case, "Sla", sla(minutes=600))["relatedItemId"]
    r = c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=slaid,
                              content={"sla": {"slaUpdateConfiguration": {"targetSlaMinutes": 30}}})
    cfg = r["content"]["sla"]["slaConfiguration"]
    assert (cfg["targetTime"] - r["associationTime"]).total_seconds() == 1800
    assert fx.get(case, "next_sla_breach_datetime")["next_sla_breach_datetime"]["stringValue"].startswith(
        cfg["targetTime"].strftime("%Y-%m-%dT%H:%M"))

    con = fx.add(case, "Contact", {"contact": {"contactArn": CONTACT.format("c")}})["relatedItemId"]
    with pytest.raises(ClientError) as e:
        c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=con, content=comment("x"))
    assert code(e) == "ValidationException" and "is of type Contact, which cannot be updated" in message(e)
    with pytest.raises(ClientError) as e:
        c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=com,
                              content={"sla": {"slaUpdateConfiguration": {"targetSlaMinutes": 5}}})
    assert "takes a content.comment update, not content.sla" in message(e)
    with pytest.raises(ClientError) as e:
        c.update_related_item(domainId=fx.d, caseId=case, relatedItemId="missing", content=comment("x"))
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceType"] == "RelatedItem" and e.value.response["resourceId"] == "missing"
    # An item is only found under its own case.
    with pytest.raises(ClientError) as e:
        c.update_related_item(domainId=fx.d, caseId=fx.case(), relatedItemId=com, content=comment("x"))
    assert e.value.response["resourceType"] == "RelatedItem"


def test_delete(fx):
    case = fx.case()
    c = fx.c
    com = fx.add(case, "Comment", comment("bye"))["relatedItemId"]
    f = fx.add(case, "File", {"file": {"fileArn": FILE.format("1")}})["relatedItemId"]
    slaid = fx.add(case, "Sla", sla())["relatedItemId"]
    c.delete_related_item(domainId=fx.d, caseId=case, relatedItemId=com)
    with pytest.raises(ClientError) as e:
        c.delete_related_item(domainId=fx.d, caseId=case, relatedItemId=com)
    assert code(e) == "ResourceNotFoundException" and e.value.response["resourceId"] == com
    with pytest.raises(ClientError) as e:
        c.delete_related_item(domainId=fx.d, caseId=case, relatedItemId=f)
    assert code(e) == "ValidationException" and "DeleteAttachedFile" in message(e)
    assert "next_sla_breach_datetime" in fx.get(case, "next_sla_breach_datetime")
    c.delete_related_item(domainId=fx.d, caseId=case, relatedItemId=slaid)
    assert fx.get(case, "next_sla_breach_datetime") == {}
    assert [i["type"] for i in fx.items(case)] == ["File"]


def test_an_sla_is_met_when_its_field_reaches_a_target(fx):
    case = fx.case()
    early = fx.add(case, "Sla", sla("early", minutes=10))["relatedItemId"]
    fx.add(case, "Sla", sla("late", minutes=100, target="open"))  # already met: the case is open
    items = {i["relatedItemId"]: i for i in fx.items(case, filters=[{"sla": {}}])}
    statuses = sorted(i["content"]["sla"]["slaConfiguration"]["status"] for i in items.values())
    assert statuses == ["Active", "Met"]
    # Only the pending SLA counts for the next breach.
    target = items[early]["content"]["sla"]["slaConfiguration"]["targetTime"]
    assert fx.get(case, "next_sla_breach_datetime")["next_sla_breach_datetime"]["stringValue"].startswith(
        target.strftime("%Y-%m-%dT%H:%M"))
    fx.c.update_case(domainId=fx.d, caseId=case, fields=[{"id": "status", "value": s("closed")}])
    met = fx.items(case, filters=[{"sla": {"name": "early", "status": "Met"}}])
    assert [i["relatedItemId"] for i in met] == [early]
    assert "completionTime" in met[0]["content"]["sla"]["slaConfiguration"]
    assert fx.items(case, filters=[{"sla": {"status": "Active"}}]) == []
    assert fx.get(case, "next_sla_breach_datetime") == {}
    # The change shows in the case's audit event.
    audit = fx.c.get_case_audit_events(domainId=fx.d, caseId=case)["auditEvents"][0]
    assert audit["type"] == "Case.Updated"
    assert "next_sla_breach_datetime" in [f["eventFieldId"] for f in audit["fields"]]


def test_search_related_items_filters_and_pages(fx):
    case = fx.case()
    made = []
    for n in range(12):
        made.append(fx.add(case, "Comment", comment(f"c{n}"))["relatedItemId"])
    contacts = [fx.add(case, "Contact", {"contact": {"contactArn": CONTACT.format(n)}})["relatedItemId"] for n in range(3)]
    custom = [fx.add(case, "Custom", {"custom": {"fields": [{"id": fx.num, "value": {"doubleValue": float(n)}}]}})["relatedItemId"]
              for n in range(4)]
    everything = fx.items(case, maxResults=5)
    assert [i["relatedItemId"] for i in everything] == list(reversed(made + contacts + custom))
    assert len(fx.c.search_related_items(domainId=fx.d, caseId=case)["relatedItems"]) == 19
    # OR across filters; AND within one.
    got = fx.items(case, filters=[{"contact": {"contactArn": CONTACT.format(1)}}, {"comment": {}}])
    assert [i["relatedItemId"] for i in got] == [contacts[1]] + list(reversed(made))
    assert fx.items(case, filters=[{"contact": {"contactArn": CONTACT.format(1), "channel": ["CHAT"]}}]) == []
    assert len(fx.items(case, filters=[{"contact": {"channel": ["VOICE", "CHAT"]}}])) == 3
    # Custom filters take SearchCases' algebra.
    got = fx.items(case, filters=[{"custom": {"fields": {"orAll": [
        {"field": {"greaterThanOrEqualTo": {"id": fx.num, "value": {"doubleValue": 3.0}}}},
        {"not": {"field": {"greaterThan": {"id": fx.num, "value": {"doubleValue": 0.0}}}}},
    ]}}}])
    assert [i["relatedItemId"] for i in got] == [custom[3], custom[0]]
    with pytest.raises(ClientError) as e:
        fx.items(case, filters=[{"custom": {"fields": {"field": {"contains": {"id": fx.num, "value": {"doubleValue": 1.0}}}}}}])
    assert code(e) == "ValidationException" and "contains" in message(e)
    # A token belongs to its query.
    page = fx.c.search_related_items(domainId=fx.d, caseId=case, maxResults=2)
    with pytest.raises(ClientError) as e:
        fx.c.search_related_items(domainId=fx.d, caseId=case, filters=[{"comment": {}}], nextToken=page["nextToken"])
    assert code(e) == "ValidationException" and "nextToken" in message(e)
    with pytest.raises(ClientError) as e:
        fx.c.search_related_items(domainId=fx.d, caseId=case, maxResults=26)
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        fx.c.search_related_items(domainId=fx.d, caseId="missing")
    assert code(e) == "ResourceNotFoundException"
    # boto3's paginator follows nextToken.
    pages = fx.c.get_paginator("search_related_items").paginate(
        domainId=fx.d, caseId=case, PaginationConfig={"PageSize": 4})
    assert sum(len(p["relatedItems"]) for p in pages) == 19


def test_search_all_related_items_sorts_filters_and_pages(fx):
    cases = sorted(fx.case(f"case {n}") for n in range(4))
    made = []  # (case, item id), in creation order
    for round_ in range(3):
        for case in cases:
            made.append((case, fx.add(case, "Comment", comment(f"{round_}"))["relatedItemId"]))
    fx.add(cases[0], "File", {"file": {"fileArn": FILE.format("x")}})

    def all_items(**kw):
        out, token = [], None
        while True:
            page = fx.c.search_all_related_items(domainId=fx.d, maxResults=5, **kw, **({"nextToken": token} if token else {}))
            out += page["relatedItems"]
            token = page.get("nextToken")
            if not token:
                return out

    newest = all_items(filters=[{"comment": {}}])
    assert [(i["caseId"], i["relatedItemId"]) for i in newest] == list(reversed(made))
    oldest = all_items(filters=[{"comment": {}}], sorts=[{"sortProperty": "AssociationTime", "sortOrder": "Asc"}])
    assert [(i["caseId"], i["relatedItemId"]) for i in oldest] == made
    by_case = all_items(filters=[{"comment": {}}], sorts=[{"sortProperty": "CaseId", "sortOrder": "Desc"},
                                                         {"sortProperty": "AssociationTime", "sortOrder": "Asc"}])
    want = sorted(made, key=lambda m: (m[0], -made.index(m)), reverse=True)
    assert [(i["caseId"], i["relatedItemId"]) for i in by_case] == want
    assert len(all_items()) == 13
    files = all_items(filters=[{"file": {"fileArn": FILE.format("x")}}])
    assert [(i["caseId"], i["type"]) for i in files] == [(cases[0], "File")]
    with pytest.raises(ClientError) as e:
        fx.c.search_all_related_items(domainId=fx.d, sorts=[{"sortProperty": "CaseId", "sortOrder": "Asc"},
                                                          {"sortProperty": "CaseId", "sortOrder": "Desc"}])
    assert code(e) == "ValidationException" and "more than once" in message(e)
    with pytest.raises(ClientError) as e:
        fx.c.search_all_related_items(domainId="missing")
    assert code(e) == "ResourceNotFoundException"
    pages = fx.c.get_paginator("search_all_related_items").paginate(domainId=fx.d, PaginationConfig={"PageSize": 3})
    assert sum(len(p["relatedItems"]) for p in pages) == 13
    # Deleting a case takes its items with it.
    fx.c.delete_case(domainId=fx.d, caseId=cases[0])
    assert {i["caseId"] for i in all_items()} == set(cases[1:])


def test_list_cases_for_contact(fx):
    arn = CONTACT.format("shared")
    cases = sorted(fx.case() for _ in range(7))
    for case in cases:
        fx.add(case, "Contact", {"contact": {"contactArn": arn}})
    fx.add(cases[0], "Contact", {"contact": {"contactArn": arn}})  # twice on one case: listed once
    fx.add(fx.case(), "Contact", {"contact": {"contactArn": CONTACT.format("other")}})
    got, token = [], None
    while True:
        page = fx.c.list_cases_for_contact(domainId=fx.d, contactArn=arn, maxResults=3, **({"nextToken": token} if token else {}))
        assert len(page["cases"]) <= 3
        got += page["cases"]
        token = page.get("nextToken")
        if not token:
            break
    assert [c["caseId"] for c in got] == cases
    assert {c["templateId"] for c in got} == {fx.t}
    fx.c.delete_case(domainId=fx.d, caseId=cases[3])
    page = fx.c.list_cases_for_contact(domainId=fx.d, contactArn=arn)
    assert [c["caseId"] for c in page["cases"]] == cases[:3] + cases[4:]
    assert fx.c.list_cases_for_contact(domainId=fx.d, contactArn=CONTACT.format("nobody"))["cases"] == []
    with pytest.raises(ClientError) as e:
        fx.c.list_cases_for_contact(domainId=fx.d, contactArn=arn, maxResults=11)
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        fx.c.list_cases_for_contact(domainId="missing", contactArn=arn)
    assert code(e) == "ResourceNotFoundException"


def test_batch_create_related_item():
    server = Server("--max-related-items", "2")
    try:
        fx = Fixture(server.client())
        c = fx.c
        a, b, full = fx.case(), fx.case(), fx.case()
        fx.add(full, "Comment", comment("1"))
        fx.add(full, "Comment", comment("2"))
        ref = fx.get(b, "reference_number")["reference_number"]["stringValue"]
        r = c.batch_create_related_item(domainId=fx.d, content=comment("to all"), performedBy={"userArn": AGENT},
                                        cases=[{"caseIdentifier": {"caseId": a}},
                                               {"caseIdentifier": {"referenceId": ref}},
                                               {"caseIdentifier": {"caseId": "missing"}},
                                               {"caseIdentifier": {"caseId": full}}],
                                        clientToken="tok-1")
        assert [i["caseIdentifier"] for i in r["successfulItems"]] == [{"caseId": a}, {"referenceId": ref}]
        assert [(i["caseIdentifier"], i["errorCode"]) for i in r["failedItems"]] == [
            ({"caseId": "missing"}, "CASE_NOT_FOUND"), ({"caseId": full}, "SERVICE_QUOTA_EXCEEDED")]
        for item, case in zip(r["successfulItems"], [a, b]):
            assert item["relatedItemArn"].endswith(f"/case/{case}/related-item/{item['relatedItemId']}")
            found = fx.items(case)
            assert [i["relatedItemId"] for i in found] == [item["relatedItemId"]]
            assert found[0]["performedBy"] == {"userArn": AGENT}
        # The same token and request: the same answer, nothing new.
        again = c.batch_create_related_item(domainId=fx.d, content=comment("to all"), performedBy={"userArn": AGENT},
                                            cases=[{"caseIdentifier": {"caseId": a}},
                                                   {"caseIdentifier": {"referenceId": ref}},
                                                   {"caseIdentifier": {"caseId": "missing"}},
                                                   {"caseIdentifier": {"caseId": full}}],
                                            clientToken="tok-1")
        assert again["successfulItems"] == r["successfulItems"]
        assert len(fx.items(a)) == 1
        with pytest.raises(ClientError) as e:
            c.batch_create_related_item(domainId=fx.d, content=comment("other"), clientToken="tok-1",
                                        cases=[{"caseIdentifier": {"caseId": a}}])
        assert code(e) == "ConflictException"
        for cases, content, want_code, want in [
            ([{"caseIdentifier": {"caseId": a}}] * 2, comment("x"), "ValidationException", "more than once"),
            ([{"caseIdentifier": {"caseId": b}}, {"caseIdentifier": {"referenceId": ref}}], comment("x"),
             "ValidationException", "more than once"),
            ([{"caseIdentifier": {"caseId": a}}], {"contact": {"contactArn": CONTACT.format(1)}},
             "ValidationException", "comments only"),
            ([{"caseIdentifier": {"referenceId": "00000000x"}}], comment("x"), "ResourceNotFoundException", "00000000x"),
        ]:
            with pytest.raises(ClientError) as e:
                c.batch_create_related_item(domainId=fx.d, content=content, cases=cases)
            assert code(e) == want_code and want in message(e), message(e)
        with pytest.raises(ClientError) as e:
            c.batch_create_related_item(domainId="missing", content=comment("x"), cases=[{"caseIdentifier": {"caseId": a}}])
        assert code(e) == "ResourceNotFoundException" and e.value.response["resourceType"] == "Domain"
    finally:
        server.stop()


def test_audit_history_newest_first_with_paging(fx):
    case = fx.case(performedBy={"userArn": AGENT})
    item = fx.add(case, "Comment", comment("one"), performedBy={"customEntity": "bot"})["relatedItemId"]
    fx.c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=item, content=comment("two"))
    fx.c.delete_related_item(domainId=fx.d, caseId=case, relatedItemId=item)
    fx.c.update_case(domainId=fx.d, caseId=case, fields=[{"id": "title", "value": s("renamed")}])
    events, token = [], None
    while True:
        page = fx.c.get_case_audit_events(domainId=fx.d, caseId=case, maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["auditEvents"]) <= 2
        events += page["auditEvents"]
        token = page.get("nextToken")
        if not token:
            break
    assert [e["type"] for e in events] == [
        "Case.Updated", "RelatedItem.Deleted", "RelatedItem.Updated", "RelatedItem.Created", "Case.Created"]
    times = [e["performedTime"] for e in events]
    assert times == sorted(times, reverse=True)
    for e in events:
        assert e["performedBy"]["iamPrincipalArn"].startswith("arn:aws:iam::000000000000:")
    created, updated, deleted = events[3], events[2], events[1]
    assert created["relatedItemType"] == "Comment" and created["performedBy"]["user"] == {"customEntity": "bot"}
    fields = {f["eventFieldId"]: f for f in created["fields"]}
    assert fields["comment.body"]["newValue"] == s("one") and "oldValue" not in fields["comment.body"]
    assert [(f["eventFieldId"], f["oldValue"], f["newValue"]) for f in updated["fields"]] == [
        ("comment.body", s("one"), s("two"))]
    assert {f["eventFieldId"]: (f["oldValue"], f["newValue"]) for f in deleted["fields"]}["comment.body"] == (
        s("two"), {"emptyValue": {}})
    assert events[4]["performedBy"]["user"] == {"userArn": AGENT}
    assert len(fx.c.get_case_audit_events(domainId=fx.d, caseId=case)["auditEvents"]) == 5
    with pytest.raises(ClientError) as e:
        fx.c.get_case_audit_events(domainId=fx.d, caseId=case, maxResults=26)
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        fx.c.get_case_audit_events(domainId=fx.d, caseId=case, nextToken="garbage")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        fx.c.get_case_audit_events(domainId=fx.d, caseId="missing")
    assert code(e) == "ResourceNotFoundException" and e.value.response["resourceId"] == "missing"


def test_aws_cli(server, client):
    fx = Fixture(client)
    case = fx.case()
    rc, out, err = server.aws_cli("create-related-item", "--domain-id", fx.d, "--case-id", case, "--type", "Comment",
                                  "--content", json.dumps(comment("from the cli")))
    assert rc == 0, err
    item = json.loads(out)["relatedItemId"]
    rc, out, err = server.aws_cli("search-related-items", "--domain-id", fx.d, "--case-id", case)
    assert rc == 0, err
    assert [i["relatedItemId"] for i in json.loads(out)["relatedItems"]] == [item]
    rc, out, err = server.aws_cli("get-case-audit-events", "--domain-id", fx.d, "--case-id", case)
    assert rc == 0, err
    assert json.loads(out)["auditEvents"][0]["type"] == "RelatedItem.Created"
