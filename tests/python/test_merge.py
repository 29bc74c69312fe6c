"""StartMergeCases and GetMergeCasesStatus as boto3 sees them (the AWS CLI bundled here predates
them): the merged values, moved related items, links, the closed secondary, Case.Merged audit
events, the status moving to COMPLETED, conflicts while a merge runs, every refusal, and a merge
that survives a restart."""

import time

import pytest

from conftest import EMPTY, Server, comment, message, s

PROFILE_A = "arn:aws:profile:us-east-1:000000000000:domains/d/profiles/a"
PROFILE_B = "arn:aws:profile:us-east-1:000000000000:domains/d/profiles/b"
CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/c-{}"
FILE = "arn:aws:connect:us-east-1:000000000000:instance/i-1/file/f-1"


class Fixture:
    """A domain with three custom Text fields and a template."""

    def __init__(self, client):
        self.c = client
        self.d = client.create_domain(name="merge")["domainId"]
        self.a, self.b, self.x = (client.create_field(domainId=self.d, name=n, type="Text")["fieldId"]
                                  for n in ("A", "B", "X"))
        self.t = client.create_template(domainId=self.d, name="T")["templateId"]

    def fid(self, name):
        """The id of field `name`: a, b and x are the custom fields, anything else a system id."""
        return {"a": self.a, "b": self.b, "x": self.x}.get(name, name)

    def case(self, title, tags=None, **values):
        fields = [{"id": "title", "value": s(title)}] + [
            {"id": self.fid(k), "value": v} for k, v in values.items()]
        return self.c.create_case(domainId=self.d, templateId=self.t, fields=fields,
                                  **({"tags": tags} if tags else {}))["caseId"]

    def get(self, case_id, *ids):
        out = self.c.get_case(domainId=self.d, caseId=case_id, fields=[{"id": self.fid(i)} for i in ids])
        return {f["id"]: f["value"] for f in out["fields"]}

    def merge(self, primary, secondary, fields=(), related=None, **kw):
        config = {}
        if fields:
            config["fieldsConfiguration"] = [{"sourceCaseId": secondary,
                                              "fieldIds": [{"id": self.fid(f)} for f in fields]}]
        if related is not None:
            config["relatedItemsConfiguration"] = related
        return self.c.start_merge_cases(domainId=self.d, caseId=primary, secondaryCaseIds=[secondary],
                                        **config, **kw)

    def status(self, case_id):
        return self.c.get_merge_cases_status(domainId=self.d, caseId=case_id)

    def wait_completed(self, secondary, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.status(secondary)
            if st["status"] == "COMPLETED":
                return st
            assert st["status"] == "IN_PROGRESS"
            time.sleep(0.05)
        raise AssertionError("the merge did not complete")

    def comment(self, case_id, body):
        return self.c.create_related_item(domainId=self.d, caseId=case_id, type="Comment",
                                          content=comment(body))

    def items(self, case_id):
        out = self.c.search_related_items(domainId=self.d, caseId=case_id)["relatedItems"]
        return sorted((i["type"], i["relatedItemId"]) for i in out)


@pytest.fixture
def f(client):
    return Fixture(client)


def test_a_merge_copies_moves_links_and_closes(f, client):
    p = f.case("primary", a=s("p-a"), summary=s("p-summary"))
    q = f.case("secondary", a=s("q-a"), b=s("q-b"), x=s("q-x"), summary=s("q-summary"),
               customer_id=s(PROFILE_A))
    q_comment = f.comment(q, "from the secondary")["relatedItemId"]
    q_contact = client.create_related_item(domainId=f.d, caseId=q, type="Contact",
                                           content={"contact": {"contactArn": CONTACT.format(1)}})["relatedItemId"]
    q_file = client.create_related_item(domainId=f.d, caseId=q, type="File",
                                        content={"file": {"fileArn": FILE}})["relatedItemId"]

    assert f.merge(p, q, fields=["a", "summary"], related={"comment": True, "contact": True},
                   performedBy={"customEntity": "merger"})["ResponseMetadata"]["HTTPStatusCode"] == 200
    st = f.wait_completed(q)
    assert st == {"status": "COMPLETED", "primaryCaseId": p, "secondaryCaseIds": [q],
                  "ResponseMetadata": st["ResponseMetadata"]}
    # The primary of a finished merge is "not found", like any case outside a merge.
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        f.status(p)
    assert e.value.response["resourceType"] == "Case" and e.value.response["resourceId"] == p

    # Selected fields come from the secondary; others keep the primary's value or fill its gaps.
    # customer_id is not among the system fields a merge copies.
    got = f.get(p, "title", "a", "b", "x", "summary", "customer_id", "status")
    assert got == {"title": s("primary"), f.a: s("q-a"), f.b: s("q-b"), f.x: s("q-x"),
                   "summary": s("q-summary"), "status": s("open")}
    closed = f.get(q, "status", "last_closed_datetime", f.a)
    assert closed["status"] == s("closed") and "last_closed_datetime" in closed
    assert closed[f.a] == s("q-a")

    # Comments and contacts moved (same ids); the file stayed; the cases link each other.
    p_items = client.search_related_items(domainId=f.d, caseId=p)["relatedItems"]
    by_type = {}
    for i in p_items:
        by_type.setdefault(i["type"], []).append(i)
    assert [i["relatedItemId"] for i in by_type["Comment"]] == [q_comment]
    assert by_type["Comment"][0]["content"]["comment"]["body"] == "from the secondary"
    assert [i["relatedItemId"] for i in by_type["Contact"]] == [q_contact]
    q_items = client.search_related_items(domainId=f.d, caseId=q)["relatedItems"]
    assert {i["relatedItemId"] for i in q_items if i["type"] == "File"} == {q_file}
    links = [i for i in p_items if "connectCase" in i["content"]]
    assert [i["content"]["connectCase"]["caseId"] for i in links] == [q]
    back = [i for i in q_items if "connectCase" in i["content"]]
    assert [i["content"]["connectCase"]["caseId"] for i in back] == [p]

    # Both cases record the merge with one mergeEventId.
    events = {c: client.get_case_audit_events(domainId=f.d, caseId=c)["auditEvents"][0] for c in (p, q)}
    for c, e in events.items():
        assert e["type"] == "Case.Merged"
        assert e["mergeMetadata"]["primaryCaseId"] == p and e["mergeMetadata"]["secondaryCaseId"] == q
        assert e["performedBy"]["user"] == {"customEntity": "merger"}
    assert events[p]["mergeMetadata"]["mergeEventId"] == events[q]["mergeMetadata"]["mergeEventId"]
    changed = {x["eventFieldId"]: x for x in events[p]["fields"]}
    assert changed[f.a]["oldValue"] == s("p-a") and changed[f.a]["newValue"] == s("q-a")
    assert {x["eventFieldId"] for x in events[q]["fields"]} >= {"status", "last_closed_datetime"}

    # Search sees the merged values at once.
    found = client.search_cases(domainId=f.d, filter={"field": {"equalTo": {"id": f.b, "value": s("q-b")}}})
    assert sorted(c["caseId"] for c in found["cases"]) == sorted([p, q])

    # Afterwards the secondary can be reopened and changed, but never merged again.
    client.update_case(domainId=f.d, caseId=q, fields=[{"id": "status", "value": s("open")}])
    other = f.case("other")
    for primary, secondary in [(other, q), (q, other)]:
        with pytest.raises(client.exceptions.ConflictException) as e:
            f.merge(primary, secondary)
        assert message(e) == f"Case {q} was merged into case {p} and cannot be merged again"
    # The primary can take part in another merge.
    f.merge(p, other)
    f.wait_completed(other)
    client.delete_case(domainId=f.d, caseId=q)


def test_unselected_related_items_stay_and_duplicates_merge():
    server = Server()
    try:
        c = server.client()
        f = Fixture(c)
        # Related items carry their case's tags.
        p, q, z = f.case("p", tags={"a": "1"}), f.case("q", tags={"a": "2", "b": "3"}), f.case("z")
        p_contact = c.create_related_item(domainId=f.d, caseId=p, type="Contact",
                                          content={"contact": {"contactArn": CONTACT.format(1)}})["relatedItemId"]
        q_twin = c.create_related_item(domainId=f.d, caseId=q, type="Contact",
                                       content={"contact": {"contactArn": CONTACT.format(1)}})["relatedItemId"]
        link = lambda case, to: c.create_related_item(domainId=f.d, caseId=case, type="ConnectCase",
                                                      content={"connectCase": {"caseId": to}})["relatedItemId"]
        link(p, z)
        q_dup_link = link(q, z)
        q_comment = f.comment(q, "stays")["relatedItemId"]
        f.merge(p, q, related={"contact": True, "connectCase": True, "comment": False})
        f.wait_completed(q)
        p_items = {i["relatedItemId"]: i for i in c.search_related_items(domainId=f.d, caseId=p)["relatedItems"]}
        q_items = {i["relatedItemId"]: i for i in c.search_related_items(domainId=f.d, caseId=q)["relatedItems"]}
        # The twin contact stays on the secondary; the primary's gains the tag keys it lacked.
        assert q_twin in q_items and p_contact in p_items
        assert p_items[p_contact]["tags"] == {"a": "1", "b": "3"}
        # The secondary's duplicate link is removed; the unselected comment stays.
        assert q_dup_link not in q_items and q_dup_link not in p_items
        assert q_comment in q_items
    finally:
        server.stop()


def test_a_running_merge_holds_its_cases():
    server = Server("--merge-delay-ms", "3000")
    try:
        c = server.client()
        f = Fixture(c)
        p, q, other = f.case("p", a=s("before")), f.case("q", a=s("q-a")), f.case("other")
        q_comment = f.comment(q, "before the merge")["relatedItemId"]
        f.merge(p, q)
        for case in (p, q):
            assert f.status(case)["status"] == "IN_PROGRESS"
            assert f.status(case)["primaryCaseId"] == p and f.status(case)["secondaryCaseIds"] == [q]
        # The secondary and its related items are read-only; neither case can be deleted.
        with pytest.raises(c.exceptions.ConflictException) as e:
            c.update_case(domainId=f.d, caseId=q, fields=[{"id": "title", "value": s("x")}])
        assert message(e) == f"Case {q} is being merged into case {p} and cannot be changed until the merge completes"
        out = c.batch_update_case(domainId=f.d, cases=[{"caseIdentifier": {"caseId": q}},
                                                      {"caseIdentifier": {"caseId": other}}],
                                  fields=[], title="batch")
        assert out["failedCases"][0]["caseIdentifier"]["caseId"] == q
        assert out["failedCases"][0]["errorCode"] == "CONFLICT"
        with pytest.raises(c.exceptions.ConflictException):
            f.comment(q, "not now")
        with pytest.raises(c.exceptions.ConflictException):
            c.update_related_item(domainId=f.d, caseId=q, relatedItemId=q_comment,
                                  content=comment("edited"))
        with pytest.raises(c.exceptions.ConflictException):
            c.delete_related_item(domainId=f.d, caseId=q, relatedItemId=q_comment)
        out = c.batch_create_related_item(domainId=f.d, cases=[{"caseIdentifier": {"caseId": q}},
                                                               {"caseIdentifier": {"caseId": other}}],
                                          content=comment("b"))
        assert [x["caseIdentifier"]["caseId"] for x in out["successfulItems"]] == [other]
        assert [(x["caseIdentifier"]["caseId"], x["errorCode"]) for x in out["failedItems"]] == [(q, "CONFLICT")]
        for case in (p, q):
            with pytest.raises(c.exceptions.ConflictException) as e:
                c.delete_case(domainId=f.d, caseId=case)
            assert "merge that is running" in message(e)
        # Neither can join another merge.
        for primary, secondary in [(other, p), (q, other), (p, other)]:
            with pytest.raises(c.exceptions.ConflictException) as e:
                f.merge(primary, secondary)
            assert "already part of a merge that is running" in message(e)
        # The primary stays writable, and the merge reads it when it runs.
        c.update_case(domainId=f.d, caseId=p, fields=[{"id": f.a, "value": EMPTY}])
        f.comment(p, "fine")
        f.wait_completed(q)
        assert f.get(p, "a") == {f.a: s("q-a")}
        c.update_case(domainId=f.d, caseId=q, fields=[{"id": "title", "value": s("x")}])
    finally:
        server.stop()


def test_refusals(f, client):
    p, q = f.case("p"), f.case("q")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        f.merge(p, "missing")
    assert e.value.response["resourceType"] == "Case" and e.value.response["resourceId"] == "missing"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        f.merge("missing", q)
    assert e.value.response["resourceId"] == "missing"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.start_merge_cases(domainId="nope", caseId=p, secondaryCaseIds=[q])
    assert e.value.response["resourceType"] == "Domain"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        f.status(p)
    assert message(e) == f"Case {p} is not part of a running merge and was not merged into another case"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        f.status("missing")
    assert e.value.response["resourceType"] == "Case" and e.value.response["resourceId"] == "missing"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.get_merge_cases_status(domainId="nope", caseId=p)
    assert e.value.response["resourceType"] == "Domain"

    checks = [
        (lambda: f.merge(p, p), f"secondaryCaseIds: case {p} cannot be merged into itself"),
        (lambda: f.merge(p, q, fields=["title"]),
         "fieldsConfiguration[0].fieldIds[0].id: field 'title' cannot be merged; only custom fields and "
         "assigned_queue, assigned_user, summary, case_reason can"),
        (lambda: f.merge(p, q, fields=["a"]),
         f"fieldsConfiguration[0].fieldIds[0].id: the secondary case {q} has no field '{f.a}'"),
        (lambda: f.merge(p, q, fields=["nope"]),
         "fieldsConfiguration[0].fieldIds[0].id: field 'nope' does not exist in this domain"),
        (lambda: client.start_merge_cases(domainId=f.d, caseId=p, secondaryCaseIds=[q], fieldsConfiguration=[
            {"sourceCaseId": p, "fieldIds": [{"id": "summary"}]}]),
         f"fieldsConfiguration[0].sourceCaseId: the values are taken from the secondary case {q}, not {p}"),
        (lambda: client.start_merge_cases(domainId=f.d, caseId=p, secondaryCaseIds=[q], fieldsConfiguration=[
            {"sourceCaseId": q, "fieldIds": []}, {"sourceCaseId": q, "fieldIds": []}]),
         "fieldsConfiguration: give at most one entry, for the secondary case"),
    ]
    for call, expected in checks:
        with pytest.raises(client.exceptions.ValidationException) as e:
            call()
        assert message(e) == expected
    client.update_case(domainId=f.d, caseId=q, fields=[{"id": f.a, "value": s("x")}, {"id": f.b, "value": s("y")}])
    with pytest.raises(client.exceptions.ValidationException) as e:
        f.merge(p, q, fields=["a", "b", "a"])
    assert message(e) == f"fieldsConfiguration[0].fieldIds[2].id: field '{f.a}' is listed more than once"

    client.update_case(domainId=f.d, caseId=q, fields=[{"id": "status", "value": s("closed")}])
    with pytest.raises(client.exceptions.ValidationException) as e:
        f.merge(p, q)
    assert message(e) == f"Case {q} is closed; closed cases cannot be merged"
    client.update_case(domainId=f.d, caseId=q, fields=[{"id": "status", "value": s("open")}])
    client.update_case(domainId=f.d, caseId=p, fields=[{"id": "customer_id", "value": s(PROFILE_A)}])
    client.update_case(domainId=f.d, caseId=q, fields=[{"id": "customer_id", "value": s(PROFILE_B)}])
    with pytest.raises(client.exceptions.ValidationException) as e:
        f.merge(p, q)
    assert "different customers" in message(e)
    # One customer and none is fine.
    client.update_case(domainId=f.d, caseId=q, fields=[{"id": "customer_id", "value": EMPTY}])
    f.merge(p, q)
    f.wait_completed(q)
    # Nothing was started by the refused requests.
    assert client.get_case_audit_events(domainId=f.d, caseId=p)["auditEvents"][0]["type"] == "Case.Merged"


def test_quotas_are_checked_before_the_merge_starts():
    server = Server("--max-related-items", "3")
    try:
        c = server.client()
        f = Fixture(c)
        p, q = f.case("p"), f.case("q")
        f.comment(p, "1")
        f.comment(p, "2")
        f.comment(q, "3")
        # Primary: 2 items + 1 moved + the link = 4 > 3.
        with pytest.raises(c.exceptions.ServiceQuotaExceededException) as e:
            f.merge(p, q, related={"comment": True})
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
        assert message(e) == f"After the merge, case {p} would have 4 related items; a case can have at most 3"
        # Without moving the comment: 2 + the link = 3.
        f.merge(p, q)
        f.wait_completed(q)
    finally:
        server.stop()


def test_at_most_500_field_values_after_a_merge():
    server = Server("--max-fields", "600")
    try:
        c = server.client()
        f = Fixture(c)
        ids = [c.create_field(domainId=f.d, name=f"F{i}", type="Boolean")["fieldId"] for i in range(500)]

        def fill(case_id, chosen):
            for start in range(0, len(chosen), 200):
                c.update_case(domainId=f.d, caseId=case_id, fields=[
                    {"id": i, "value": {"booleanValue": True}} for i in chosen[start:start + 200]])

        p, q = f.case("p"), f.case("q")
        fill(p, ids[:250])
        fill(q, ids[250:])
        with pytest.raises(c.exceptions.ValidationException) as e:
            f.merge(p, q)
        assert message(e).startswith(f"After the merge, case {p} would hold ")
        assert message(e).endswith("field values; a case holds at most 500")
    finally:
        server.stop()


def test_a_merge_recorded_before_a_restart_runs_after_it(data_dir):
    server = Server("--data-dir", data_dir, "--merge-delay-ms", "600000")
    try:
        c = server.client()
        f = Fixture(c)
        p, q = f.case("p"), f.case("q", b=s("q-b"))
        f.merge(p, q)
        assert f.status(q)["status"] == "IN_PROGRESS"
    finally:
        server.stop()
    server = Server("--data-dir", data_dir)
    try:
        f.c = server.client()
        f.wait_completed(q)
        assert f.get(p, "b") == {f.b: s("q-b")}
        assert f.get(q, "status") == {"status": s("closed")}
    finally:
        server.stop()
