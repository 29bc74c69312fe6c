"""Fields as boto3 and the AWS CLI see them: paging arguments boto3 sends in the query string,
botocore's timestamps, and the CLI.
The behaviour of fields, options, templates and layouts is the Rust SDK suite's
(tests/sdk/tests/api/schema.rs)."""

import datetime
import json


def test_list_fields_pages_and_timestamps(client, domain_id):
    for i in range(5):
        client.create_field(domainId=domain_id, name=f"f{i}", type="Boolean")
    # botocore has no paginator for ListFields; maxResults and nextToken travel in the query.
    pages, token = [], None
    while True:
        pages.append(client.list_fields(domainId=domain_id, maxResults=7, **({"nextToken": token} if token else {})))
        token = pages[-1].get("nextToken")
        if not token:
            break
    assert [len(p["fields"]) for p in pages] == [7, 7, 6]  # 15 system + 5 custom fields
    ids = [f["fieldId"] for p in pages for f in p["fields"]]
    assert len(ids) == len(set(ids)) == 20
    custom = [i for p in pages for f in p["fields"] if f["namespace"] == "Custom" for i in [f["fieldId"]]]
    got = client.batch_get_field(domainId=domain_id, fields=[{"id": custom[0]}])["fields"][0]
    # botocore parses the epoch-seconds timestamps restJson1 sends into aware datetimes.
    assert isinstance(got["createdTime"], datetime.datetime) and got["createdTime"].tzinfo is not None
    assert got["lastModifiedTime"] >= got["createdTime"]


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
