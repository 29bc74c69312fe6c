"""Cases as boto3 and the AWS CLI see them: what botocore makes of the values it parses, the
clientToken boto3 fills in, the SearchCases paginator and the CLI. The behaviour of the case
operations (validation, updates, deletes, search semantics, paging under writes, restarts) is
the Rust SDK suite's (tests/sdk/tests/api/cases.rs)."""

import json
import re

import pytest

from conftest import AGENT, EMPTY, b, n, s, u

QUEUE = "arn:aws:connect:us-east-1:000000000000:instance/i-1/queue/q-1"


class Fixture:
    """A domain with custom fields of the value kinds and an Active template requiring `amount`."""

    def __init__(self, client, name="cases"):
        self.c = client
        self.d = client.create_domain(name=name)["domainId"]
        make = lambda name, t: client.create_field(domainId=self.d, name=name, type=t)["fieldId"]
        self.text = make("Notes", "Text")
        self.num = make("Amount", "Number")
        self.flag = make("Urgent", "Boolean")
        self.when = make("Due", "DateTime")
        self.who = make("Owner", "User")
        self.t = client.create_template(domainId=self.d, name="T", requiredFields=[{"fieldId": self.num}])["templateId"]

    def create(self, title, amount=1.0, more=()):
        fields = [{"id": "title", "value": s(title)}, {"id": self.num, "value": n(amount)}]
        fields += [{"id": i, "value": v} for i, v in more]
        return self.c.create_case(domainId=self.d, templateId=self.t, fields=fields)["caseId"]

    def search(self, **kw):
        return self.c.search_cases(domainId=self.d, **kw)


@pytest.fixture
def f(client):
    return Fixture(client)


def test_values_as_botocore_parses_them(f):
    """Every kind of field value, the empty union member and service-written values come back
    as the dicts boto3 users compare against."""
    r = f.c.create_case(domainId=f.d, templateId=f.t, performedBy={"userArn": AGENT}, fields=[
        {"id": "title", "value": s("Printer on fire")},
        {"id": f.num, "value": n(42.5)},
        {"id": f.flag, "value": b(True)},
        {"id": f.when, "value": s("2026-03-01T10:30:00+01:00")},
        {"id": f.who, "value": u(AGENT)},
        {"id": f.text, "value": EMPTY},
        {"id": "assigned_queue", "value": s(QUEUE)},
    ])
    ids = ["title", f.num, f.flag, f.when, f.who, f.text, "reference_number", "created_datetime",
           "last_updated_user", "summary"]
    out = f.c.get_case(domainId=f.d, caseId=r["caseId"], fields=[{"id": i} for i in ids])
    assert out["templateId"] == f.t and out["tags"] == {} and "nextToken" not in out
    v = {x["id"]: x["value"] for x in out["fields"]}
    assert v[f.when] == s("2026-03-01T09:30:00.000Z")
    assert v[f.text] == EMPTY
    assert v[f.num] == n(42.5) and v[f.flag] == b(True) and v[f.who] == u(AGENT)
    assert v["last_updated_user"] == u(AGENT)
    assert re.fullmatch(r"\d{8}", v["reference_number"]["stringValue"])
    assert "summary" not in v


def test_numbers_keep_every_bit(f, client):
    """A float boto3 sends (Python writes the shortest text that reads back as the same double)
    comes back with the same bits, is found by equality and is paged by exactly. serde_json's
    default float parsing rounded some values to a neighbour (found by the `next_token` fuzz
    target)."""
    values = [1.1306281999543241e-302, 1.1306281999543243e-302, 0.30000000000000004, 5e-324]
    ids = {f.create(f"n{i}", amount=v): v for i, v in enumerate(values)}
    for case_id, v in ids.items():
        out = f.c.get_case(domainId=f.d, caseId=case_id, fields=[{"id": f.num}])
        assert out["fields"] == [{"id": f.num, "value": n(v)}]
        r = f.search(filter={"field": {"equalTo": {"id": f.num, "value": n(v)}}})
        assert [c["caseId"] for c in r["cases"]] == [case_id]
    pages = client.get_paginator("search_cases").paginate(
        domainId=f.d, sorts=[{"fieldId": f.num, "sortOrder": "Asc"}], fields=[{"id": "title"}],
        PaginationConfig={"PageSize": 1})
    titles = [c["fields"][0]["value"]["stringValue"] for p in pages for c in p["cases"]]
    assert titles == ["n3", "n0", "n1", "n2"]


def test_boto3_fills_in_a_client_token(f, client):
    fields = [{"id": "title", "value": s("a")}, {"id": f.num, "value": n(1)}]
    # boto3 fills in a fresh token when none is given: two calls, two cases.
    a = client.create_case(domainId=f.d, templateId=f.t, fields=fields)["caseId"]
    b2 = client.create_case(domainId=f.d, templateId=f.t, fields=fields)["caseId"]
    assert a != b2
    # A token the caller gives is sent as it is: the same one twice is one case.
    first = client.create_case(domainId=f.d, templateId=f.t, fields=fields, clientToken="tok")
    again = client.create_case(domainId=f.d, templateId=f.t, fields=fields, clientToken="tok")
    assert first["caseId"] == again["caseId"]
    assert f.search()["totalCount"] == 3


def test_search_cases_paginator(f, client):
    for i in range(6):
        f.create(f"case {i}")
    # The boto3 paginator follows nextToken to the end.
    pages = list(client.get_paginator("search_cases").paginate(domainId=f.d, PaginationConfig={"PageSize": 4}))
    assert [len(p["cases"]) for p in pages] == [4, 2]
    assert len({c["caseId"] for p in pages for c in p["cases"]}) == 6
    assert all(p["totalCount"] == 6 for p in pages)


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
