"""SigV4 edge cases through botocore's own signer and hand-made requests: the scope's region,
repeated auth headers, and escapes of bytes that are not UTF-8 in the query."""

import http.client
import json

from conftest import sigv4_headers


def send(server, method, target, region="us-east-1", extra=()):
    """Signs `target` with botocore for `region` and sends it, with `extra` headers added after
    signing (repeats included). Returns (status, error type, body)."""
    signed = sigv4_headers(method, server.endpoint + target, region=region)
    host = server.endpoint.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host)
    for k, v in list(signed.items()) + list(extra):
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, r.getheader("x-amzn-errortype"), json.loads(body) if body else {}


def test_the_scope_region_must_be_a_region_name(server):
    for region in ["a:b:c", "<script>", "x" * 300, "us-east-1 "]:
        status, kind, body = send(server, "POST", "/domains-list", region=region)
        assert (status, kind) == (403, "InvalidSignatureException"), (region, body)
        assert "valid region" in body["message"]
    for region in ["eu-west-2", "us-gov-west-1", "cn-north-1"]:
        status, _, body = send(server, "POST", "/domains-list", region=region)
        assert status == 200, (region, body)


def test_repeated_authorization_or_date_headers_are_refused(server):
    signed = sigv4_headers("POST", server.endpoint + "/domains-list")
    for name in ["Authorization", "X-Amz-Date"]:
        status, kind, body = send(server, "POST", "/domains-list", extra=[(name, signed[name])])
        assert (status, kind) == (400, "IncompleteSignatureException"), (name, body)


def test_a_query_escape_of_a_non_utf8_byte_verifies(server):
    # botocore signs the query as sent; %FF is not UTF-8 and must stay %FF in the canonical query.
    # The signature verifies, so the answer is about the value: not an integer.
    status, kind, body = send(server, "POST", "/domains-list?maxResults=%FF")
    assert status == 400 and kind != "InvalidSignatureException", (kind, body)
    status, _, body = send(server, "POST", "/domains-list?maxResults=2")
    assert status == 200, body
