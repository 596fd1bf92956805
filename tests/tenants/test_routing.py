"""Hosts: the base domain is the vendor console, <slug>.<base> is a company, anything else is 404;
a suspended company answers "suspended" and reads none of its data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants import services
from wuye.testing.plugin import CompanyFixture


def test_the_demo_style_host_reaches_the_company_schema(company_a: CompanyFixture, company_client) -> None:
    client = company_client(company_a)
    response = client.post(
        "/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert company_a.company.name in home.content.decode()
    assert home.wsgi_request.tenant.schema_name == company_a.schema_name  # type: ignore[attr-defined]


def test_an_unknown_host_gets_404(db) -> None:
    for host in ("nobody.localhost", "example.com", "alpha.localhost.evil.test"):
        response = Client(HTTP_HOST=host).get("/accounts/login/")
        assert response.status_code == 404, host


@pytest.mark.django_db
def test_the_bare_domain_is_the_vendor_console() -> None:
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    login = Client(HTTP_HOST="localhost").get("/accounts/login/")
    assert login.status_code == 200
    assert "Vendor" in login.content.decode() or "运营" in login.content.decode()


def test_vendor_pages_do_not_exist_on_company_hosts(company_a: CompanyFixture, company_client) -> None:
    client = company_client(company_a)
    assert client.get("/companies/new/").status_code == 404
    assert client.get("/pool/").status_code == 404


def test_company_pages_do_not_exist_on_the_vendor_host(vendor_client) -> None:
    assert vendor_client.get("/staff/").status_code == 404
    assert vendor_client.get("/api/v1/me/").status_code == 404


def test_a_custom_domain_reaches_its_company(company_a: CompanyFixture, companies) -> None:
    services.domain_add(by=None, company=company_a.company, domain="wuye.alpha-estates.example")
    response = Client(HTTP_HOST="wuye.alpha-estates.example").get("/accounts/login/")
    assert response.status_code == 200
    assert response.wsgi_request.tenant.schema_name == company_a.schema_name  # type: ignore[attr-defined]


def test_a_suspended_company_answers_suspended_and_reads_nothing(
    company_a: CompanyFixture, company_client, api_client, admin_token
) -> None:
    token = admin_token(company_a)
    client = company_client(company_a)
    client.post("/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password})
    services.company_suspend(by=None, company=company_a.company, reason="Invoice unpaid")

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/staff/")
    assert page.status_code == 403
    assert "暂停" in page.content.decode() or "suspended" in page.content.decode()
    # Only the host lookup ran, in the public schema: no session, no user, nothing of the company's.
    statements = [q["sql"] for q in queries]
    assert [s for s in statements if s.startswith("SELECT")] == [s for s in statements if 'FROM "tenants_domain"' in s]
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert all(s == 'SET search_path = "public"' for s in statements if s.startswith("SET"))

    api = api_client(company_a, token).get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "company_suspended"

    services.company_resume(by=None, company=company_a.company, reason="Paid")
    assert client.get("/staff/").status_code == 200
    assert api_client(company_a, token).get("/api/v1/me/").status_code == 200


def test_suspension_and_resumption_are_recorded(company_a: CompanyFixture, vendor_client) -> None:
    from tenants.models import CompanyEvent

    response = vendor_client.post(f"/companies/{company_a.company.slug}/suspend/", {"reason": ""})
    assert response.status_code == 302
    company_a.company.refresh_from_db()
    assert company_a.company.status == "active"  # no reason, no suspension

    vendor_client.post(f"/companies/{company_a.company.slug}/suspend/", {"reason": "Contract ended"})
    vendor_client.post(f"/companies/{company_a.company.slug}/resume/", {"reason": "Renewed"})
    events = list(CompanyEvent.objects.filter(company=company_a.company).exclude(kind="created").order_by("at", "id"))
    assert [(e.kind, e.reason, e.actor_label) for e in events] == [
        ("suspended", "Contract ended", "operator@vendor.test"),
        ("resumed", "Renewed", "operator@vendor.test"),
    ]
