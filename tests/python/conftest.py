"""Fixtures: the real caseload binary on a free port, and boto3 clients for it; and the
helpers every test file uses (`from conftest import code, message, s, EMPTY, ...`).

The binary is `$CASELOAD_BIN`, or `$CARGO_TARGET_DIR/debug/caseload`, or `target/debug/caseload`.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
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


def binary() -> str:
    if os.environ.get("CASELOAD_BIN"):
        return os.environ["CASELOAD_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return str(pathlib.Path(target) / "debug" / "caseload")


class Server:
    """One caseload process; stopped by `stop()` (the fixtures do it)."""

    def __init__(self, *args: str, prefix=()):
        # `prefix`: a command the server runs under, e.g. ("prlimit", "--nofile=256", "--").
        argv = [*prefix, binary(), "serve"]
        if "--listen" not in args:
            argv += ["--listen", "127.0.0.1:0"]
        if "--data-dir" not in args and "--in-memory" not in args:
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
            req = AWSRequest(method=method, url=url, data=body, headers=headers)
            SigV4Auth(Credentials(key, secret), "cases", "us-east-1").add_auth(req)
            headers = dict(req.headers.items())
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
        return self.proc.wait(timeout=10)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


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
