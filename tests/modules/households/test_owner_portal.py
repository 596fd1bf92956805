"""Owners: invited by staff (e-mail, or a text message through the pluggable SMS backend), they sign in and
see their own units, the people living there, and their contact details — nothing else."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from modules.households import services
from tests.support import estate, households
from wuye.accounts import services as account_services
from wuye.core import sms
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company


def _link(text: str) -> str:
    found = re.search(r"https?://\S+/accounts/link/\S+/", text)
    assert found, text
    return found.group(0)


def test_an_invited_owner_signs_in_and_sees_only_their_household(
    company_a: CompanyFixture, company_client, django_capture_on_commit_callbacks
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        unit, other_unit = estate.unit(admin), estate.unit(admin)
        owner = households.owner(admin, unit, email="owner@portal.test", on=dt.date(2023, 1, 1)).person
        households.occupant(admin, unit, who=owner, on=dt.date(2023, 1, 1))
        households.occupant(admin, unit, name="家属小明", relation="family", on=dt.date(2023, 2, 1))
        households.owner(admin, other_unit, name="邻居老王", on=dt.date(2023, 1, 1))
        with django_capture_on_commit_callbacks(execute=True):
            services.owner_invite(by=admin, person=owner, channel="email")
    link = _link(mail.outbox[-1].body)
    client = company_client(company_a)
    path = urlsplit(link).path
    assert client.get(path).status_code == 200
    chose = client.post(path, {"password": "owner-password-77", "password_again": "owner-password-77"})
    assert chose.status_code == 302
    client.logout()
    signed_in = client.post("/accounts/login/", {"username": "owner@portal.test", "password": "owner-password-77"})
    assert signed_in.status_code == 302
    home = client.get("/", follow=True)
    text = home.content.decode()
    assert home.redirect_chain[-1][0].endswith("/my/")
    assert unit.number in text and "家属小明" in text
    assert "邻居老王" not in text and other_unit.number not in text
    # The staff side is closed to owners.
    assert client.get("/estate/units/").status_code == 403
    assert client.get("/households/people/").status_code == 403
    # Contact details are the owner's to keep current.
    saved = client.post(
        "/my/",
        {"phone": "13900139000", "email": "owner@portal.test", "contact_channel": "sms", "accepts_notices": "on"},
    )
    assert saved.status_code == 302
    with in_company(company_a):
        owner.refresh_from_db()
        assert owner.phone == "13900139000" and owner.contact_channel == "sms"


def test_an_invitation_by_text_message(company_a: CompanyFixture, django_capture_on_commit_callbacks) -> None:
    sms.outbox.clear()
    with in_company(company_a):
        admin = company_a.admin()
        person = households.person(admin, email="texted@portal.test", phone="13700137000")
        with django_capture_on_commit_callbacks(execute=True):
            services.owner_invite(by=admin, person=person, channel="sms")
    assert [message.to for message in sms.outbox] == ["13700137000"]
    assert "/accounts/link/" in sms.outbox[0].text


def test_owners_get_their_household_from_the_api_and_nothing_else(company_a: CompanyFixture, api_client) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        unit = estate.unit(admin)
        person = households.owner(admin, unit, email="api-owner@portal.test").person
        user = account_services.user_create(
            email="api-owner@portal.test", name=person.name, password="owner-pass-909", kind="owner"
        )
        person.user = user
        person.save(update_fields=["user"])
        token = account_services.api_token_create(user=user, name="app")[1]
    client = api_client(company_a, token)
    mine = client.get("/api/v1/households/my/")
    assert mine.status_code == 200 and [row["unit"] for row in mine.json()["ownerships"]] == [str(unit.pk)]
    assert client.get("/api/v1/households/people/").status_code == 403
    assert client.get("/api/v1/estate/units/").status_code == 403


def test_an_owner_needs_an_email_to_be_invited(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        person = households.person(admin, email="")
        with pytest.raises(ServiceError) as refused:
            services.owner_invite(by=admin, person=person)
        assert refused.value.code == "email_required"
        person.refresh_from_db()
        assert person.user_id is None
