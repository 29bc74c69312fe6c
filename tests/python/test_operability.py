"""Running a fleet: `GET /metrics` (Prometheus' text format) counting real boto3 calls, the node's
name in the metrics and in every log line, and JSON logs."""

import concurrent.futures
import json
import os
import re
import socket
import string
import threading
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import PG_ADMIN_URL, Server, s, wait_until
from test_durability import get, small_disk  # noqa: F401 (a fixture)

# One sample line of the text exposition format: name, optional {labels}, value.
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(server):
    """An unsigned GET /metrics: {(name, frozenset of labels): value}, after checking that every
    line is a comment or a well-formed sample."""
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, text


def buckets(samples, name, **labels):
    """A histogram's (le, cumulative count) pairs, in order of le."""
    found = []
    for (n, ls), v in samples.items():
        ls = dict(ls)
        le = ls.pop("le", None)
        if n == name + "_bucket" and ls == labels:
            found.append((float(le), v))
    return sorted(found)


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples, operation, status, error=""):
    return value(samples, "caseload_requests_total", operation=operation, status=str(status), error=error)


def latency_count(samples, operation):
    return value(samples, "caseload_request_duration_seconds_count", operation=operation)


@pytest.fixture
def node_server(data_dir):
    server = Server("--data-dir", data_dir, "--node-name", "node-7")
    yield server
    server.stop()


def test_a_call_moves_its_operation_and_outcome_by_exactly_one(node_server):
    c = node_server.client()
    d = c.create_domain(name="metrics")["domainId"]
    t = c.create_template(domainId=d, name="T")["templateId"]
    before, _ = scrape(node_server)

    case_id = c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s("private title 31337")}])["caseId"]
    with pytest.raises(ClientError) as missing:
        c.get_case(domainId=d, caseId="no-such-case", fields=[{"id": "title"}])
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as refused:
        node_server.client(secret="not-the-secret").get_domain(domainId=d)
    refused_code = refused.value.response["Error"]["Code"]

    after, text = scrape(node_server)
    assert requests(after, "CreateCase", 200) - requests(before, "CreateCase", 200) == 1
    assert latency_count(after, "CreateCase") - latency_count(before, "CreateCase") == 1
    assert requests(after, "GetCase", 404, "ResourceNotFoundException") - requests(before, "GetCase", 404, "ResourceNotFoundException") == 1
    assert latency_count(after, "GetCase") - latency_count(before, "GetCase") == 1
    # Refused before it ran (a bad signature): still counted under the operation its path names.
    assert requests(after, "GetDomain", 403, refused_code) - requests(before, "GetDomain", 403, refused_code) == 1
    # Every request so far is answered.
    assert value(after, "caseload_requests_in_flight") == 0
    # The histogram's buckets are cumulative up to +Inf, which equals the count.
    latency = buckets(after, "caseload_request_duration_seconds", operation="CreateCase")
    assert [c for _, c in latency] == sorted(c for _, c in latency)
    assert latency[-1] == (float("inf"), latency_count(after, "CreateCase"))
    # Labels carry names and codes, never what a request held.
    assert case_id not in text and "31337" not in text and d not in text
    assert value(after, "caseload_node_info", node="node-7") == 1


def test_the_store_reports_group_commits_its_pool_and_the_index_lag(node_server):
    c = node_server.client()
    d = c.create_domain(name="store")["domainId"]
    t = c.create_template(domainId=d, name="T")["templateId"]
    before, _ = scrape(node_server)
    for i in range(3):
        c.create_case(domainId=d, templateId=t, fields=[{"id": "title", "value": s(f"c{i}")}])
    after, _ = scrape(node_server)
    groups = "caseload_store_group_commit_writes_count"
    writes = "caseload_store_group_commit_writes_sum"
    # Each acknowledged CreateCase was committed in some group (the indexer's own writes may
    # share them or add groups).
    assert value(after, groups) > value(before, groups)
    assert value(after, writes) - value(before, writes) >= 3
    sizes = buckets(after, "caseload_store_group_commit_writes")
    assert [le for le, _ in sizes] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, float("inf")]
    assert [c for _, c in sizes] == sorted(c for _, c in sizes)
    assert sizes[-1][1] == value(after, groups)
    # SQLite: 4 read-only connections, all open; PostgreSQL: --database-pool-size (16), opened
    # as needed.
    pool = 16 if PG_ADMIN_URL else 4
    assert value(after, "caseload_store_pool_max_connections") == pool
    open_connections = (value(after, "caseload_store_pool_connections", state="in_use")
                        + value(after, "caseload_store_pool_connections", state="idle"))
    assert 1 <= open_connections <= pool if PG_ADMIN_URL else open_connections == pool

    # A search waits for the index to reach the writes before it; within a couple of samples
    # the lag reads zero.
    assert c.search_cases(domainId=d)["totalCount"] == 3

    def caught_up():
        now, _ = scrape(node_server)
        return (("caseload_index_lag_changes", frozenset()) in now
                and value(now, "caseload_index_lag_changes") == 0
                and value(now, "caseload_index_lag_seconds") == 0
                and value(now, "caseload_index_failing") == 0)

    wait_until(caught_up, timeout=10, what="the index lag to read zero")


def test_metrics_are_not_throttled_and_need_no_signature():
    # In memory, i.e. embedded whatever the suite's backend.
    server = Server("--throttle-rate", "ListDomains=1:1", "--fault-rate", "1", embedded=True)
    try:
        for _ in range(20):
            samples, _ = scrape(server)
        # In memory there is no read pool and no group commit to report; the index lag is.
        assert ("caseload_store_pool_max_connections", frozenset()) not in samples
        assert value(samples, "caseload_store_group_commit_writes_count") == 0
    finally:
        server.stop()


def test_the_node_defaults_to_the_host_name():
    server = Server()
    try:
        samples, _ = scrape(server)
        assert value(samples, "caseload_node_info", node=socket.gethostname()) == 1
    finally:
        server.stop()


def logging_server(tmp_path, monkeypatch, *args):
    """A server whose standard error goes to a file, logging at info."""
    monkeypatch.setenv("CASELOAD_LOG", "info")
    log = tmp_path / "server.log"
    server = Server(*args, prefix=("sh", "-c", f'exec "$0" "$@" 2>"{log}"'))
    return server, log


def refused_request(server):
    with pytest.raises(ClientError):
        server.client(secret="not-the-secret").list_domains()


def test_json_logs_are_one_object_per_line_with_the_node(tmp_path, monkeypatch):
    server, log = logging_server(tmp_path, monkeypatch, "--log-format", "json", "--node-name", "n-json")
    try:
        refused_request(server)
        wait_until(lambda: "request refused" in log.read_text(), timeout=10, what="the log line")
    finally:
        server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines and all(line["node"] == "n-json" for line in lines)
    refused = next(line for line in lines if line["fields"]["message"] == "request refused")
    assert refused["level"] == "INFO"
    assert refused["span"]["path"] == "/domains-list"


def test_text_logs_name_the_node_on_every_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CASELOAD_NODE_NAME", "n-text")
    server, log = logging_server(tmp_path, monkeypatch)
    try:
        refused_request(server)
        wait_until(lambda: "request refused" in log.read_text(), timeout=10, what="the log line")
    finally:
        server.stop()
    lines = log.read_text().splitlines()
    assert lines and all(line.startswith("node=n-text ") for line in lines), lines


def test_a_full_disk_is_counted_call_by_call_and_shows_as_index_lag(small_disk):
    # Most of a 64 MB disk taken, so that the writers fill the rest in seconds.
    ballast = os.path.join(small_disk, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * (54 * 1024 * 1024))
    # The embedded mode's database and index on one full disk.
    server = Server("--data-dir", os.path.join(small_disk, "data"), "--search-wait-ms", "2000",
                    embedded=True)
    try:
        # One attempt per call (the suite's clients retry once: botocore's `max_attempts`
        # counts retries), so that the server's counts and the client's can be compared.
        c = boto3.client("connectcases", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test",
                         config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
        d = c.create_domain(name="full")["domainId"]
        body = c.create_field(domainId=d, name="Body", type="Text")["fieldId"]
        t = c.create_template(domainId=d, name="T")["templateId"]
        answers = {"ok": 0, "refused": 0}
        lock = threading.Lock()

        def writer(w):
            text = string.ascii_letters * 30
            failures = 0
            for n in range(100_000):
                try:
                    c.create_case(domainId=d, templateId=t, fields=[
                        {"id": "title", "value": s(f"w{w}-{n}")}, {"id": body, "value": s(text)}])
                    outcome = "ok"
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "InternalServerException"
                    outcome, failures = "refused", failures + 1
                with lock:
                    answers[outcome] += 1
                if failures >= 5:
                    return

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(writer, range(4)))
        assert answers["refused"] >= 5, answers

        # The disk is full: a scrape still answers at once, and has counted every answer.
        started = time.monotonic()
        samples, _ = scrape(server)
        assert time.monotonic() - started < 5
        assert requests(samples, "CreateCase", 200) == answers["ok"]
        assert requests(samples, "CreateCase", 500, "InternalServerException") == answers["refused"]
        assert value(samples, "caseload_requests_in_flight") == 0

        # The index cannot commit the last acknowledged cases: the metrics show it behind, more
        # so as time passes, and /ready takes the server out of rotation.
        def behind_and_not_ready():
            now, _ = scrape(server)
            return value(now, "caseload_index_lag_changes") > 0 and get(server, "/ready")[0] == 503

        wait_until(behind_and_not_ready, timeout=10, what="the index lag to show")
        first, _ = scrape(server)
        time.sleep(1.5)
        later, _ = scrape(server)
        assert value(later, "caseload_index_lag_seconds") > value(first, "caseload_index_lag_seconds") > 0

        os.remove(ballast)
        # Once space is back the server is ready again and the index has caught up.
        wait_until(lambda: get(server, "/ready")[0] == 200, timeout=120, what="/ready")

        def caught_up():
            now, _ = scrape(server)
            return (value(now, "caseload_index_failing") == 0
                    and ("caseload_index_lag_changes", frozenset()) in now
                    and value(now, "caseload_index_lag_changes") == 0)

        wait_until(caught_up, timeout=30, what="the index lag to read zero")
    finally:
        server.stop()


def test_at_the_connection_cap_a_scrape_gets_in_unless_every_connection_is_busy():
    from test_connections import connect

    server = Server("--max-connections", "3")
    held = []
    try:
        samples, _ = scrape(server)
        assert value(samples, "caseload_connections_max") == 3
        # Three idle connections fill the cap: a scrape makes room by closing the idlest.
        held = [connect(server) for _ in range(3)]
        time.sleep(0.2)
        samples, _ = scrape(server)
        assert value(samples, "caseload_connections_evicted_total") >= 1
        # The scrape's own connection at least (the evicted one may not have closed yet).
        assert value(samples, "caseload_connections") >= 1
        for s_ in held:
            s_.close()
        # Three requests in progress (bodies that never finish): nothing can be closed, so a
        # scrape is refused, and counted.
        held = [connect(server) for _ in range(3)]
        for s_ in held:
            s_.sendall(b"POST /domains-list HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.3)
        with pytest.raises(OSError):
            scrape(server)
        for s_ in held:
            s_.close()
        held = []

        def refusal_counted():
            try:
                samples, _ = scrape(server)
            except OSError:
                # The closed requests may not have ended yet: refused again.
                return False
            return value(samples, "caseload_connections_refused_total") >= 1

        wait_until(refusal_counted, timeout=10, what="the refusal to be counted")
    finally:
        for s_ in held:
            s_.close()
        server.stop()
