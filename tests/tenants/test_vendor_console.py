"""The vendor console: only vendor staff, lists, creates, shows size and history."""

from __future__ import annotations

from django.test import Client

from tenants.models import Company, PooledSchema
from wuye.testing.plugin import ADMIN_PASSWORD, CompanyFixture


def test_the_console_needs_a_vendor_sign_in(db) -> None:
    client = Client(HTTP_HOST="localhost")
    assert client.get("/").status_code == 302
    assert client.get("/companies/new/").status_code == 302


def test_a_company_admin_cannot_sign_in_to_the_console(company_a: CompanyFixture) -> None:
    client = Client(HTTP_HOST="localhost")
    response = client.post(
        "/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password}
    )
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/").status_code == 302


def test_a_vendor_account_without_staff_flag_is_refused(db) -> None:
    from wuye.accounts import services

    services.user_create(
        email="former@vendor.test", name="Former", password=ADMIN_PASSWORD, kind="vendor", is_staff=False
    )
    client = Client(HTTP_HOST="localhost")
    client.post("/accounts/login/", {"username": "former@vendor.test", "password": ADMIN_PASSWORD})
    assert client.get("/").status_code == 302


def test_the_list_shows_companies_with_status_and_size(vendor_client, companies) -> None:
    page = vendor_client.get("/").content.decode()
    for company in companies.values():
        assert company.company.name in page
        assert f"{company.company.slug}.localhost" in page
    assert "KB" in page or "MB" in page


def test_the_list_searches_and_filters(vendor_client, companies) -> None:
    page = vendor_client.get("/", {"q": "alph"}).content.decode()
    assert "Alpha" in page and "Beta 物业" not in page
    page = vendor_client.get("/", {"status": "suspended"}).content.decode()
    assert "Alpha 物业" not in page


def test_creating_a_company_from_the_console(vendor_client, mailoutbox) -> None:
    from tenants import services

    services.spare_create(method="clone")
    response = vendor_client.post(
        "/companies/new/",
        {
            "name": "Gamma 物业",
            "slug": "gamma",
            "admin_name": "Gao",
            "admin_email": "gao@gamma.test",
            "language": "zh-hans",
            "currency": "CNY",
            "timezone_name": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/companies/gamma/"
    company = Company.objects.get(slug="gamma")
    assert company.plan is not None and company.plan.code == "standard"
    detail = vendor_client.get("/companies/gamma/").content.decode()
    assert "c_gamma" in detail and "gamma.localhost" in detail


def test_the_form_shows_the_slug_error(vendor_client, companies) -> None:
    response = vendor_client.post(
        "/companies/new/",
        {
            "name": "Dup",
            "slug": "Alpha",
            "admin_name": "X",
            "admin_email": "x@dup.test",
            "language": "zh-hans",
            "currency": "CNY",
            "timezone_name": "Asia/Shanghai",
        },
    )
    assert response.status_code == 200
    assert "“alpha”" in response.content.decode()


def test_the_pool_page_lists_spares(vendor_client) -> None:
    from tenants import services

    spare = services.spare_create(method="clone")
    page = vendor_client.get("/pool/").content.decode()
    assert spare.schema_name in page
    assert PooledSchema.objects.filter(kind="template").exists()


def test_an_unknown_company_is_not_found(vendor_client) -> None:
    assert vendor_client.get("/companies/nope/").status_code == 404
    response = vendor_client.post("/companies/nope/suspend/", {"reason": "x"}, follow=True)
    assert response.status_code == 404


def test_custom_domains_are_added_and_removed_from_the_console(vendor_client, company_a) -> None:
    from tenants.models import Domain

    slug = company_a.company.slug
    vendor_client.post(f"/companies/{slug}/add-domain/", {"domain": "WUYE.Alpha-Estates.example."})
    assert Domain.objects.filter(tenant=company_a.company, domain="wuye.alpha-estates.example").exists()
    # Refused, with nothing changed: a host under the base domain, a malformed one, one already used.
    for bad in ("other.localhost", "not a host", "wuye.alpha-estates.example"):
        page = vendor_client.post(f"/companies/{slug}/add-domain/", {"domain": bad}, follow=True)
        assert page.status_code == 200
        assert "msg-error" in page.content.decode()
    assert Domain.objects.filter(tenant=company_a.company).count() == 2
    vendor_client.post(f"/companies/{slug}/remove-domain/", {"domain": "wuye.alpha-estates.example"})
    assert list(Domain.objects.filter(tenant=company_a.company).values_list("domain", flat=True)) == ["alpha.localhost"]
    # The primary address stays.
    vendor_client.post(f"/companies/{slug}/remove-domain/", {"domain": "alpha.localhost"})
    assert Domain.objects.filter(domain="alpha.localhost").exists()


def test_an_unknown_action_is_not_found(vendor_client, company_a) -> None:
    assert vendor_client.post(f"/companies/{company_a.company.slug}/delete-everything/").status_code == 404
