"""--throttle and --fault-rate: the errors AWS answers with under load or trouble, on demand, in
the form botocore's standard retry mode recognises (ThrottlingException 429 as throttling,
InternalServerException 500 as transient)."""

import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server, binary


def client(server, retries):
    # botocore's `max_attempts` counts retries: N of them after the first attempt.
    return boto3.client(
        "connectcases",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": retries}),
    )


@pytest.fixture
def stop_after():
    servers = []
    yield servers.append
    for s in servers:
        s.stop()


def test_retries_get_through_injected_faults(stop_after):
    server = Server("--fault-rate", "0.5")
    stop_after(server)
    c = client(server, 2)
    # Every other call fails, the first one included: each call needs exactly one retry.
    created = c.create_domain(name="retried")
    assert created["ResponseMetadata"]["RetryAttempts"] == 1
    got = c.get_domain(domainId=created["domainId"])
    assert got["ResponseMetadata"]["RetryAttempts"] == 1
    # The faulted CreateDomain did nothing: one domain.
    assert [d["name"] for d in c.list_domains()["domains"]] == ["retried"]


def test_faults_are_the_retryable_errors_aws_sends(stop_after):
    server = Server("--fault-rate", "1")
    stop_after(server)
    c = client(server, 0)
    seen = []
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            c.list_domains()
        seen.append((e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert seen == [("InternalServerException", 500), ("ThrottlingException", 429)]


def test_retries_give_up_when_attempts_run_out_and_nothing_was_written(stop_after):
    server = Server("--fault-rate", "CreateDomain=1")
    stop_after(server)
    c = client(server, 2)
    with pytest.raises(ClientError) as e:
        c.create_domain(name="never")
    # Three attempts: InternalServerException, ThrottlingException, InternalServerException.
    assert e.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert e.value.response["Error"]["Code"] == "InternalServerException"
    # Other operations are not faulted, and none of the attempts created anything.
    assert c.list_domains()["domains"] == []


def test_throttle_enforces_aws_default_rates_under_a_burst(stop_after):
    server = Server("--throttle")
    stop_after(server)
    c = client(server, 0)
    domain_id = c.create_domain(name="burst")["domainId"]
    # GetDomain: 2 per second, burst 5.
    outcomes = []
    for _ in range(10):
        try:
            c.get_domain(domainId=domain_id)
            outcomes.append(200)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ThrottlingException"
            outcomes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert outcomes[:5] == [200] * 5
    assert 429 in outcomes[5:]


def test_throttle_lets_a_client_within_the_rate_through(stop_after):
    server = Server("--throttle-rate", "GetDomain=5:1")
    stop_after(server)
    c = client(server, 0)
    domain_id = c.create_domain(name="steady")["domainId"]
    # Five calls paced at 2.5 per second, half the rate: none is throttled.
    for _ in range(5):
        started = time.monotonic()
        c.get_domain(domainId=domain_id)
        time.sleep(max(0.0, 0.4 - (time.monotonic() - started)))
    # The same calls back to back exceed a burst of 1.
    with pytest.raises(ClientError) as e:
        for _ in range(5):
            c.get_domain(domainId=domain_id)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_bad_rules_stop_the_server_at_start():
    for flag, value, needle in [
        ("--fault-rate", "2", "'2'"),
        ("--throttle-rate", "Nope=1", "'Nope'"),
        ("--throttle-rate", "GetCase=fast", "GetCase=fast"),
        ("--fault-rate", "Nope=0.5", "'Nope'"),
    ]:
        p = subprocess.run([binary(), "serve", "--in-memory", "--listen", "127.0.0.1:0", flag, value],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and needle in p.stderr, p.stderr
