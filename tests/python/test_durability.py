"""Durability of the search index against the database, as clients see it: a full disk under
write load, `GET /health` and `GET /ready`, bounded searches, and `caseload check`. Of the
embedded mode (its SQLite file, its index beside it, `check`), so embedded on every backend."""

import concurrent.futures
import os
import random
import sqlite3
import string
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import Server, binary, s


def get(server, path):
    """An unsigned GET: (status, body text)."""
    try:
        with urllib.request.urlopen(server.endpoint + path, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_ready(server, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        status, _ = get(server, "/ready")
        if status == 200:
            return
        assert time.monotonic() < deadline, f"never ready (last status {status})"
        time.sleep(0.1)


def total(client, domain):
    return client.search_cases(domainId=domain, maxResults=1)["totalCount"]


def check(data_dir, *extra):
    p = subprocess.run([binary(), "check", "--data-dir", data_dir, *extra],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def test_health_and_ready_answer_unauthenticated_without_data(server):
    assert get(server, "/health") == (200, "ok\n")
    assert get(server, "/ready") == (200, "ready\n")


@pytest.fixture
def small_disk():
    """A 64 MB tmpfs: a filesystem that fills up quickly."""
    mount = tempfile.mkdtemp(prefix="caseload-full-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mount],
                       capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(mount)
        pytest.skip(f"cannot mount a tmpfs to fill up (needs root): {p.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", mount], check=False)
    os.rmdir(mount)


def test_a_full_disk_loses_no_acknowledged_case(small_disk):
    # Ballast to free once the disk is full, so that the server can go on. It takes most of the
    # disk, so that the writers fill the rest in seconds (a few hundred cases) even in a debug
    # build, whose indexing is slow.
    ballast = os.path.join(small_disk, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * (54 * 1024 * 1024))
    data_dir = os.path.join(small_disk, "data")
    server = Server("--data-dir", data_dir, "--search-wait-ms", "2000", embedded=True)
    try:
        c = server.client()
        d = c.create_domain(name="full")["domainId"]
        body = c.create_field(domainId=d, name="Body", type="Text")["fieldId"]
        t = c.create_template(domainId=d, name="T")["templateId"]

        acknowledged = []
        lock = threading.Lock()
        refusals = []

        def writer(w):
            rng = random.Random(w)
            failures = 0
            for n in range(100_000):
                text = "".join(rng.choices(string.ascii_letters + " ", k=1500))
                try:
                    r = c.create_case(domainId=d, templateId=t, fields=[
                        {"id": "title", "value": s(f"w{w}-{n}")},
                        {"id": body, "value": s(text)},
                    ])
                except ClientError as e:
                    with lock:
                        refusals.append(e.response["Error"]["Code"])
                    failures += 1
                    if failures >= 10:
                        return
                    continue
                with lock:
                    acknowledged.append(r["caseId"])

        # Searches meanwhile make the index commit as the disk fills, so its commits fail too.
        # None may hang: each answers within its bound (plus a margin), or refuses.
        writing = threading.Event()
        writing.set()
        searches = {"answered": 0, "refused": 0, "slowest": 0.0}

        def searcher():
            s = server.client()
            while writing.is_set():
                started = time.monotonic()
                try:
                    total(s, d)
                    searches["answered"] += 1
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "InternalServerException"
                    searches["refused"] += 1
                searches["slowest"] = max(searches["slowest"], time.monotonic() - started)

        with concurrent.futures.ThreadPoolExecutor(9) as pool:
            searching = pool.submit(searcher)
            list(pool.map(writer, range(8)))
            writing.clear()
            searching.result()
        assert searches["slowest"] < 10, searches
        assert refusals, "the disk never filled up"
        assert set(refusals) == {"InternalServerException"}, set(refusals)
        assert acknowledged

        # While the disk is full a search never hangs: it answers within its bound (or a little
        # more), with results or a retryable error.
        started = time.monotonic()
        try:
            total(c, d)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InternalServerException"
            assert int(e.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) >= 1
        assert time.monotonic() - started < 10
        status, _ = get(server, "/ready")
        assert status in (200, 503)

        os.remove(ballast)
        wait_ready(server, timeout=120)
        for case_id in acknowledged:
            c.get_case(domainId=d, caseId=case_id, fields=[{"id": "title"}])
        assert total(c, d) == len(acknowledged)
    finally:
        server.stop()

    # After a restart too, and the index agrees with the database case by case.
    server = Server("--data-dir", data_dir, embedded=True)
    try:
        c = server.client()
        wait_ready(server)
        assert total(c, d) == len(acknowledged)
        for case_id in acknowledged[:50]:
            c.get_case(domainId=d, caseId=case_id, fields=[{"id": "title"}])
    finally:
        server.stop()
    rc, out = check(data_dir)
    assert rc == 0, out


def test_searches_refuse_past_the_bound_with_retry_after_and_then_succeed(data_dir):
    # A 1 ms bound: a search right after a write cannot wait for the index's commit, so it
    # answers a retryable InternalServerException, and answers again once the commit is done.
    server = Server("--data-dir", data_dir, "--search-wait-ms", "1", embedded=True)
    try:
        c = server.client()
        d = c.create_domain(name="bound")["domainId"]
        t = c.create_template(domainId=d, name="T")["templateId"]
        refused = 0
        for i in range(5):
            c.create_case(domainId=d, templateId=t,
                          fields=[{"id": "title", "value": s(f"c{i}")}])
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert total(c, d) == i + 1
                    break
                except ClientError as e:
                    meta = e.response["ResponseMetadata"]
                    assert e.response["Error"]["Code"] == "InternalServerException"
                    assert meta["HTTPStatusCode"] == 500
                    assert meta["HTTPHeaders"]["retry-after"] == "1"
                    refused += 1
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
        assert refused > 0
    finally:
        server.stop()


def test_check_names_differences_repairs_them_and_start_up_repairs_by_itself(data_dir):
    server = Server("--data-dir", data_dir, embedded=True)
    c = server.client()
    d = c.create_domain(name="check")["domainId"]
    t = c.create_template(domainId=d, name="T")["templateId"]
    ids = [c.create_case(domainId=d, templateId=t,
                         fields=[{"id": "title", "value": s(f"c{i}")}])["caseId"]
           for i in range(3)]
    assert total(c, d) == 3
    # Refused while the server holds the directory.
    rc, out = check(data_dir)
    assert rc == 1 and "in use" in out, out
    server.stop()

    rc, out = check(data_dir)
    assert rc == 0, out
    # A case changed behind the index's back.
    db = sqlite3.connect(os.path.join(data_dir, "caseload.sqlite3"))
    db.execute("UPDATE cases SET version = version + 1 WHERE case_id = ?", (ids[0],))
    db.commit()
    rc, out = check(data_dir)
    assert rc == 1, out
    assert f"case {ids[0]} is at version 2 in the database but 1 in the index" in out, out
    rc, out = check(data_dir, "--repair")
    assert rc == 0 and "repaired" in out, out
    rc, out = check(data_dir)
    assert rc == 0, out

    # A case gone behind the index's back: the server's start-up finds the domain's count
    # differs and rebuilds it while it serves.
    db.execute("DELETE FROM cases WHERE case_id = ?", (ids[1],))
    db.commit()
    db.close()
    server = Server("--data-dir", data_dir, embedded=True)
    try:
        c = server.client()
        deadline = time.monotonic() + 30
        while total(c, d) != 2:
            assert time.monotonic() < deadline, "the start-up never repaired the index"
            time.sleep(0.1)
    finally:
        server.stop()
    rc, out = check(data_dir)
    assert rc == 0, out
