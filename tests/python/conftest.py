"""Fixtures: the real caseload binary on a free port, and boto3 clients for it; and the
helpers every test file uses (`from conftest import code, message, s, EMPTY, ...`).

The binary is `$CASELOAD_BIN`, or `$CARGO_TARGET_DIR/debug/caseload`, or `target/debug/caseload`.

With `CASELOAD_TEST_DATABASE_URL` set (an admin URL, e.g.
`postgres://postgres@127.0.0.1:5432/postgres`) the servers run on PostgreSQL: one started
in memory gets a database of its own instead, one on a data directory the database that
directory records (so that a restart sees the same data); each is created before the server
starts and dropped when it stops, or at the latest when the run ends. `Server(embedded=True)`
keeps a server embedded (the tests of the SQLite file and its offline tools).
"""

import atexit
import itertools
import http.client
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ROOT = pathlib.Path(__file__).resolve().parents[2]

AGENT = "arn:aws:connect:us-east-1:000000000000:instance/i-1/agent/a-1"
EMPTY = {"emptyValue": {}}


def code(excinfo):
    """The error code of the botocore `ClientError` a `pytest.raises` caught."""
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


def comment(body):
    """A comment related item's content."""
    return {"comment": {"body": body, "contentType": "Text/Plain"}}


def sigv4_headers(method, url, body=b"", headers=None, key="test", secret="test", region="us-east-1"):
    """`headers` with the SigV4 headers botocore's own signer adds for this request."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(key, secret), "cases", region).add_auth(req)
    return dict(req.headers.items())


def wait_until(predicate, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


PG_ADMIN_URL = os.environ.get("CASELOAD_TEST_DATABASE_URL") or None
# The file in a data directory that names its test database.
PG_MARKER = "test-database"
_pg_created = set()
_pg_next = itertools.count()


def _pg_admin(sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", PG_ADMIN_URL, "-c", sql],
                   check=True, capture_output=True)


def _pg_url(name):
    # libpq lets a later dbname override the first, as a URL parameter or one more pair.
    if "://" in PG_ADMIN_URL:
        return f"{PG_ADMIN_URL}{'&' if '?' in PG_ADMIN_URL else '?'}dbname={name}"
    return f"{PG_ADMIN_URL} dbname={name}"


def pg_create_database():
    name = f"caseload_py_{os.getpid()}_{time.time_ns() % 10**9}_{next(_pg_next)}"
    _pg_admin(f"CREATE DATABASE {name}")
    _pg_created.add(name)
    return name


def pg_drop_database(name):
    if name in _pg_created:
        _pg_created.discard(name)
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@atexit.register
def _pg_drop_left_over():
    for name in list(_pg_created):
        pg_drop_database(name)


def _pg_database_of_dir(data_dir):
    marker = pathlib.Path(data_dir) / PG_MARKER
    if marker.exists():
        return marker.read_text().strip()
    name = pg_create_database()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(name)
    return name


def binary() -> str:
    if os.environ.get("CASELOAD_BIN"):
        return os.environ["CASELOAD_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return str(pathlib.Path(target) / "debug" / "caseload")


class Server:
    """One caseload process; stopped by `stop()` (the fixtures do it)."""

    def __init__(self, *args: str, prefix=(), embedded=False):
        # `prefix`: a command the server runs under, e.g. ("prlimit", "--nofile=256", "--").
        argv = [*prefix, binary(), "serve"]
        if "--listen" not in args:
            argv += ["--listen", "127.0.0.1:0"]
        self.own_database, self.own_dir = None, None
        if PG_ADMIN_URL and not embedded and "--database-url" not in args:
            args = [a for a in args if a != "--in-memory"]
            if "--data-dir" in args:
                name = _pg_database_of_dir(args[args.index("--data-dir") + 1])
            else:
                name = self.own_database = pg_create_database()
                self.own_dir = tempfile.mkdtemp(prefix="caseload-pytest-index-")
                argv += ["--data-dir", self.own_dir]
            argv += ["--database-url", _pg_url(name)]
        elif "--data-dir" not in args and "--in-memory" not in args:
            argv.append("--in-memory")
        self.proc = subprocess.Popen(argv + list(args), stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), f"unexpected first line: {line!r}"
        self.endpoint = line[len("listening on "):]

    def client(self, key="test", secret="test", region="us-east-1"):
        return boto3.client(
            "connectcases",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    def raw(self, method, path, body=b"", headers=None, sign=True, key="test", secret="test"):
        """Sends a hand-made request (signed like boto3 does unless `sign=False`); returns
        (status, headers, parsed JSON body or raw bytes)."""
        url = self.endpoint + path
        headers = dict(headers or {})
        if sign:
            headers = sigv4_headers(method, url, body, headers, key, secret)
        request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as r:
                status, hdrs, data = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, data = e.code, dict(e.headers), e.read()
        try:
            data = json.loads(data) if data else {}
        except ValueError:
            pass
        return status, {k.lower(): v for k, v in hdrs.items()}, data

    def aws_cli(self, *args):
        """Runs the AWS CLI against this server; returns (exit code, stdout, stderr)."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
        aws = shutil.which("aws") or "aws"
        p = subprocess.run([aws, "connectcases", *args, "--endpoint-url", self.endpoint, "--output", "json"],
                           capture_output=True, text=True, env=env)
        return p.returncode, p.stdout, p.stderr

    def stop(self):
        self.proc.terminate()
        status = self.proc.wait(timeout=10)
        self._drop_own()
        return status

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._drop_own()

    def _drop_own(self):
        if self.own_database:
            pg_drop_database(self.own_database)
            shutil.rmtree(self.own_dir, ignore_errors=True)
            self.own_database = None


class Feed:
    """A signed SSE connection to the event feed, read on a thread."""

    def __init__(self, server, after=None, key="test", secret="test"):
        path = "/_caseload/events"
        headers = {}
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        url = urllib.parse.urlparse(server.endpoint)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.conn.request("GET", path, headers=sigv4_headers("GET", server.endpoint + path, b"", headers, key, secret))
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.messages = []  # (id, event)
        self.closed = False
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event_id, data = None, []
        try:
            while True:
                line = self.response.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("id:"):
                    event_id = int(line[3:].strip())
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif line == "":
                    if data:
                        self.messages.append((event_id, json.loads("\n".join(data))))
                    event_id, data = None, []
        except (OSError, ValueError):
            pass
        self.closed = True

    def ids(self):
        return [e["id"] for _, e in self.messages]

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def client(server):
    return server.client()


@pytest.fixture
def domain_id(client):
    return client.create_domain(name="pytest")["domainId"]


@pytest.fixture
def data_dir():
    d = tempfile.mkdtemp(prefix="caseload-pytest-")
    yield d
    shutil.rmtree(d, ignore_errors=True)
