"""Connections are bounded: idle ones, slow headers and slow bodies time out, an oversized
declared body is refused at once, and a flood of idle sockets cannot lock real clients out.

Raw sockets, since no SDK sends half a request; timeouts are shortened with flags so that each
test takes about a second. Every read has a socket timeout well beyond the server's, so a server
that never closes fails the test instead of hanging it.
"""

import socket
import time

import boto3
from botocore.config import Config

from conftest import Server, sigv4_headers

# How long a test waits for the server to act, far beyond the timeouts the tests set.
PATIENCE = 8


def connect(server):
    host, port = server.endpoint.removeprefix("http://").rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=PATIENCE)
    return s


def read_until_closed(s):
    """Everything the server sends until it closes the connection; raises socket.timeout if it
    keeps it open longer than PATIENCE."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def read_response(s):
    """One HTTP/1.1 response with a Content-Length: (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"closed before a response header: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = s.recv(65536)
        assert chunk
        body += chunk
    return status, headers, body


def signed_list_domains(server):
    headers = sigv4_headers("POST", server.endpoint + "/domains-list", b"{}", {"Content-Type": "application/json"})
    host = server.endpoint.removeprefix("http://")
    lines = ["POST /domains-list HTTP/1.1", f"Host: {host}", "Content-Length: 2"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n{}").encode()


def test_an_idle_connection_is_closed():
    server = Server("--idle-timeout", "0.5")
    try:
        s = connect(server)
        started = time.monotonic()
        assert read_until_closed(s) == b""
        assert 0.4 <= time.monotonic() - started < PATIENCE
    finally:
        server.stop()


def test_a_header_sent_in_part_is_given_up_on():
    server = Server("--header-timeout", "0.5", "--idle-timeout", "60")
    try:
        s = connect(server)
        s.sendall(b"POST /domains-list HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        read_until_closed(s)
        assert time.monotonic() - started < PATIENCE
    finally:
        server.stop()


def test_a_body_sent_in_part_gets_408():
    server = Server("--body-timeout", "0.5")
    try:
        s = connect(server)
        s.sendall(b"POST /domains-list HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"maxRe")
        started = time.monotonic()
        status, headers, _ = read_response(s)
        assert status == 408
        assert headers["x-amzn-errortype"] == "RequestTimeoutException"
        assert 0.4 <= time.monotonic() - started < PATIENCE
    finally:
        server.stop()


def test_an_idle_keep_alive_connection_is_closed():
    server = Server("--idle-timeout", "0.5")
    try:
        s = connect(server)
        s.sendall(signed_list_domains(server))
        status, _, body = read_response(s)
        assert status == 200, body
        # The same connection serves a second request: it is kept alive...
        s.sendall(signed_list_domains(server))
        assert read_response(s)[0] == 200
        # ...until it has been idle for the timeout.
        started = time.monotonic()
        assert read_until_closed(s) == b""
        assert 0.4 <= time.monotonic() - started < PATIENCE
    finally:
        server.stop()


def test_an_oversized_declared_length_is_refused_at_once():
    server = Server()
    try:
        s = connect(server)
        s.sendall(b"POST /domains HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n{}")
        status, headers, _ = read_response(s)
        assert status == 413
        assert headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    finally:
        server.stop()


def test_idle_sockets_beyond_the_descriptor_limit_do_not_lock_clients_out():
    # 256 descriptors, 300 idle connections: without a cap the server runs out of descriptors and
    # accepts nothing more. Timeouts stay long, so the cap alone must make room.
    server = Server(prefix=("prlimit", "--nofile=256", "--"))
    idle = []
    try:
        for _ in range(300):
            idle.append(connect(server))
        client = boto3.client(
            "connectcases",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, connect_timeout=PATIENCE, read_timeout=PATIENCE),
        )
        domain_id = client.create_domain(name="still-served")["domainId"]
        assert client.get_domain(domainId=domain_id)["name"] == "still-served"
        # A graceful stop does not wait for the idle connections.
        assert server.stop() == 0
    finally:
        for s in idle:
            s.close()
        if server.proc.poll() is None:
            server.kill()
