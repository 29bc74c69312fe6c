"""clientToken under concurrency, for every operation that takes one (CreateCase, BatchUpdateCase,
BatchCreateRelatedItem): N requests sent at once with one token either carry N different bodies
(exactly one is applied; the others are ConflictException and write nothing) or one body (all
succeed with the same response, and the work is done once). What was written is counted three
ways: the API's own reads, the cases' audit histories and the event feed."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import Feed, code, comment, s, wait_until

N = 10
TOKEN = "one-token"


def at_once(server, calls):
    """Sends calls[i](client) all at once, each on its own thread with its own boto3 client.
    Returns per call ("ok", response without its metadata) or ("error", error code)."""
    clients = [server.client() for _ in calls]
    start = threading.Barrier(len(calls))

    def run(i):
        start.wait()
        try:
            out = calls[i](clients[i])
            out.pop("ResponseMetadata", None)
            return "ok", out
        except ClientError as e:
            return "error", e.response["Error"]["Code"]

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))


def one_winner(results):
    """The index of the only success; every other call must have been a ConflictException."""
    winners = [i for i, (kind, _) in enumerate(results) if kind == "ok"]
    assert len(winners) == 1, results
    losers = [out for kind, out in results if kind == "error"]
    assert losers == ["ConflictException"] * (len(results) - 1), results
    return winners[0]


def all_alike(results):
    """Every call succeeded with the same response; returns it."""
    assert [kind for kind, _ in results] == ["ok"] * len(results), results
    first = results[0][1]
    assert all(out == first for _, out in results), results
    return first


class Fixture:
    """A domain sending events, with a Text field "Notes", a template and three cases, and the
    event feed read from its start."""

    def __init__(self, server):
        self.server = server
        self.c = server.client()
        self.d = self.c.create_domain(name="tokens")["domainId"]
        self.c.put_case_event_configuration(domainId=self.d, eventBridge={
            "enabled": True,
            "includedData": {"caseData": {"fields": [{"id": "title"}]},
                             "relatedItemData": {"includeContent": True}},
        })
        self.notes = self.c.create_field(domainId=self.d, name="Notes", type="Text")["fieldId"]
        self.t = self.c.create_template(domainId=self.d, name="T")["templateId"]
        self.cases = [self.create(f"case {i}") for i in range(3)]
        self.feed = Feed(server, after=0)
        assert self.feed.status == 200

    def create(self, title, client=None, **kw):
        return (client or self.c).create_case(domainId=self.d, templateId=self.t,
                                              fields=[{"id": "title", "value": s(title)}], **kw)["caseId"]

    def get(self, case_id, *ids):
        out = self.c.get_case(domainId=self.d, caseId=case_id, fields=[{"id": i} for i in ids])
        return {f["id"]: f["value"] for f in out["fields"]}

    def audit_types(self, case_id):
        events = self.c.get_case_audit_events(domainId=self.d, caseId=case_id)["auditEvents"]
        return sorted(e["type"] for e in events)

    def count_cases(self):
        return self.c.search_cases(domainId=self.d)["totalCount"]

    def comments(self, case_id):
        items = self.c.search_related_items(domainId=self.d, caseId=case_id)["relatedItems"]
        return [i["content"]["comment"]["body"] for i in items]

    def events(self):
        """Every event of the domain so far (the fixture's own included). Events arrive in commit
        order, so once a case created now shows up, every earlier one has."""
        marker = self.create("marker")
        wait_until(lambda: any(e["detail"].get("case", {}).get("caseId") == marker
                               for _, e in self.feed.messages), what="the marker's event")
        out = []
        for _, e in self.feed.messages:
            if e["detail"].get("case", {}).get("caseId") == marker:
                return out
            out.append(e["detail"])
        raise AssertionError("unreachable: the marker was seen")

    def close(self):
        self.feed.close()


@pytest.fixture
def f(server):
    fx = Fixture(server)
    yield fx
    fx.close()


@pytest.mark.parametrize("identical", [False, True], ids=["different-bodies", "identical-bodies"])
def test_batch_update_case_applies_once(f, server, identical):
    def body(i):
        k = 0 if identical else i
        return dict(domainId=f.d, cases=[{"caseIdentifier": {"caseId": c}} for c in f.cases],
                    fields=[{"fieldIdentifier": {"id": f.notes}, "value": s(f"notes {k}")}],
                    title=f"title {k}", clientToken=TOKEN)

    results = at_once(server, [lambda c, i=i: c.batch_update_case(**body(i)) for i in range(N)])
    if identical:
        response, winner = all_alike(results), 0
    else:
        winner = one_winner(results)
        response = results[winner][1]
    assert response["failedCases"] == []
    assert [e["caseIdentifier"]["caseId"] for e in response["successfulCases"]] == f.cases

    for case in f.cases:
        assert f.get(case, "title", f.notes) == {"title": s(f"title {winner}"), f.notes: s(f"notes {winner}")}
        assert f.audit_types(case) == ["Case.Created", "Case.Updated"]
    updates = [e for e in f.events() if e["eventType"] == "CASE.UPDATED"]
    assert sorted(e["case"]["caseId"] for e in updates) == sorted(f.cases)
    assert all(e["case"]["fields"]["title"] == {"value": s(f"title {winner}")} for e in updates)

    # Afterwards the token still answers the winner's request with its response, and nothing else.
    again = f.c.batch_update_case(**body(winner))
    again.pop("ResponseMetadata")
    assert again == response
    with pytest.raises(ClientError) as e:
        f.c.batch_update_case(**dict(body(winner), title="another title"))
    assert code(e) == "ConflictException"
    assert all(f.audit_types(case) == ["Case.Created", "Case.Updated"] for case in f.cases)


@pytest.mark.parametrize("identical,n", [(False, N), (True, 2 * N)], ids=["different-bodies", "identical-bodies"])
def test_create_case_creates_one_case(f, server, identical, n):
    before = f.count_cases()
    title = (lambda i: "new") if identical else (lambda i: f"new {i}")
    results = at_once(server, [lambda c, i=i: {"caseId": f.create(title(i), c, clientToken=TOKEN)}
                               for i in range(n)])
    if identical:
        case, winner = all_alike(results)["caseId"], 0
    else:
        winner = one_winner(results)
        case = results[winner][1]["caseId"]

    assert f.count_cases() == before + 1
    assert f.get(case, "title") == {"title": s(title(winner))}
    assert f.audit_types(case) == ["Case.Created"]
    created = [e["case"]["caseId"] for e in f.events() if e["eventType"] == "CASE.CREATED"]
    assert created == f.cases + [case]


@pytest.mark.parametrize("identical", [False, True], ids=["different-bodies", "identical-bodies"])
def test_batch_create_related_item_adds_one_set_of_items(f, server, identical):
    def body(i):
        return dict(domainId=f.d, cases=[{"caseIdentifier": {"caseId": c}} for c in f.cases],
                    content=comment("same" if identical else f"comment {i}"), clientToken=TOKEN)

    results = at_once(server, [lambda c, i=i: c.batch_create_related_item(**body(i)) for i in range(N)])
    if identical:
        response, winner = all_alike(results), 0
    else:
        winner = one_winner(results)
        response = results[winner][1]
    assert response["failedItems"] == []
    items = {e["caseIdentifier"]["caseId"]: e["relatedItemId"] for e in response["successfulItems"]}
    assert sorted(items) == sorted(f.cases)

    want = "same" if identical else f"comment {winner}"
    for case in f.cases:
        assert f.comments(case) == [want]
        assert f.audit_types(case) == ["Case.Created", "RelatedItem.Created"]
    created = [e["relatedItem"] for e in f.events() if e["eventType"] == "RELATED_ITEM.CREATED"]
    assert sorted((i["caseId"], i["relatedItemId"]) for i in created) == sorted(items.items())
    assert all(i["comment"]["body"] == want for i in created)
