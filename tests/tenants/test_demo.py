"""`wuye demo` (run by make dev): the demo company comes with a sample estate, staff and owners, and the
logins it prints work."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.management import call_command
from django.test import Client

from modules.estate.models import Unit
from modules.households.models import Ownership
from tenants.management.commands import demo
from tenants.models import Company
from wuye.testing.plugin import in_company


def test_the_demo_company_has_sample_data_and_working_logins(companies, db) -> None:
    out = io.StringIO()
    call_command("demo", stdout=out)
    printed = out.getvalue()
    company = Company.objects.get(slug=demo.DEMO_SLUG)
    with in_company(company):
        assert Unit.objects.filter(project__code="sfhy").count() == 96
        assert Ownership.objects.count() == 40
    client = Client(HTTP_HOST=f"{demo.DEMO_SLUG}.{settings.BASE_DOMAIN}")
    for login in demo.SAMPLE_LOGINS:
        assert login in printed
        email, password = login.split(" / ")
        assert client.post("/accounts/login/", {"username": email, "password": password}).status_code == 302, email
        client.logout()
    # The owner lands in the owner portal and sees a unit of the sample estate.
    client.post("/accounts/login/", {"username": "owner@demo.localhost", "password": "wuye-owner-2026"})
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0].endswith("/my/") and "示范花园" in home.content.decode()
    # A second run changes nothing and prints the same logins.
    again = io.StringIO()
    call_command("demo", stdout=again)
    with in_company(company):
        assert Unit.objects.filter(project__code="sfhy").count() == 96
