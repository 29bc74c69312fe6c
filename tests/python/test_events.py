"""Case event configuration and local event delivery: the SSE feed (`GET /_caseload/events`) and
webhooks (`--webhook`), driven by boto3 calls, including across server restarts."""

import hashlib
import hmac
import http.server
import json
import subprocess
import threading
import time

import pytest

from conftest import (AGENT, PG_ADMIN_URL, Feed, Server, _pg_url, binary, comment, pg_create_database,
                      pg_drop_database, s, wait_until)

SECRET = "webhook-s3cret"
CONTACT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/c-1"


class Receiver:
    """A webhook receiver on a free port: records every delivery; answers 500 while `failing`."""

    def __init__(self):
        self.deliveries = []  # (headers, raw body) of accepted deliveries
        self.refused = 0
        self.failing = False
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failing:
                    receiver.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self):
        return [json.loads(b) for _, b in self.deliveries]

    def unique_ids(self):
        """Event ids in first-delivery order (delivery is at least once)."""
        out = []
        for e in self.events():
            if e["id"] not in out:
                out.append(e["id"])
        return out

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def start(data_dir, receiver, *extra):
    return Server("--data-dir", data_dir, "--webhook", receiver.url, "--webhook-secret", SECRET, *extra)


def setup_domain(c, included=None):
    d = c.create_domain(name="events")["domainId"]
    config = {"enabled": True}
    if included is not None:
        config["includedData"] = included
    c.put_case_event_configuration(domainId=d, eventBridge=config)
    t = c.create_template(domainId=d, name="T")["templateId"]
    return d, t


def check_signature(headers, body):
    want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-caseload-signature"] == want


def test_configuration_round_trips_what_the_rust_sdk_lacks_and_the_cli_reads_it(server, client):
    # aws-sdk-connectcases has no autoIncludeFields; the rest of the configuration's rules are
    # tested through it (related.rs).
    d = client.create_domain(name="cfg")["domainId"]
    config = {
        "enabled": True,
        "includedData": {
            "caseData": {"fields": [{"id": "title"}], "autoIncludeFields": "System"},
            "relatedItemData": {"includeContent": True},
        },
    }
    client.put_case_event_configuration(domainId=d, eventBridge=config)
    assert client.get_case_event_configuration(domainId=d)["eventBridge"] == config
    rc, out, err = server.aws_cli("get-case-event-configuration", "--domain-id", d)
    assert rc == 0, err
    # The CLI's own (older) model has no autoIncludeFields either: it drops the member.
    cli = json.loads(out)["eventBridge"]
    assert cli["enabled"] is True and cli["includedData"]["caseData"]["fields"] == [{"id": "title"}]


def test_webhook_and_feed_see_the_same_ordered_events_across_restarts(data_dir, receiver):
    server = start(data_dir, receiver)
    try:
        c = server.client()
        d, t = setup_domain(c, {
            "caseData": {"fields": [{"id": "title"}]},
            "relatedItemData": {"includeContent": True},
        })
        feed = Feed(server, after=0)
        assert feed.status == 200
        case = c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("first")}],
                             performedBy={"userArn": AGENT})["caseId"]
        c.update_case(domainId=d, caseId=case, fields=[{"id": "title", "value": s("second")}])
        item = c.create_related_item(domainId=d, caseId=case, type="Comment",
                                     content=comment("hello"))["relatedItemId"]
        c.update_related_item(domainId=d, caseId=case, relatedItemId=item,
                              content=comment("hello again"))
        c.delete_related_item(domainId=d, caseId=case, relatedItemId=item)
        other = c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("other")}])["caseId"]
        c.delete_case(domainId=d, caseId=other)
        expected = ["CASE.CREATED", "CASE.UPDATED", "RELATED_ITEM.CREATED", "RELATED_ITEM.UPDATED",
                    "RELATED_ITEM.DELETED", "CASE.CREATED", "CASE.DELETED"]
        wait_until(lambda: len(feed.messages) >= 7 and len(receiver.unique_ids()) >= 7, what="7 events")
        events = [e for _, e in feed.messages]
        assert [e["detail"]["eventType"] for e in events] == expected
        assert receiver.unique_ids() == feed.ids()
        seqs = [i for i, _ in feed.messages]
        assert seqs == sorted(seqs) and len(set(seqs)) == 7

        for headers, body in receiver.deliveries:
            check_signature(headers, body)
            assert headers["content-type"] == "application/json"
        # The feed and the webhook carry the same bytes.
        first_body = receiver.deliveries[0][1]
        assert json.loads(first_body) == events[0]

        created, updated = events[0], events[1]
        assert created["source"] == "aws.cases"
        assert created["detail-type"] == "Amazon Connect Cases Change"
        assert created["account"] == "000000000000" and created["region"] == "us-east-1"
        assert created["resources"] == [
            f"arn:aws:cases:us-east-1:000000000000:domain/{d}",
            f"arn:aws:cases:us-east-1:000000000000:domain/{d}/case/{case}",
        ]
        assert created["detail"]["case"]["caseId"] == case
        assert created["detail"]["case"]["templateId"] == t
        assert created["detail"]["case"]["fields"] == {"title": {"value": s("first")}}
        assert created["detail"]["performedBy"]["user"] == {"userArn": AGENT}
        assert created["detail"]["performedBy"]["iamPrincipalArn"].startswith("arn:aws:iam::000000000000:")
        assert "title" in created["detail"]["changedFieldIds"]
        assert updated["detail"]["case"]["fields"] == {"title": {"value": s("second")}}
        assert sorted(updated["detail"]["changedFieldIds"]) == ["last_updated_datetime", "title"]
        ri = events[2]["detail"]
        assert ri["relatedItem"]["relatedItemType"] == "Comment"
        assert ri["relatedItem"]["caseId"] == case
        assert ri["relatedItem"]["comment"] == comment("hello")["comment"]
        assert events[2]["resources"][1].endswith(f"/case/{case}/related-item/{item}")
        assert events[3]["detail"]["changedAttributes"] == ["comment.body"]
        assert events[3]["detail"]["relatedItem"]["comment"]["body"] == "hello again"
        assert events[6]["detail"]["case"]["caseId"] == other
        last_seen = seqs[-1]
        feed.close()
    finally:
        assert server.stop() == 0

    # Restart on the same data: the feed resumes after the last id it saw, the webhook where its
    # saved position was; nothing is replayed twice on the feed, nothing is lost.
    server = start(data_dir, receiver)
    try:
        c = server.client()
        feed = Feed(server, after=last_seen)
        c.update_case(domainId=d, caseId=case, fields=[{"id": "title", "value": s("third")}])
        c.create_related_item(domainId=d, caseId=case, type="Contact", content={"contact": {"contactArn": CONTACT}})
        wait_until(lambda: len(feed.messages) >= 2 and len(receiver.unique_ids()) >= 9, what="2 more events")
        time.sleep(0.3)
        assert [e["detail"]["eventType"] for _, e in feed.messages] == ["CASE.UPDATED", "RELATED_ITEM.CREATED"]
        assert all(i > last_seen for i, _ in feed.messages)
        assert receiver.unique_ids()[7:] == feed.ids()
        feed.close()

        # A receiver that is down gets everything, in order, once it is back; the API is not
        # held up meanwhile.
        receiver.failing = True
        began = time.time()
        for n in range(3):
            c.update_case(domainId=d, caseId=case, fields=[{"id": "title", "value": s(f"down {n}")}])
        assert time.time() - began < 5
        wait_until(lambda: receiver.refused >= 2, what="refused deliveries")
        # Killed without a chance to flush: the outbox is durable, so the events survive.
        server.kill()
    finally:
        if server.proc.poll() is None:
            server.stop()

    receiver.failing = False
    server = start(data_dir, receiver)
    try:
        # On PostgreSQL the killed server still held the webhook's lease: the restarted one takes
        # over when it runs out (up to 15 s, then its next ask within 4 s).
        wait_until(lambda: len(receiver.unique_ids()) >= 12, timeout=30,
                   what="the events held while the receiver was down")
        titles = [e["detail"]["case"]["fields"]["title"]["value"]["stringValue"]
                  for e in receiver.events() if e["detail"]["eventType"] == "CASE.UPDATED"]
        deduped = [t for i, t in enumerate(titles) if i == 0 or t != titles[i - 1]]
        assert deduped[-3:] == ["down 0", "down 1", "down 2"]
        # And a feed that resumes from the start of the retained outbox sees the same order.
        feed = Feed(server, after=0)
        wait_until(lambda: len(feed.messages) >= 12, what="the replayed feed")
        assert feed.ids() == receiver.unique_ids()
        feed.close()
    finally:
        server.stop()


def test_events_flow_only_while_enabled(data_dir, receiver):
    server = start(data_dir, receiver)
    try:
        c = server.client()
        d = c.create_domain(name="quiet")["domainId"]
        t = c.create_template(domainId=d, name="T")["templateId"]
        feed = Feed(server)
        c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("unheard")}])
        c.put_case_event_configuration(domainId=d, eventBridge={"enabled": True})
        heard = c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("heard")}])["caseId"]
        c.put_case_event_configuration(domainId=d, eventBridge={"enabled": False})
        c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("unheard")}])
        wait_until(lambda: len(feed.messages) >= 1 and len(receiver.deliveries) >= 1, what="one event")
        time.sleep(0.5)
        assert [e["detail"]["case"]["caseId"] for _, e in feed.messages] == [heard]
        assert receiver.unique_ids() == feed.ids()
        # Without includedData an event carries metadata only.
        assert "fields" not in feed.messages[0][1]["detail"]["case"]
        feed.close()
    finally:
        server.stop()


def test_feed_requires_a_signature_and_shows_only_the_callers_account(tmp_path, data_dir, receiver):
    creds = tmp_path / "ids.toml"
    creds.write_text(
        "[[identity]]\naccess_key_id = 'test'\nsecret_access_key = 'test'\naccount_id = '000000000000'\n"
        "[[identity]]\naccess_key_id = 'other'\nsecret_access_key = 'other'\naccount_id = '111111111111'\n")
    server = start(data_dir, receiver, "--credentials", str(creds))
    try:
        status, headers, body = server.raw("GET", "/_caseload/events", sign=False)
        assert status == 403
        assert headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException")
        status, _, body = server.raw("GET", "/_caseload/events", sign=True, secret="wrong")
        assert status == 403
        bad = Feed(server, after="x")
        assert bad.status == 400
        mine, theirs = Feed(server, after=0), Feed(server, after=0, key="other", secret="other")
        for key, secret in (("test", "test"), ("other", "other")):
            c = server.client(key=key, secret=secret)
            d, t = setup_domain(c)
            c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s(key)}])
        wait_until(lambda: mine.messages and theirs.messages, what="events on both feeds")
        time.sleep(0.3)
        assert {e["account"] for _, e in mine.messages} == {"000000000000"}
        assert {e["account"] for _, e in theirs.messages} == {"111111111111"}
        # The webhook is the operator's: it gets every account's events.
        wait_until(lambda: len(receiver.unique_ids()) >= 2, what="both events on the webhook")
        mine.close()
        theirs.close()
    finally:
        # Open feeds must not hold up a graceful shutdown.
        assert server.stop() == 0


def test_webhook_needs_a_secret_and_an_http_url(data_dir):
    p = subprocess.run([binary(), "serve", "--in-memory", "--listen", "127.0.0.1:0", "--webhook", "http://127.0.0.1:9/"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "--webhook-secret" in p.stderr
    p = subprocess.run([binary(), "serve", "--in-memory", "--listen", "127.0.0.1:0", "--webhook", "https://example.com/",
                        "--webhook-secret", "x"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "https is not supported" in p.stderr


def test_a_feed_without_a_position_starts_with_the_next_event(server, client):
    d, t = setup_domain(client)
    client.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("before")}])
    time.sleep(0.2)
    feed = Feed(server)
    after = client.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("after")}])["caseId"]
    wait_until(lambda: feed.messages, what="the event after connecting")
    time.sleep(0.3)
    assert [e["detail"]["case"]["caseId"] for _, e in feed.messages] == [after]
    feed.close()


def _psql(url, sql):
    p = subprocess.run(["psql", "-qtA", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       check=True, capture_output=True, text=True)
    return p.stdout.strip()


@pytest.mark.skipif(not PG_ADMIN_URL, reason="servers share a database only on PostgreSQL")
def test_servers_sharing_a_database_deliver_each_event_once(tmp_path, receiver):
    """Three servers on one database, each given the same webhook: one at a time holds its
    lease and delivers, so every event arrives exactly once while no server dies; when the
    holder stops, another takes over from where it got."""
    name = pg_create_database()
    url = _pg_url(name)
    # Two share a node name: their leases must still be their own.
    nodes = ["n0", "twin", "twin"]
    servers = []
    try:
        for i, node in enumerate(nodes):
            servers.append(Server("--database-url", url, "--data-dir", str(tmp_path / f"index-{i}"),
                                  "--node-name", node, "--webhook", receiver.url, "--webhook-secret", SECRET))
        # The first holder fixes the URL's starting position (the outbox's end) before any event.
        wait_until(lambda: _psql(url, "SELECT count(seq) FROM event_deliveries") == "1", what="a holder")
        clients = [srv.client() for srv in servers]
        d, t = setup_domain(clients[0])
        cases = [clients[i % 3].create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s(f"c{i}")}])
                 ["caseId"] for i in range(30)]
        wait_until(lambda: len(receiver.unique_ids()) >= 30, timeout=30, what="30 events")
        time.sleep(1.5)  # room for a duplicate to show up
        seqs = [int(h["x-caseload-event-seq"]) for h, _ in receiver.deliveries]
        assert len(receiver.deliveries) == 30, "an event was delivered twice"
        assert seqs == sorted(seqs)
        assert [e["detail"]["case"]["caseId"] for e in receiver.events()] == cases
        for headers, body in receiver.deliveries:
            check_signature(headers, body)

        # The holder (or both twins, when it is one of them) stops; another server carries on.
        holder = _psql(url, "SELECT holder FROM event_deliveries")
        assert holder.split("/")[0] in nodes and "/" in holder
        staying = [srv for srv, node in zip(servers, nodes) if node != holder.split("/")[0]]
        for srv, node in zip(servers, nodes):
            if node == holder.split("/")[0]:
                assert srv.stop() == 0
        servers = staying
        later = [servers[0].client().create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s(f"l{i}")}])
                 ["caseId"] for i in range(5)]
        wait_until(lambda: len(receiver.unique_ids()) >= 35, timeout=30, what="the events after the takeover")
        time.sleep(1.5)
        assert len(receiver.deliveries) == 35, "an event was delivered twice"
        assert [e["detail"]["case"]["caseId"] for e in receiver.events()] == cases + later
        assert _psql(url, "SELECT split_part(holder, '/', 1) FROM event_deliveries") != holder.split("/")[0]
    finally:
        for srv in servers:
            if srv.proc.poll() is None:
                srv.stop()
        pg_drop_database(name)
