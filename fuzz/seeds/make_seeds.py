#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets that can be made without building anything.

Seeds are real requests: one minimal valid request per operation of the model (so libFuzzer
starts past the router and the validator), the SDK requests captured in the SigV4 vectors,
SearchCases filters of every kind, and page tokens issued exactly as `paging::TokenSigner` issues
them. `scripts/fuzz.sh seed` runs this and adds the import files `caseload-bench generate` writes;
`cargo fuzz cmin` then keeps what adds coverage, and that is what is committed under
`fuzz/corpus/`.

Usage: make_seeds.py OUT_DIR VECTORS_JSONL
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODEL = json.load(open(os.path.join(ROOT, "model", "connectcases-2022-10-03.json")))
SHAPES = MODEL["shapes"]


def sample(name, depth=0):
    """A small value of shape `name` that satisfies its constraints."""
    s = SHAPES[name]
    t = s["type"]
    if t == "string":
        if "enum" in s:
            return s["enum"][0]
        return "x" * max(1, s.get("min", 1))
    if t in ("integer", "long"):
        return max(1, s.get("min", 1))
    if t == "double":
        return 1.5
    if t == "boolean":
        return True
    if t == "timestamp":
        return "2026-01-01T00:00:00.000Z"
    if t == "list":
        return [sample(s["member"]["shape"], depth + 1)] * max(1, s.get("min", 1)) if depth < 6 else []
    if t == "map":
        return {"k": sample(s["value"]["shape"], depth + 1)}
    if t == "structure":
        members = s["members"]
        if s.get("union"):
            first = next(iter(members))
            if depth > 6:
                return {}
            return {first: sample(members[first]["shape"], depth + 1)}
        return {m: sample(members[m]["shape"], depth + 1) for m in s.get("required", [])}
    raise ValueError(t)


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def wire_seeds(out):
    for op, o in MODEL["operations"].items():
        uri = o["http"]["requestUri"]
        inp = SHAPES[o["input"]["shape"]] if "input" in o else {"members": {}}
        body, query = {}, []
        doc = sample(o["input"]["shape"]) if "input" in o else {}
        for m, v in doc.items():
            loc = inp["members"][m].get("location")
            if loc == "uri":
                uri = uri.replace("{%s}" % inp["members"][m]["locationName"], "x-1")
            elif loc == "querystring":
                vs = v if isinstance(v, list) else [v]
                query += ["%s=%s" % (inp["members"][m]["locationName"], x) for x in vs]
            else:
                body[m] = v
        uri = re.sub(r"\{[^}]+\}", "x-1", uri)
        if query:
            uri += "?" + "&".join(query)
        write(out, "wire_request", op, "%s %s\ncontent-type: application/json\n\n%s"
              % (o["http"]["method"], uri, json.dumps(body)))


def vectors(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def raw_request(v):
    head = "%s %s\n" % (v["method"], v["path"])
    head += "".join("%s: %s\n" % (k, val) for k, val in v["headers"].items())
    return head + "\n" + v["body"]


def sigv4_seeds(out, vs):
    for i, v in enumerate(vs):
        write(out, "sigv4", "%s-%d" % (v["client"], i), v["secret"] + "\n" + raw_request(v))
        write(out, "wire_request", "vector-%s-%d" % (v["client"], i), raw_request(v))


FILTERS = [
    {"field": {"equalTo": {"id": "status", "value": {"stringValue": "open"}}}},
    {"field": {"contains": {"id": "title", "value": {"stringValue": "rint"}}}},
    {"field": {"greaterThan": {"id": "amount", "value": {"doubleValue": 1}}}},
    {"field": {"lessThanOrEqualTo": {"id": "due", "value": {"stringValue": "2026-01-02T00:00:00Z"}}}},
    {"field": {"equalTo": {"id": "notes", "value": {"emptyValue": {}}}}},
    {"field": {"equalTo": {"id": "urgent", "value": {"booleanValue": True}}}},
    {"field": {"equalTo": {"id": "owner", "value": {"userArnValue": "arn:u1"}}}},
    {"tag": {"equalTo": {"key": "team", "value": "a"}}},
    {"not": {"tag": {"equalTo": {"key": "tier"}}}},
    {"andAll": [{"field": {"greaterThanOrEqualTo": {"id": "amount", "value": {"doubleValue": 0}}}},
                {"field": {"lessThan": {"id": "amount", "value": {"doubleValue": 3}}}},
                {"not": {"field": {"contains": {"id": "link", "value": {"stringValue": "EXAMPLE"}}}}}]},
    {"orAll": [{"field": {"contains": {"id": "title", "value": {"stringValue": "on f"}}}},
               {"andAll": []}, {"orAll": []}]},
]


def search_seeds(out):
    for i, f in enumerate(FILTERS):
        body = {"filter": f, "maxResults": 1 + i % 4}
        if i % 3 == 0:
            body["sorts"] = [{"fieldId": "amount", "sortOrder": "Asc"}, {"fieldId": "title", "sortOrder": "Desc"}]
        if i % 4 == 1:
            body["searchTerm"] = "printer fi"
        write(out, "search_filter", "filter-%d" % i, json.dumps(body))
    write(out, "search_filter", "empty", "{}")
    write(out, "search_filter", "terms", json.dumps({"searchTerm": "déjà x-ray", "sorts": [{"fieldId": "due", "sortOrder": "Asc"}]}))


def token(key, query, position):
    """`TokenSigner::issue`: serde_json of (query, position), then its HMAC-SHA256, base64url."""
    payload = json.dumps([query, position], separators=(",", ":"), ensure_ascii=False).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=")


def token_seeds(out):
    key, query = b"fuzz-token-key", "0123456789abcdef01234567"
    positions = [
        {"sort_values": [{"string": "2026-01-01T00:00:00.000Z"}], "case_id": "case-01"},
        {"sort_values": [None, {"double": 1.5}], "case_id": "c"},
        {"sort_values": ["empty", {"boolean": True}, {"userArn": "arn:u"}], "case_id": "déjà"},
        {"sort_values": [], "case_id": ""},
    ]
    for i, p in enumerate(positions):
        write(out, "next_token", "issued-%d" % i, b"t" + token(key, query, p))
    write(out, "next_token", "garbage", b"tgarbage!")
    write(out, "next_token", "round-trip", b"r\x05query\x02\x03\x01\x01\x00abc")


def import_seeds(out):
    t0 = "2026-01-01T00:00:00.000Z"
    lines = [
        {"type": "domain", "format": 1, "name": "d", "createdTime": t0, "tags": {"k": None}},
        {"type": "field", "fieldId": "f1", "name": "Priority", "fieldType": "SingleSelect", "namespace": "Custom",
         "options": [{"name": "High", "value": "high", "active": True}], "createdTime": t0, "lastModifiedTime": t0},
        {"type": "field", "fieldId": "n1", "name": "Amount", "fieldType": "Number", "namespace": "Custom",
         "createdTime": t0, "lastModifiedTime": t0},
        {"type": "template", "templateId": "t1", "name": "T", "status": "Active", "requiredFields": [{"fieldId": "title"}],
         "createdTime": t0, "lastModifiedTime": t0},
        {"type": "case", "caseId": "c1", "templateId": "t1", "fields": {
            "title": {"stringValue": "x"}, "f1": {"stringValue": "high"}, "n1": {"doubleValue": 2.5},
            "reference_number": {"stringValue": "00000001"}}, "tags": {}},
        {"type": "relatedItem", "caseId": "c1", "relatedItemId": "r1", "associationTime": t0,
         "content": {"comment": {"body": "hi", "contentType": "Text/Plain"}}, "performedBy": {"userArn": "arn:u"}, "tags": {}},
    ]
    write(out, "import_lines", "small", "\n".join(json.dumps(l) for l in lines) + "\n")


def main():
    out, vectors_path = sys.argv[1], sys.argv[2]
    wire_seeds(out)
    sigv4_seeds(out, vectors(vectors_path))
    search_seeds(out)
    token_seeds(out)
    import_seeds(out)


if __name__ == "__main__":
    main()
