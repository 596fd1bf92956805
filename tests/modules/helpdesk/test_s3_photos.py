"""Photos on S3-compatible storage, the production set-up (WUYE_S3_BUCKET): the same services and views,
with django-storages' S3 backend talking HTTP to a real S3-compatible server. Here that server is moto's
standalone one (an S3 emulator on a local port: no S3 is reachable from this machine); boto3 and
django-storages run unchanged. Objects are filed under each company's schema and never public."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from modules.helpdesk import services
from tests.support import helpdesk as support
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

API = "/api/v1/helpdesk"
BUCKET = "wuye-uploads-test"
KEY_ID, SECRET = "test-key-id", "test-secret-key"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(settings: Any, s3_endpoint: str) -> Any:
    """The default storage switched to S3 as settings/base.py makes it from WUYE_S3_*; the bucket made."""
    import boto3

    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": KEY_ID,
                "secret_key": SECRET,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for found in listed:
        client.delete_object(Bucket=BUCKET, Key=found["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _client(api_client: Any, company: CompanyFixture, user: Any) -> Any:
    with in_company(company):
        token = account_services.api_token_create(user=user, name="t")[1]
    return api_client(company, token)


def test_photos_on_s3_are_filed_per_company_and_served_only_through_the_checked_view(
    company_a: CompanyFixture, company_b: CompanyFixture, s3: Any, api_client: Any
) -> None:
    with in_company(company_a):
        site = support.site(company_a.admin())
        request = services.request_submit(
            owner=site.owner, unit=site.unit, kind="repair", title="墙裂了", photos=[support.png((8, 8))]
        )
        photo = request.photos.get()
    with in_company(company_b):
        b_site = support.site(company_b.admin())
        services.request_submit(
            owner=b_site.owner, unit=b_site.unit, kind="repair", title="漏水", photos=[support.png()]
        )

    keys = sorted(found["Key"] for found in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert len(keys) == 2
    assert [key.split("/")[0] for key in keys] == sorted([company_a.schema_name, company_b.schema_name])
    assert f"{company_a.schema_name}/helpdesk/{request.pk}/" in photo.file.name
    stored = s3.get_object(Bucket=BUCKET, Key=photo.file.name)
    assert stored["Body"].read()[:8] == b"\x89PNG\r\n\x1a\n"
    # Private: nobody reads it from the bucket without the keys.
    acl = s3.get_object_acl(Bucket=BUCKET, Key=photo.file.name)
    assert not [grant for grant in acl["Grants"] if grant["Grantee"].get("URI", "").endswith("AllUsers")]

    path = f"{API}/photos/{photo.pk}/"
    own = _client(api_client, company_a, site.owner).get(path)
    assert own.status_code == 200 and own["Content-Type"] == "image/png"
    assert b"".join(own.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert _client(api_client, company_a, site.other_owner).get(path).status_code == 404
    assert _client(api_client, company_b, b_site.owner).get(path).status_code == 404
