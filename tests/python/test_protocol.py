"""The wire protocol as boto3, the AWS CLI and hand-made requests see it."""

import json

import pytest
from botocore.exceptions import ClientError


def test_errors_boto3_maps_to_modelled_exceptions(server, client):
    client.create_domain(name="dup")
    with pytest.raises(client.exceptions.ConflictException):
        client.create_domain(name="dup")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.get_domain(domainId="missing")
    assert e.value.response["resourceId"] == "missing"
    assert e.value.response["resourceType"] == "Domain"
    # boto3 checks ranges itself, so send what it would not.
    status, headers, body = server.raw("POST", "/domains-list?maxResults=0")
    assert status == 400 and headers["x-amzn-errortype"] == "ValidationException"
    assert "'maxResults'" in body["message"]


def test_aws_cli(server):
    rc, out, err = server.aws_cli("create-domain", "--name", "from-cli")
    assert rc == 0, err
    domain_id = json.loads(out)["domainId"]
    rc, out, err = server.aws_cli("list-domains")
    assert rc == 0, err
    assert json.loads(out)["domains"][0]["domainId"] == domain_id
    rc, out, err = server.aws_cli("get-domain", "--domain-id", "nope")
    assert rc != 0 and "ResourceNotFoundException" in err


def test_unknown_routes_are_404_unknown_operation(server):
    for method, path in [("GET", "/"), ("POST", "/nothing-here"), ("PATCH", "/domains/x")]:
        status, headers, body = server.raw(method, path)
        assert status == 404, path
        assert headers["x-amzn-errortype"] == "UnknownOperationException"
        assert path.split("?")[0] in body["message"] or method in body["message"]


def fake(shape, depth=0):
    """The smallest value of `shape` that botocore sends and the model accepts."""
    t = shape.type_name
    if t == "structure":
        members = shape.members
        if shape.is_tagged_union:
            # A member that does not lead back into the union keeps the value finite.
            name = next((n for n, m in members.items() if m.type_name != "structure" or depth < 3),
                        next(iter(members)))
            return {name: fake(members[name], depth + 1)}
        return {n: fake(members[n], depth + 1) for n in shape.required_members}
    if t == "list":
        return [fake(shape.member, depth + 1) for _ in range(max(1, shape.metadata.get("min", 0)))]
    if t == "map":
        return {}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        return "x" * max(1, shape.metadata.get("min", 0))
    if t in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if t in ("double", "float"):
        return 1.0
    if t == "boolean":
        return True
    if t == "timestamp":
        return 0
    if t == "blob":
        return b"x"
    raise AssertionError(f"no fake value for {shape.name} ({t})")


def test_every_operation_of_the_model_is_implemented(client):
    """Each of the model's operations, called with the smallest valid input (and a real domain),
    reaches the service and gets an answer of its own: never NotImplementedException, and never
    an input the model refuses (which would stop the call before the operation)."""
    domain = client.create_domain(name="all")["domainId"]
    model = client.meta.service_model
    assert len(model.operation_names) == 47
    api_to_method = {api: method for method, api in client.meta.method_to_api_mapping.items()}
    for name in model.operation_names:
        op = model.operation_model(name)
        params = fake(op.input_shape) if op.input_shape else {}
        if "domainId" in params:
            params["domainId"] = domain
        method = getattr(client, api_to_method[name])
        try:
            method(**params)
        except ClientError as e:
            error = e.response["Error"]
            assert error["Code"] != "NotImplementedException", name
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] != 501, name
            assert error["Code"] != "SerializationException", (name, error)
            assert "failed to satisfy constraint" not in error.get("Message", ""), (name, error)


@pytest.mark.parametrize("body, expected", [
    (b"{not json", "SerializationException"),
    (b"[1, 2]", "SerializationException"),
    (b'{"name": 42}', "SerializationException"),
    (b'{"name": ""}', "ValidationException"),
    (b"{}", "ValidationException"),
])
def test_bad_bodies_are_4xx_with_a_clear_message(server, body, expected):
    status, headers, data = server.raw("POST", "/domains", body, {"Content-Type": "application/json"})
    assert status == 400
    assert headers["x-amzn-errortype"] == expected
    assert data["message"]


def test_empty_post_without_content_type(server, client):
    d = client.create_domain(name="e")["domainId"]
    status, _, data = server.raw("POST", f"/domains/{d}")
    assert status == 200 and data["domainId"] == d


def test_oversized_bodies_are_refused(server):
    body = json.dumps({"name": "x" * (6 * 1024 * 1024)}).encode()
    status, headers, _ = server.raw("POST", "/domains", body, {"Content-Type": "application/json"})
    assert status == 413
    assert headers["x-amzn-errortype"] == "RequestEntityTooLargeException"


def test_unsigned_and_badly_signed_requests(server):
    status, headers, _ = server.raw("POST", "/domains-list", sign=False)
    assert status == 403 and headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, headers, _ = server.raw("POST", "/domains-list", secret="wrong")
    assert status == 403 and headers["x-amzn-errortype"] == "InvalidSignatureException"
    status, headers, _ = server.raw("POST", "/domains-list", key="unknown")
    assert status == 403 and headers["x-amzn-errortype"] == "UnrecognizedClientException"
    status, headers, _ = server.raw("POST", "/domains-list", headers={"Authorization": "garbage"}, sign=False)
    assert status == 400 and headers["x-amzn-errortype"] == "IncompleteSignatureException"
