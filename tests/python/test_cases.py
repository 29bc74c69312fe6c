"""CreateCase, GetCase, UpdateCase, DeleteCase and SearchCases as boto3 and the AWS CLI see them."""

import concurrent.futures
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Server

QUEUE = "arn:aws:connect:us-east-1:000000000000:instance/i-1/queue/q-1"
AGENT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/agent/a-1"


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


def s(v):
    return {"stringValue": v}


def n(v):
    return {"doubleValue": v}


def b(v):
    return {"booleanValue": v}


def u(v):
    return {"userArnValue": v}


EMPTY = {"emptyValue": {}}


class Fixture:
    """A domain with a custom field of each type and an Active template requiring `amount`."""

    def __init__(self, client, name="cases"):
        self.c = client
        self.d = client.create_domain(name=name)["domainId"]
        make = lambda name, t: client.create_field(domainId=self.d, name=name, type=t)["fieldId"]
        self.text = make("Notes", "Text")
        self.num = make("Amount", "Number")
        self.flag = make("Urgent", "Boolean")
        self.when = make("Due", "DateTime")
        self.pick = make("Region", "SingleSelect")
        self.link = make("Link", "Url")
        self.who = make("Owner", "User")
        client.batch_put_field_options(domainId=self.d, fieldId=self.pick, options=[
            {"name": "PDX", "value": "pdx", "active": True},
            {"name": "IAD", "value": "iad", "active": True},
            {"name": "OLD", "value": "old", "active": False},
        ])
        self.t = client.create_template(domainId=self.d, name="T", requiredFields=[{"fieldId": self.num}])["templateId"]

    def create(self, title, amount=1.0, more=(), **kw):
        fields = [{"id": "title", "value": s(title)}, {"id": self.num, "value": n(amount)}]
        fields += [{"id": i, "value": v} for i, v in more]
        return self.c.create_case(domainId=self.d, templateId=self.t, fields=fields, **kw)["caseId"]

    def get(self, case_id, *ids):
        out = self.c.get_case(domainId=self.d, caseId=case_id, fields=[{"id": i} for i in ids])
        return {f["id"]: f["value"] for f in out["fields"]}

    def search(self, **kw):
        return self.c.search_cases(domainId=self.d, **kw)

    def titles(self, page=100, **kw):
        """Every matching title, following nextToken; checks totalCount on every page."""
        out, token, total = [], None, None
        while True:
            args = dict(kw, maxResults=page, fields=[{"id": "title"}])
            if token:
                args["nextToken"] = token
            r = self.search(**args)
            total = r["totalCount"] if total is None else total
            assert r["totalCount"] == total
            out += [c["fields"][0]["value"]["stringValue"] for c in r["cases"]]
            token = r.get("nextToken")
            if not token:
                break
        assert total == len(out)
        return out


@pytest.fixture
def f(client):
    return Fixture(client)


def test_create_and_get(f):
    r = f.c.create_case(domainId=f.d, templateId=f.t, performedBy={"userArn": AGENT}, fields=[
        {"id": "title", "value": s("Printer on fire")},
        {"id": f.num, "value": n(42.5)},
        {"id": f.flag, "value": b(True)},
        {"id": f.when, "value": s("2026-03-01T10:30:00+01:00")},
        {"id": f.pick, "value": s("pdx")},
        {"id": f.link, "value": s("https://tickets.example/42")},
        {"id": f.who, "value": u(AGENT)},
        {"id": f.text, "value": EMPTY},
        {"id": "assigned_queue", "value": s(QUEUE)},
    ])
    assert r["caseArn"] == f"arn:aws:cases:us-east-1:000000000000:domain/{f.d}/case/{r['caseId']}"
    ids = ["title", f.num, f.flag, f.when, f.pick, f.link, f.who, f.text, "status", "case_id",
           "reference_number", "created_datetime", "last_updated_datetime", "last_updated_user",
           "assigned_queue", "summary", "unknown-field"]
    out = f.c.get_case(domainId=f.d, caseId=r["caseId"], fields=[{"id": i} for i in ids])
    assert out["templateId"] == f.t and out["tags"] == {} and "nextToken" not in out
    assert [x["id"] for x in out["fields"]] == ids[:15]
    v = {x["id"]: x["value"] for x in out["fields"]}
    assert v[f.when] == s("2026-03-01T09:30:00.000Z")
    assert v[f.text] == EMPTY
    assert v[f.num] == n(42.5) and v[f.flag] == b(True) and v[f.who] == u(AGENT)
    assert v["status"] == s("open") and v["case_id"] == s(r["caseId"])
    assert re.fullmatch(r"\d{8}", v["reference_number"]["stringValue"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v["created_datetime"]["stringValue"])
    assert v["created_datetime"] == v["last_updated_datetime"]
    assert v["last_updated_user"] == u(AGENT) and v["assigned_queue"] == s(QUEUE)

    with pytest.raises(f.c.exceptions.ResourceNotFoundException) as e:
        f.c.get_case(domainId=f.d, caseId="nope", fields=[{"id": "title"}])
    assert e.value.response["resourceType"] == "Case" and e.value.response["resourceId"] == "nope"
    with pytest.raises(f.c.exceptions.ResourceNotFoundException):
        f.c.get_case(domainId="nope", caseId=r["caseId"], fields=[{"id": "title"}])
    with pytest.raises(f.c.exceptions.ValidationException):
        f.c.get_case(domainId=f.d, caseId=r["caseId"], fields=[{"id": "title"}], nextToken="forged")
    with pytest.raises(f.c.exceptions.ValidationException):
        f.c.get_case(domainId=f.d, caseId=r["caseId"], fields=[{"id": "x"}] * 221)


@pytest.mark.parametrize("fields, expected", [
    ([], "Required fields have no value: title"),
    ([("title", s(" "))], "Field 'title' is required and cannot be empty"),
    ([("status", EMPTY)], "Field 'status' is required and cannot be empty"),
    ([("nope", s("x"))], "Field 'nope' does not exist in this domain"),
    ([("title", s("a")), ("title", s("again"))], "Field 'title' is listed more than once"),
    ([("NUM", s("1"))], "takes a doubleValue, not a stringValue"),
    ([("FLAG", s("true"))], "takes a booleanValue, not a stringValue"),
    ([("WHO", s(AGENT))], "takes a userArnValue, not a stringValue"),
    ([("TEXT", b(True))], "takes a stringValue, not a booleanValue"),
    ([("WHEN", s("2026-03-01"))], "is not an ISO-8601 date-time"),
    ([("LINK", s("www.example.com"))], "is not an absolute http or https URL"),
    ([("PICK", s("nowhere"))], "'nowhere' is not an option of field"),
    ([("PICK", s("old"))], "'old' is an inactive option of field"),
    ([("status", s("archived"))], "'archived' is not an option of field 'status'"),
    ([("summary", s("x" * 3001))], "Field 'summary' is 3001 characters long; at most 3000 are allowed"),
    ([("TEXT", s("x" * 4101))], "4100"),
    ([("assigned_queue", s("q-1"))], "ARN of an Amazon Connect queue"),
    ([("customer_id", s("bad profile"))], "Customer Profiles"),
] + [
    ([(ro, s("2026-01-01T00:00:00Z") if ro != "last_updated_user" else u(AGENT))],
     f"Field '{ro}' is maintained by the server and cannot be set")
    for ro in ["case_id", "reference_number", "created_datetime", "last_updated_datetime", "last_closed_datetime",
               "last_reopened_datetime", "next_sla_breach_datetime", "last_updated_user"]
])
def test_create_validation(f, fields, expected):
    placeholders = {"NUM": f.num, "FLAG": f.flag, "WHO": f.who, "TEXT": f.text, "WHEN": f.when, "LINK": f.link,
                    "PICK": f.pick}
    fields = [{"id": placeholders.get(i, i), "value": v} for i, v in fields]
    ids = {x["id"] for x in fields}
    base = [] if expected.startswith("Required fields") or "title" in ids else [{"id": "title", "value": s("t")}]
    if f.num not in ids:
        base.append({"id": f.num, "value": n(1)})
    with pytest.raises(f.c.exceptions.ValidationException) as e:
        f.c.create_case(domainId=f.d, templateId=f.t, fields=base + fields)
    assert expected in message(e)
    assert f.search()["totalCount"] == 0


def test_create_template_and_required_rules(f, client):
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.create_case(domainId=f.d, templateId=f.t, fields=[{"id": "title", "value": s("t")}])
    assert message(e) == f"Required fields have no value: {f.num}"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.create_case(domainId=f.d, templateId="nope", fields=[{"id": "title", "value": s("t")}])
    assert e.value.response["resourceType"] == "Template"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.create_case(domainId="nope", templateId=f.t, fields=[{"id": "title", "value": s("t")}])
    assert e.value.response["resourceType"] == "Domain"
    off = client.create_template(domainId=f.d, name="Off", status="Inactive")["templateId"]
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.create_case(domainId=f.d, templateId=off, fields=[{"id": "title", "value": s("t")}])
    assert "Inactive" in message(e)
    gone = client.create_template(domainId=f.d, name="Gone")["templateId"]
    client.delete_template(domainId=f.d, templateId=gone)
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.create_case(domainId=f.d, templateId=gone, fields=[{"id": "title", "value": s("t")}])
    assert "deleted" in message(e)
    client.delete_field(domainId=f.d, fieldId=f.link)
    with pytest.raises(client.exceptions.ValidationException) as e:
        f.create("t", more=[(f.link, s("https://x.example"))])
    assert message(e) == f"These fields have been deleted and cannot be given values: {f.link}"


def test_tags_propagate_and_request_wins(f, client):
    t = client.create_template(domainId=f.d, name="Tagged", tagPropagationConfigurations=[
        {"resourceType": "Cases", "tagMap": {"team": "blue", "tier": "1"}}])["templateId"]
    r = client.create_case(domainId=f.d, templateId=t, fields=[{"id": "title", "value": s("x")}],
                           tags={"tier": "2", "vip": "yes"})
    want = {"team": "blue", "tier": "2", "vip": "yes"}
    assert client.get_case(domainId=f.d, caseId=r["caseId"], fields=[{"id": "title"}])["tags"] == want
    assert client.list_tags_for_resource(arn=r["caseArn"])["tags"] == want
    client.tag_resource(arn=r["caseArn"], tags={"extra": "1"})
    found = f.search(filter={"tag": {"equalTo": {"key": "extra", "value": "1"}}})
    assert [c["caseId"] for c in found["cases"]] == [r["caseId"]]


def test_client_token_idempotency(f, client):
    fields = [{"id": "title", "value": s("a")}, {"id": f.num, "value": n(1)}]
    first = client.create_case(domainId=f.d, templateId=f.t, fields=fields, clientToken="tok")
    again = client.create_case(domainId=f.d, templateId=f.t, fields=list(reversed(fields)), clientToken="tok")
    assert first["caseId"] == again["caseId"] and first["caseArn"] == again["caseArn"]
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.create_case(domainId=f.d, templateId=f.t, fields=fields + [{"id": "summary", "value": s("x")}],
                           clientToken="tok")
    assert "tok" in message(e)
    # boto3 fills in a fresh token when none is given: two calls, two cases.
    a = client.create_case(domainId=f.d, templateId=f.t, fields=fields)["caseId"]
    b2 = client.create_case(domainId=f.d, templateId=f.t, fields=fields)["caseId"]
    assert a != b2
    # Concurrent duplicates: one case.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: client.create_case(domainId=f.d, templateId=f.t, fields=fields,
                                                         clientToken="race")["caseId"], range(8)))
    assert len(ids) == 1
    assert f.search()["totalCount"] == 4


def test_update(f, client):
    cid = f.create("first", more=[(f.text, s("keep")), (f.pick, s("pdx"))])
    before = f.get(cid, "last_updated_datetime", "created_datetime")
    time.sleep(0.005)
    out = client.update_case(domainId=f.d, caseId=cid, performedBy={"userArn": AGENT}, fields=[
        {"id": "title", "value": s("second")},
        {"id": f.pick, "value": EMPTY},
        {"id": "assigned_queue", "value": s(QUEUE)},
        {"id": "assigned_user", "value": u(AGENT)},
    ])
    assert set(out) == {"ResponseMetadata"}
    v = f.get(cid, "title", f.text, f.pick, "assigned_queue", "assigned_user", "last_updated_user",
              "last_updated_datetime", "created_datetime")
    assert v["title"] == s("second") and v[f.text] == s("keep") and v[f.pick] == EMPTY
    assert v["assigned_queue"] == s(QUEUE) and v["assigned_user"] == u(AGENT) and v["last_updated_user"] == u(AGENT)
    assert v["created_datetime"] == before["created_datetime"]
    assert v["last_updated_datetime"]["stringValue"] > before["last_updated_datetime"]["stringValue"]

    client.update_case(domainId=f.d, caseId=cid, fields=[{"id": "status", "value": s("closed")}])
    closed = f.get(cid, "last_closed_datetime", "last_updated_datetime", "last_reopened_datetime")
    assert closed["last_closed_datetime"] == closed["last_updated_datetime"] and "last_reopened_datetime" not in closed
    time.sleep(0.005)
    client.update_case(domainId=f.d, caseId=cid, fields=[{"id": "status", "value": s("open")}])
    reopened = f.get(cid, "last_closed_datetime", "last_reopened_datetime")
    assert reopened["last_closed_datetime"] == closed["last_closed_datetime"]
    assert reopened["last_reopened_datetime"]["stringValue"] > closed["last_closed_datetime"]["stringValue"]
    assert f.search(filter={"field": {"equalTo": {"id": "status", "value": s("open")}}})["totalCount"] == 1

    for fields, expected in [
        ([{"id": "title", "value": EMPTY}], "Field 'title' is required and cannot be empty"),
        ([{"id": f.num, "value": EMPTY}], f"Field '{f.num}' is required and cannot be empty"),
        ([{"id": "reference_number", "value": s("1")}], "maintained by the server"),
        ([{"id": "nope", "value": s("1")}], "does not exist in this domain"),
        ([{"id": f.when, "value": n(1)}], "takes a stringValue, not a doubleValue"),
    ]:
        with pytest.raises(client.exceptions.ValidationException) as e:
            client.update_case(domainId=f.d, caseId=cid, fields=fields)
        assert expected in message(e)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.update_case(domainId=f.d, caseId="nope", fields=[{"id": "title", "value": s("x")}])

    # Deleted fields: a held value may change or be cleared; none can be set anew.
    client.delete_field(domainId=f.d, fieldId=f.text)
    client.delete_field(domainId=f.d, fieldId=f.flag)
    client.update_case(domainId=f.d, caseId=cid, fields=[{"id": f.text, "value": s("changed")}])
    assert f.get(cid, f.text)[f.text] == s("changed")
    with pytest.raises(client.exceptions.ValidationException):
        client.update_case(domainId=f.d, caseId=cid, fields=[{"id": f.flag, "value": b(True)}])
    # Searches still see values of deleted fields.
    assert f.search(searchTerm="changed")["totalCount"] == 1
    assert f.search(filter={"field": {"equalTo": {"id": f.text, "value": s("changed")}}})["totalCount"] == 1


def test_delete(f, client):
    keep = f.create("keep")
    gone = f.create("gone")
    client.delete_case(domainId=f.d, caseId=gone)
    assert [c["caseId"] for c in f.search()["cases"]] == [keep]
    for call in [
        lambda: client.get_case(domainId=f.d, caseId=gone, fields=[{"id": "title"}]),
        lambda: client.delete_case(domainId=f.d, caseId=gone),
        lambda: client.update_case(domainId=f.d, caseId=gone, fields=[]),
        lambda: client.delete_case(domainId="nope", caseId=keep),
    ]:
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            call()


def search_fixture(client):
    f = Fixture(client, "search")
    f.create("Printer on fire", 10, [(f.when, s("2026-01-01T00:00:00Z")), (f.pick, s("pdx")), (f.flag, b(True))],
             tags={"team": "blue"})
    f.create("printer jam", 2.5, [(f.link, s("https://Tickets.example/Jam")), (f.pick, s("iad")), (f.flag, b(False))],
             tags={"team": "red", "vip": ""})
    f.create("Login broken", -1, [(f.when, s("2025-12-31T23:00:00-02:00")), (f.who, u(AGENT)), (f.text, EMPTY)])
    f.create("Refund request", 100, [(f.text, s("customer wants money back")), (f.pick, s("pdx"))],
             tags={"team": "blue"})
    f.create("refund REQUEST", 0, [(f.when, s("2026-06-30T12:00:00.000Z"))])
    f.create("Other", 2.5)
    return f


def field(op, fid, value):
    return {"field": {op: {"id": fid, "value": value}}}


def test_search_filters(client):
    f = search_fixture(client)
    by_title = [{"fieldId": "title", "sortOrder": "Asc"}]
    table = [
        (field("equalTo", "title", s("printer jam")), ["printer jam"]),
        (field("equalTo", "title", s("PRINTER JAM")), []),
        (field("contains", "title", s("REFUND")), ["Refund request", "refund REQUEST"]),
        (field("contains", "title", s("r on f")), ["Printer on fire"]),
        (field("contains", f.link, s("example/JAM")), ["printer jam"]),
        (field("equalTo", f.num, n(2.5)), ["Other", "printer jam"]),
        (field("greaterThan", f.num, n(2.5)), ["Printer on fire", "Refund request"]),
        (field("greaterThanOrEqualTo", f.num, n(2.5)), ["Other", "Printer on fire", "Refund request", "printer jam"]),
        (field("lessThan", f.num, n(0)), ["Login broken"]),
        (field("lessThanOrEqualTo", f.num, n(0)), ["Login broken", "refund REQUEST"]),
        (field("equalTo", f.when, s("2026-01-01T03:00:00+02:00")), ["Login broken"]),
        (field("greaterThan", f.when, s("2026-01-01T00:00:00Z")), ["Login broken", "refund REQUEST"]),
        (field("lessThanOrEqualTo", f.when, s("2026-01-01T01:00:00Z")), ["Login broken", "Printer on fire"]),
        (field("equalTo", f.flag, b(False)), ["printer jam"]),
        (field("equalTo", f.who, u(AGENT)), ["Login broken"]),
        (field("equalTo", f.pick, s("pdx")), ["Printer on fire", "Refund request"]),
        (field("equalTo", f.text, EMPTY), ["Login broken", "Other", "Printer on fire", "printer jam", "refund REQUEST"]),
        ({"not": field("equalTo", f.pick, s("pdx"))}, ["Login broken", "Other", "printer jam", "refund REQUEST"]),
        ({"andAll": [field("equalTo", f.pick, s("pdx")), field("greaterThan", f.num, n(50))]}, ["Refund request"]),
        ({"orAll": [field("equalTo", f.flag, b(True)), field("lessThan", f.num, n(0))]},
         ["Login broken", "Printer on fire"]),
        ({"andAll": []}, ["Login broken", "Other", "Printer on fire", "Refund request", "printer jam", "refund REQUEST"]),
        ({"orAll": []}, []),
        ({"tag": {"equalTo": {"key": "team"}}}, ["Printer on fire", "Refund request", "printer jam"]),
        ({"tag": {"equalTo": {"key": "team", "value": "blue"}}}, ["Printer on fire", "Refund request"]),
        ({"tag": {"equalTo": {"key": "vip", "value": ""}}}, ["printer jam"]),
    ]
    for flt, want in table:
        assert f.titles(filter=flt, sorts=by_title) == want, flt


def test_search_terms_sorts_projection(client):
    f = search_fixture(client)
    by_title = [{"fieldId": "title", "sortOrder": "Asc"}]
    for term, want in [
        ("PRINTER", ["Printer on fire", "printer jam"]),
        ("print", ["Printer on fire", "printer jam"]),
        ("print jam", []),
        ("refund req", ["Refund request", "refund REQUEST"]),
        ("money", ["Refund request"]),
        ("iad", ["printer jam"]),
        ("tickets", ["printer jam"]),
        ("01t00", []),
        ("", ["Login broken", "Other", "Printer on fire", "Refund request", "printer jam", "refund REQUEST"]),
    ]:
        assert f.titles(searchTerm=term, sorts=by_title) == want, term
    ref = f.search(fields=[{"id": "reference_number"}], maxResults=1)["cases"][0]
    found = f.search(searchTerm=ref["fields"][0]["value"]["stringValue"])
    assert [c["caseId"] for c in found["cases"]] == [ref["caseId"]]

    assert f.titles(page=4, sorts=[{"fieldId": f.when, "sortOrder": "Asc"}, {"fieldId": "title", "sortOrder": "Asc"}]) == [
        "Printer on fire", "Login broken", "refund REQUEST", "Other", "Refund request", "printer jam"]
    assert f.titles(page=4, sorts=[{"fieldId": f.when, "sortOrder": "Desc"}, {"fieldId": "title", "sortOrder": "Desc"}]) == [
        "refund REQUEST", "Login broken", "Printer on fire", "printer jam", "Refund request", "Other"]
    assert f.titles(page=2, sorts=[{"fieldId": f.num, "sortOrder": "Desc"}, {"fieldId": "title", "sortOrder": "Asc"}]) == [
        "Refund request", "Printer on fire", "Other", "printer jam", "refund REQUEST", "Login broken"]

    # Default order: most recently updated first.
    client.update_case(domainId=f.d, caseId=ref["caseId"], fields=[{"id": "summary", "value": s("x")}])
    default = f.search()
    assert default["cases"][0]["caseId"] == ref["caseId"]
    assert all(c["fields"] == [] and c["templateId"] == f.t and "tags" in c for c in default["cases"])

    login = f.search(filter=field("equalTo", "title", s("Login broken")),
                     fields=[{"id": f.text}, {"id": "title"}, {"id": "nope"}, {"id": f.link}])["cases"][0]
    assert login["fields"] == [{"id": f.text, "value": EMPTY}, {"id": "title", "value": s("Login broken")}]

    # The boto3 paginator follows nextToken to the end.
    pages = list(client.get_paginator("search_cases").paginate(domainId=f.d, PaginationConfig={"PageSize": 4}))
    assert [len(p["cases"]) for p in pages] == [4, 2]
    assert len({c["caseId"] for p in pages for c in p["cases"]}) == 6


def test_bad_searches(client):
    f = search_fixture(client)
    deep = field("equalTo", f.flag, b(True))
    for _ in range(5):
        deep = {"not": deep}
    for kw, expected in [
        ({"filter": field("greaterThan", "title", s("a"))},
         "The greaterThan operator cannot be used on field 'title' of type Text; it applies to Number and DateTime fields"),
        ({"filter": field("lessThan", f.pick, s("a"))}, "it applies to Number and DateTime fields"),
        ({"filter": field("contains", f.num, n(1))}, "it applies to Text and Url fields"),
        ({"filter": field("contains", "title", EMPTY)}, "emptyValue can only be used with equalTo"),
        ({"filter": field("equalTo", "nope", s("a"))}, "The filter uses field 'nope', which does not exist"),
        ({"filter": field("equalTo", f.flag, s("true"))}, "takes a booleanValue, not a stringValue"),
        ({"filter": field("greaterThan", f.when, s("soon"))}, "ISO-8601"),
        ({"filter": deep}, "The filter is nested more than 5 levels deep"),
        ({"filter": {"andAll": [field("equalTo", f.flag, b(True))] * 11}}, "andAll"),
        ({"filter": {"tag": {"equalTo": {"value": "blue"}}}}, "A tag filter needs a key"),
        ({"sorts": [{"fieldId": "nope", "sortOrder": "Asc"}]}, "Cannot sort by field 'nope'"),
        ({"sorts": [{"fieldId": "title", "sortOrder": "Asc"}] * 3}, "sorts"),
        ({"maxResults": 101}, "maxResults"),
        ({"searchTerm": "x" * 256}, "searchTerm"),
        ({"fields": [{"id": "title"}] * 26}, "fields"),
        ({"nextToken": "garbage"}, "nextToken"),
    ]:
        with pytest.raises(client.exceptions.ValidationException) as e:
            f.search(**kw)
        assert expected in message(e), (kw, message(e))
    token = f.search(maxResults=2)["nextToken"]
    with pytest.raises(client.exceptions.ValidationException):
        f.search(nextToken=token, searchTerm="printer")
    with pytest.raises(client.exceptions.ValidationException):
        f.search(nextToken=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert len(f.search(nextToken=token, maxResults=50)["cases"]) == 4
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.search_cases(domainId="nope")


def test_paging_with_writes_between_pages(f, client):
    originals = {f.create(f"orig {i:02}", i % 5) for i in range(23)}
    seen, token, rnd = [], None, 0
    while True:
        kw = {"nextToken": token} if token else {}
        r = f.search(maxResults=5, sorts=[{"fieldId": f.num, "sortOrder": "Asc"}], **kw)
        seen += [c["caseId"] for c in r["cases"]]
        token = r.get("nextToken")
        if not token:
            break
        rnd += 1
        f.create(f"low {rnd}", -5)
        f.create(f"high {rnd}", 50)
        unseen = sorted(originals - set(seen))
        if unseen:
            client.update_case(domainId=f.d, caseId=unseen[0], fields=[{"id": "summary", "value": s("edited")}])
        gone = f.create(f"deleted {rnd}", 2)
        client.delete_case(domainId=f.d, caseId=gone)
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


def test_restart_keeps_cases_search_and_tokens(data_dir):
    server = Server("--data-dir", data_dir)
    f = Fixture(server.client())
    ids = [f.create(f"persisted {i}", i, clientToken=f"tok-{i}", tags={"n": str(i)}) for i in range(6)]
    f.c.update_case(domainId=f.d, caseId=ids[0], fields=[{"id": "status", "value": s("closed")}])
    query = dict(sorts=[{"fieldId": f.num, "sortOrder": "Desc"}], fields=[{"id": "title"}, {"id": "status"}],
                 maxResults=2)
    before = f.search(**query)
    snapshot = f.get(ids[0], "title", "status", "last_closed_datetime", "reference_number")
    server.kill()

    server = Server("--data-dir", data_dir)
    try:
        f.c = server.client()
        after = f.search(**query)
        assert after["cases"] == before["cases"] and after["totalCount"] == 6
        assert f.get(ids[0], "title", "status", "last_closed_datetime", "reference_number") == snapshot
        rest = f.search(nextToken=before["nextToken"], **query)
        assert [c["fields"][0]["value"]["stringValue"] for c in rest["cases"]] == ["persisted 3", "persisted 2"]
        assert f.create("persisted 4", 4, clientToken="tok-4", tags={"n": "4"}) == ids[4]
        assert f.search(searchTerm="persisted")["totalCount"] == 6
    finally:
        server.stop()


def test_aws_cli(server, client):
    f = Fixture(client)
    rc, out, err = server.aws_cli("create-case", "--domain-id", f.d, "--template-id", f.t, "--fields",
                                  json.dumps([{"id": "title", "value": s("from the cli")},
                                              {"id": f.num, "value": n(3)}]))
    assert rc == 0, err
    case_id = json.loads(out)["caseId"]
    rc, out, err = server.aws_cli("search-cases", "--domain-id", f.d, "--search-term", "cli",
                                  "--fields", json.dumps([{"id": "title"}]))
    assert rc == 0, err
    result = json.loads(out)
    assert [c["caseId"] for c in result["cases"]] == [case_id] and result["totalCount"] == 1
    rc, out, err = server.aws_cli("get-case", "--domain-id", f.d, "--case-id", case_id,
                                  "--fields", json.dumps([{"id": "title"}]))
    assert rc == 0, err
    assert json.loads(out)["fields"] == [{"id": "title", "value": s("from the cli")}]
