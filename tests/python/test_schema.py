"""Fields, field options, templates and layouts as boto3 and the AWS CLI see them."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import Server


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def layout(*top, more=()):
    def panel(ids):
        return {"sections": [{"fieldGroup": {"name": "g", "fields": [{"id": i} for i in ids]}}]}

    return {"basic": {"topPanel": panel(top), "moreInfo": panel(more)}}


def test_fields_lifecycle(client, domain_id):
    system = client.list_fields(domainId=domain_id)["fields"]
    assert {f["fieldId"] for f in system} >= {"title", "status", "summary", "case_reason", "customer_id"}
    assert all(f["namespace"] == "System" for f in system)

    f = client.create_field(domainId=domain_id, name="Notes", type="Text", description="d",
                            attributes={"text": {"isMultiline": True}})
    assert f["fieldArn"].endswith(f"domain/{domain_id}/field/{f['fieldId']}")
    client.update_field(domainId=domain_id, fieldId=f["fieldId"], name="Agent notes")
    got = client.batch_get_field(domainId=domain_id, fields=[{"id": f["fieldId"]}, {"id": "missing"}])
    field = got["fields"][0]
    assert field["name"] == "Agent notes" and field["description"] == "d"
    assert field["namespace"] == "Custom" and field["type"] == "Text"
    assert field["attributes"] == {"text": {"isMultiline": True}}
    assert field["deleted"] is False
    assert field["lastModifiedTime"] >= field["createdTime"]
    assert got["errors"] == [{"id": "missing", "errorCode": "ResourceNotFoundException",
                              "message": "Field missing could not be found"}]

    client.delete_field(domainId=domain_id, fieldId=f["fieldId"])
    listed = client.list_fields(domainId=domain_id)["fields"]
    assert f["fieldId"] not in [x["fieldId"] for x in listed]
    got = client.batch_get_field(domainId=domain_id, fields=[{"id": f["fieldId"]}])
    assert got["fields"][0]["deleted"] is True
    with pytest.raises(ClientError) as e:
        client.update_field(domainId=domain_id, fieldId=f["fieldId"], name="x")
    assert code(e) == "ValidationException"


def test_field_errors(client, domain_id):
    client.create_field(domainId=domain_id, name="Dup", type="Number")
    with pytest.raises(client.exceptions.ConflictException):
        client.create_field(domainId=domain_id, name="Dup", type="Text")
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.delete_field(domainId=domain_id, fieldId="title")
    assert "system field" in e.value.response["message"]
    with pytest.raises(client.exceptions.ValidationException):
        client.create_field(domainId=domain_id, name="N", type="Number", attributes={"text": {"isMultiline": False}})
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.update_field(domainId=domain_id, fieldId="nope", name="x")
    assert e.value.response["resourceId"] == "nope"
    assert e.value.response["resourceType"] == "Field"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.list_fields(domainId="no-domain")
    assert e.value.response["resourceType"] == "Domain"


def test_field_options(client, domain_id):
    fid = client.create_field(domainId=domain_id, name="Region", type="SingleSelect")["fieldId"]
    out = client.batch_put_field_options(domainId=domain_id, fieldId=fid, options=[
        {"name": "Oregon", "value": "pdx", "active": True},
        {"name": "Virginia", "value": "iad", "active": True},
        {"name": "Ireland", "value": "dub", "active": False},
        {"name": "Ireland 2", "value": "dub", "active": True},
    ])
    assert [(x["value"], x["errorCode"]) for x in out["errors"]] == [("dub", "ValidationException")]
    client.batch_put_field_options(domainId=domain_id, fieldId=fid,
                                   options=[{"name": "US West", "value": "pdx", "active": False}])
    page1 = client.list_field_options(domainId=domain_id, fieldId=fid, maxResults=2)
    assert [o["value"] for o in page1["options"]] == ["pdx", "iad"]
    assert page1["options"][0] == {"name": "US West", "value": "pdx", "active": False}
    page2 = client.list_field_options(domainId=domain_id, fieldId=fid, maxResults=2, nextToken=page1["nextToken"])
    assert [o["value"] for o in page2["options"]] == ["dub"]
    assert "nextToken" not in page2
    only = client.list_field_options(domainId=domain_id, fieldId=fid, values=["iad"])
    assert only["options"] == [{"name": "Virginia", "value": "iad", "active": True}]

    text = client.create_field(domainId=domain_id, name="Text", type="Text")["fieldId"]
    with pytest.raises(client.exceptions.ValidationException):
        client.batch_put_field_options(domainId=domain_id, fieldId=text,
                                       options=[{"name": "a", "value": "a", "active": True}])
    # The system status field takes more options.
    client.batch_put_field_options(domainId=domain_id, fieldId="status",
                                   options=[{"name": "Pending", "value": "pending", "active": True}])
    values = [o["value"] for o in client.list_field_options(domainId=domain_id, fieldId="status")["options"]]
    assert values == ["open", "closed", "pending"]


def test_templates(client, domain_id):
    fid = client.create_field(domainId=domain_id, name="Order", type="Text")["fieldId"]
    lid = client.create_layout(domainId=domain_id, name="L", content=layout(fid))["layoutId"]
    t = client.create_template(
        domainId=domain_id, name="Returns", description="d",
        requiredFields=[{"fieldId": fid}],
        layoutConfiguration={"defaultLayout": lid},
        tagPropagationConfigurations=[{"resourceType": "Cases", "tagMap": {"team": "blue"}}],
    )
    got = client.get_template(domainId=domain_id, templateId=t["templateId"])
    assert got["status"] == "Active"
    assert got["requiredFields"] == [{"fieldId": fid}]
    assert got["layoutConfiguration"] == {"defaultLayout": lid}
    assert got["tagPropagationConfigurations"] == [{"resourceType": "Cases", "tagMap": {"team": "blue"}}]
    assert got["templateArn"] == t["templateArn"]

    client.update_template(domainId=domain_id, templateId=t["templateId"], status="Inactive")
    got = client.get_template(domainId=domain_id, templateId=t["templateId"])
    assert got["status"] == "Inactive" and got["name"] == "Returns"
    other = client.create_template(domainId=domain_id, name="Other")["templateId"]
    assert [x["templateId"] for x in client.list_templates(domainId=domain_id, status=["Active"])["templates"]] == [other]
    assert len(client.list_templates(domainId=domain_id)["templates"]) == 2

    with pytest.raises(client.exceptions.ConflictException):
        client.create_template(domainId=domain_id, name="Other")
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.create_template(domainId=domain_id, name="X", requiredFields=[{"fieldId": "ghost"}])
    assert "ghost" in e.value.response["message"]
    with pytest.raises(client.exceptions.ValidationException):
        client.create_template(domainId=domain_id, name="X", layoutConfiguration={"defaultLayout": "ghost"})

    client.delete_template(domainId=domain_id, templateId=t["templateId"])
    assert client.get_template(domainId=domain_id, templateId=t["templateId"])["deleted"] is True
    assert len(client.list_templates(domainId=domain_id)["templates"]) == 1
    with pytest.raises(client.exceptions.ValidationException):
        client.update_template(domainId=domain_id, templateId=t["templateId"], name="again")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.get_template(domainId=domain_id, templateId="ghost")
    assert (e.value.response["resourceType"], e.value.response["resourceId"]) == ("Template", "ghost")


def test_layouts(client, domain_id):
    fid = client.create_field(domainId=domain_id, name="Order", type="Text")["fieldId"]
    lid = client.create_layout(domainId=domain_id, name="Main", content=layout("summary", more=[fid]))["layoutId"]
    got = client.get_layout(domainId=domain_id, layoutId=lid)
    assert got["content"] == layout("summary", more=[fid])
    assert got["deleted"] is False
    client.update_layout(domainId=domain_id, layoutId=lid, name="Renamed")
    assert client.get_layout(domainId=domain_id, layoutId=lid)["name"] == "Renamed"
    for bad in ("title", "status", "ghost"):
        with pytest.raises(client.exceptions.ValidationException) as e:
            client.create_layout(domainId=domain_id, name="Bad", content=layout(bad))
        assert bad in e.value.response["message"]
    assert [x["name"] for x in client.list_layouts(domainId=domain_id)["layouts"]] == ["Renamed"]
    client.delete_layout(domainId=domain_id, layoutId=lid)
    assert client.get_layout(domainId=domain_id, layoutId=lid)["deleted"] is True
    assert client.list_layouts(domainId=domain_id)["layouts"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.delete_layout(domainId=domain_id, layoutId="ghost")
    assert e.value.response["resourceType"] == "Layout"


def test_quotas_are_402():
    server = Server("--max-fields", "1", "--max-templates", "1", "--max-layouts", "1")
    try:
        client = server.client()
        d = client.create_domain(name="q")["domainId"]
        client.create_field(domainId=d, name="A", type="Text")
        with pytest.raises(client.exceptions.ServiceQuotaExceededException) as e:
            client.create_field(domainId=d, name="B", type="Text")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
        client.create_template(domainId=d, name="T")
        with pytest.raises(client.exceptions.ServiceQuotaExceededException):
            client.create_template(domainId=d, name="T2")
        client.create_layout(domainId=d, name="L", content=layout())
        with pytest.raises(client.exceptions.ServiceQuotaExceededException):
            client.create_layout(domainId=d, name="L2", content=layout())
    finally:
        server.stop()


def test_list_fields_pages_and_restart(data_dir):
    server = Server("--data-dir", data_dir)
    client = server.client()
    d = client.create_domain(name="p")["domainId"]
    for i in range(5):
        client.create_field(domainId=d, name=f"f{i}", type="Boolean")
    server.kill()
    server = Server("--data-dir", data_dir)
    try:
        client = server.client()
        ids, token, pages = [], None, 0
        while True:
            kw = {"nextToken": token} if token else {}
            page = client.list_fields(domainId=d, maxResults=7, **kw)
            pages += 1
            ids += [f["fieldId"] for f in page["fields"]]
            token = page.get("nextToken")
            if not token:
                break
        assert pages == 3  # 15 system + 5 custom fields, 7 per page
        assert len(ids) == len(set(ids)) == 20
    finally:
        server.stop()


def test_aws_cli(server, client, domain_id):
    fid = client.create_field(domainId=domain_id, name="From boto3", type="Url")["fieldId"]
    rc, out, err = server.aws_cli("list-fields", "--domain-id", domain_id)
    assert rc == 0, err
    fields = json.loads(out)["fields"]
    assert {"fieldId": fid, "name": "From boto3", "type": "Url", "namespace": "Custom"}.items() <= next(
        f for f in fields if f["fieldId"] == fid).items()
    rc, out, err = server.aws_cli("create-field", "--domain-id", domain_id, "--name", "From CLI", "--type", "Number")
    assert rc == 0, err
    created = json.loads(out)["fieldId"]
    got = client.batch_get_field(domainId=domain_id, fields=[{"id": created}])
    assert got["fields"][0]["name"] == "From CLI"
    rc, out, err = server.aws_cli("get-template", "--domain-id", domain_id, "--template-id", "ghost")
    assert rc != 0 and "ResourceNotFoundException" in err
