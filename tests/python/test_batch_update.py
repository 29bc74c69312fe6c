"""BatchUpdateCase (PUT /cases:batchUpdateCase) as boto3 sees it (the AWS CLI bundled here
predates the operation): cases by id or reference id, fields by id or name, the top-level
title/status/customerId, whole-request failures versus per-case failedCases, clientToken
idempotency, audit events and read-your-writes."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import AGENT, code, message, s

PROFILE = "arn:aws:profile:us-east-1:000000000000:domains/d/profiles/p-1"


class Fixture:
    """A domain with a Text field "Notes", a SingleSelect "Region" and a template."""

    def __init__(self, client):
        self.c = client
        self.d = client.create_domain(name="batch")["domainId"]
        self.notes = client.create_field(domainId=self.d, name="Notes", type="Text")["fieldId"]
        self.region = client.create_field(domainId=self.d, name="Region", type="SingleSelect")["fieldId"]
        client.batch_put_field_options(domainId=self.d, fieldId=self.region, options=[
            {"name": v, "value": v, "active": True} for v in ("pdx", "iad", "old")])
        self.t = client.create_template(domainId=self.d, name="T")["templateId"]

    def case(self, title="t", more=()):
        fields = [{"id": "title", "value": s(title)}] + [{"id": i, "value": v} for i, v in more]
        return self.c.create_case(domainId=self.d, templateId=self.t, fields=fields)["caseId"]

    def get(self, case_id, *ids):
        out = self.c.get_case(domainId=self.d, caseId=case_id, fields=[{"id": i} for i in ids])
        return {f["id"]: f["value"] for f in out["fields"]}

    def reference(self, case_id):
        return self.get(case_id, "reference_number")["reference_number"]["stringValue"]

    def batch(self, cases, fields=(), **kw):
        return self.c.batch_update_case(domainId=self.d, cases=[{"caseIdentifier": c} for c in cases],
                                        fields=list(fields), **kw)

    def update_error(self, case_id, fields):
        """The message UpdateCase refuses `fields` on this case with: a case that fails in a batch
        fails for the reason it would fail alone (the SDK suite pins UpdateCase's messages)."""
        with pytest.raises(self.c.exceptions.ValidationException) as e:
            self.c.update_case(domainId=self.d, caseId=case_id, fields=fields)
        return message(e)

    def audit(self, case_id):
        return self.c.get_case_audit_events(domainId=self.d, caseId=case_id)["auditEvents"]


@pytest.fixture
def f(client):
    return Fixture(client)


def test_updates_every_case_by_id_or_reference(f, client):
    a, b, c = f.case("a"), f.case("b"), f.case("c")
    ref_b = f.reference(b)
    out = f.batch([{"caseId": a}, {"referenceId": ref_b}],
                  fields=[{"fieldIdentifier": {"id": f.notes}, "value": s("bulk")},
                          {"fieldIdentifier": {"name": "Region"}, "value": s("pdx")}],
                  title="renamed", status="closed", customerId=PROFILE, performedBy={"userArn": AGENT})
    assert out["failedCases"] == []
    assert out["successfulCases"] == [
        {"caseIdentifier": {"caseId": a, "referenceId": f.reference(a)}},
        {"caseIdentifier": {"caseId": b, "referenceId": ref_b}},
    ]
    for case in (a, b):
        got = f.get(case, "title", "status", "customer_id", f.notes, f.region, "last_updated_user",
                    "last_closed_datetime")
        assert got["title"] == s("renamed") and got["status"] == s("closed")
        assert got["customer_id"] == s(PROFILE) and got[f.notes] == s("bulk") and got[f.region] == s("pdx")
        assert got["last_updated_user"] == {"userArnValue": AGENT}
        assert "last_closed_datetime" in got
    assert f.get(c, "title", "status") == {"title": s("c"), "status": s("open")}

    # One Case.Updated event per updated case, with the old and new values.
    for case, old in ((a, "a"), (b, "b")):
        events = f.audit(case)
        assert [e["type"] for e in events] == ["Case.Updated", "Case.Created"]
        changed = {x["eventFieldId"]: x for x in events[0]["fields"]}
        assert changed["title"]["oldValue"] == s(old) and changed["title"]["newValue"] == s("renamed")
        assert events[0]["performedBy"]["user"] == {"userArn": AGENT}
    assert [e["type"] for e in f.audit(c)] == ["Case.Created"]

    # Read-your-writes: the next search sees every change.
    found = client.search_cases(domainId=f.d, filter={"field": {"equalTo": {"id": "status", "value": s("closed")}}})
    assert sorted(x["caseId"] for x in found["cases"]) == sorted([a, b]) and found["totalCount"] == 2


def test_failures_of_one_case_leave_the_others(f, client):
    keeper = f.case("keeper", more=[(f.region, s("old"))])
    other = f.case("other")
    client.batch_put_field_options(domainId=f.d, fieldId=f.region,
                                   options=[{"name": "old", "value": "old", "active": False}])
    # The inactive option stays allowed on the case that holds it, not on the other one.
    out = f.batch([{"caseId": keeper}, {"caseId": other}, {"caseId": "no-such-case"}],
                  fields=[{"fieldIdentifier": {"id": f.region}, "value": s("old")}])
    assert out["successfulCases"] == [{"caseIdentifier": {"caseId": keeper, "referenceId": f.reference(keeper)}}]
    failed = {x["caseIdentifier"]["caseId"]: x for x in out["failedCases"]}
    assert failed[other]["errorCode"] == "VALIDATION_ERROR"
    region_old = [{"id": f.region, "value": s("old")}]
    assert failed[other]["errorMessage"] == f.update_error(other, region_old)
    assert failed["no-such-case"]["errorCode"] == "CASE_NOT_FOUND"
    assert failed["no-such-case"]["caseIdentifier"] == {"caseId": "no-such-case"}
    assert failed["no-such-case"]["errorMessage"] == "Case no-such-case could not be found"
    assert f.get(other, f.region) == {}

    # Values are checked against each case: a required field cannot be cleared.
    out = f.batch([{"caseId": keeper}], title="   ")
    assert out["failedCases"][0]["errorCode"] == "VALIDATION_ERROR"
    assert out["failedCases"][0]["errorMessage"] == f.update_error(keeper, [{"id": "title", "value": s("   ")}])
    out = f.batch([{"caseId": keeper}], status="nope")
    assert out["failedCases"][0]["errorMessage"] == f.update_error(keeper, [{"id": "status", "value": s("nope")}])


def test_whole_request_failures_write_nothing(server, f, client):
    a, b = f.case("a"), f.case("b")
    notes = [{"fieldIdentifier": {"id": f.notes}, "value": s("x")}]
    checks = [
        (lambda: client.batch_update_case(domainId="nope", cases=[{"caseIdentifier": {"caseId": a}}], fields=notes),
         "ResourceNotFoundException", "Domain nope could not be found"),
        (lambda: f.batch([{"caseId": a}, {"referenceId": "99999999x"}], notes),
         "ResourceNotFoundException", "No case of this domain has the reference id 99999999x"),
        (lambda: f.batch([{"caseId": a}, {"caseId": a}], notes),
         "ValidationException", f"cases[1]: case {a} is listed more than once"),
        (lambda: f.batch([{"caseId": b}, {"referenceId": f.reference(b)}], notes),
         "ValidationException", f"cases[1]: case {b} is listed more than once"),
        (lambda: f.batch([{"caseId": a}], []),
         "ValidationException",
         "BatchUpdateCase needs at least one entry in fields, or a title, status or customerId"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"name": "Nope"}, "value": s("x")}]),
         "ValidationException", "fields[0].fieldIdentifier.name: no field of this domain is named 'Nope'"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"id": "nope"}, "value": s("x")}]),
         "ValidationException", "fields[0].fieldIdentifier.id: field 'nope' does not exist in this domain"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"name": "a|b"}, "value": s("x")}]),
         "ValidationException",
         "fields[0].fieldIdentifier.name: 'a|b' contains '|' or ',', which a field name used as an identifier cannot"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"name": "a,b"}, "value": s("x")}]),
         "ValidationException", None),
        (lambda: f.batch([{"caseId": a}], notes + [{"fieldIdentifier": {"id": "title"}, "value": s("x")}]),
         "ValidationException",
         "fields[1].fieldIdentifier: field 'title' is set through the top-level title member, not through fields"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"name": "Status"}, "value": s("closed")}]),
         "ValidationException",
         "fields[0].fieldIdentifier: field 'status' is set through the top-level status member, not through fields"),
        (lambda: f.batch([{"caseId": a}], [{"fieldIdentifier": {"id": "customer_id"}, "value": s(PROFILE)}]),
         "ValidationException", None),
        (lambda: f.batch([{"caseId": a}], notes + [{"fieldIdentifier": {"name": "Notes"}, "value": s("y")}]),
         "ValidationException", f"fields[1].fieldIdentifier: field '{f.notes}' is listed more than once"),
    ]
    for call, error, text in checks:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == error, text
        if text:
            assert message(e) == text
        if error == "ResourceNotFoundException" and "Domain" not in text:
            assert e.value.response["resourceType"] == "Case"
    # The model's constraints, checked on the wire before anything else (boto3 would refuse to
    # send these, hence hand-signed requests).
    for cases, status in [([], None), ([{"caseIdentifier": {"caseId": f"c{i}"}} for i in range(101)], None),
                          ([{"caseIdentifier": {"caseId": a}}], "not valid!")]:
        body = {"domainId": f.d, "cases": cases, "fields": notes, **({"status": status} if status else {})}
        code_, headers, out = server.raw("PUT", "/cases:batchUpdateCase", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        assert code_ == 400 and headers["x-amzn-errortype"] == "ValidationException", out
    for case in (a, b):
        assert f.get(case, f.notes) == {}
        assert len(f.audit(case)) == 1


def test_client_token_replays_or_conflicts(f, client):
    a = f.case("a")
    notes = [{"fieldIdentifier": {"id": f.notes}, "value": s("once")}]
    first = f.batch([{"caseId": a}, {"caseId": "missing"}], notes, clientToken="tok-1")
    stamp = f.get(a, "last_updated_datetime")
    again = f.batch([{"caseId": a}, {"caseId": "missing"}], notes, clientToken="tok-1")
    for key in ("successfulCases", "failedCases"):
        assert again[key] == first[key]
    assert f.get(a, "last_updated_datetime") == stamp
    assert len(f.audit(a)) == 2
    with pytest.raises(client.exceptions.ConflictException) as e:
        f.batch([{"caseId": a}], notes, clientToken="tok-1")
    assert "tok-1" in message(e)
    # The same token in another operation is another token.
    client.create_case(domainId=f.d, templateId=f.t, fields=[{"id": "title", "value": s("x")}], clientToken="tok-1")
    # boto3 fills in a fresh token when none is given: both calls apply.
    f.batch([{"caseId": a}], title="x")
    f.batch([{"caseId": a}], title="x")
    assert len(f.audit(a)) == 4
