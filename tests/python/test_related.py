"""Related items as boto3 and the AWS CLI see them: the paginators, the CLI, and what
aws-sdk-connectcases cannot send (BatchCreateRelatedItem, SLA updates). The operations'
behaviour is tested through the Rust SDK in tests/sdk/tests/api/related.rs."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import AGENT, Server, code, comment, message, s

CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/{}"


def sla(minutes):
    """An SLA: the case's status is to reach closed within `minutes`."""
    return {"sla": {"slaInputConfiguration": {"name": "first reply", "type": "CaseField", "targetSlaMinutes": minutes,
                                              "fieldId": "status", "targetFieldValues": [s("closed")]}}}


class Fixture:
    def __init__(self, client, name="related"):
        self.c = client
        self.d = client.create_domain(name=name)["domainId"]
        self.t = client.create_template(domainId=self.d, name="T")["templateId"]

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


def test_sla_updates_which_the_rust_sdk_cannot_send(fx):
    # aws-sdk-connectcases has no sla member in RelatedItemUpdateContent.
    case = fx.case()
    slaid = fx.add(case, "Sla", sla(600))["relatedItemId"]
    r = fx.c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=slaid,
                                 content={"sla": {"slaUpdateConfiguration": {"targetSlaMinutes": 30}}})
    cfg = r["content"]["sla"]["slaConfiguration"]
    assert (cfg["targetTime"] - r["associationTime"]).total_seconds() == 1800
    assert fx.get(case, "next_sla_breach_datetime")["next_sla_breach_datetime"]["stringValue"].startswith(
        cfg["targetTime"].strftime("%Y-%m-%dT%H:%M"))
    com = fx.add(case, "Comment", comment("draft"))["relatedItemId"]
    with pytest.raises(ClientError) as e:
        fx.c.update_related_item(domainId=fx.d, caseId=case, relatedItemId=com,
                                 content={"sla": {"slaUpdateConfiguration": {"targetSlaMinutes": 5}}})
    assert code(e) == "ValidationException"
    assert "takes a content.comment update, not content.sla" in message(e)


def test_paginators_follow_next_token(fx):
    cases = [fx.case(f"case {n}") for n in range(2)]
    made = [(case, fx.add(case, "Comment", comment(str(n)))["relatedItemId"]) for n in range(5) for case in cases]
    newest = list(reversed(made))
    pages = list(fx.c.get_paginator("search_related_items").paginate(
        domainId=fx.d, caseId=cases[0], PaginationConfig={"PageSize": 2}))
    assert [len(p["relatedItems"]) for p in pages] == [2, 2, 1]
    assert [i["relatedItemId"] for p in pages for i in p["relatedItems"]] == [i for c, i in newest if c == cases[0]]
    pages = list(fx.c.get_paginator("search_all_related_items").paginate(
        domainId=fx.d, PaginationConfig={"PageSize": 3}))
    assert [len(p["relatedItems"]) for p in pages] == [3, 3, 3, 1]
    assert [(i["caseId"], i["relatedItemId"]) for p in pages for i in p["relatedItems"]] == newest


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
