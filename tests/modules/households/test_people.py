"""People on file: identity documents validated, encrypted at rest, masked for most roles, never logged."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from modules.households.models import Person
from modules.staff import services as staff_services
from tests.support import estate, households
from tests.support.households import resident_id
from wuye.accounts import services as account_services
from wuye.core.errors import ServiceError
from wuye.core.models import AuditEntry
from wuye.testing.plugin import CompanyFixture, in_company

NUMBER = resident_id("11010519900307123")


@pytest.fixture
def admin(company_a: CompanyFixture):
    with in_company(company_a):
        yield company_a.admin()


def test_an_id_number_is_encrypted_in_the_database(admin) -> None:
    person = households.person(admin, id_type="resident_id", id_number=NUMBER.lower())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_hint FROM households_person WHERE id = %s", [person.pk])
        stored, hint = cursor.fetchone()
    assert NUMBER not in stored and NUMBER[6:14] not in stored  # not even the birth date in clear
    assert hint == NUMBER[:4] + "*" * 10 + NUMBER[-4:]
    assert Person.objects.get(pk=person.pk).id_number == NUMBER  # upper-cased X, decrypted on read


@pytest.mark.parametrize(
    "number", [NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"), "110105199002301234", "12345", "ABCDEFGHIJKLMNOPQR"]
)
def test_an_invalid_resident_id_is_refused_and_nothing_is_written(admin, number: str) -> None:
    with pytest.raises(ServiceError) as refused:
        households.person(admin, name="错号", id_type="resident_id", id_number=number)
    assert refused.value.code == "id_number_invalid" and refused.value.field == "id_number"
    assert not Person.objects.filter(name="错号").exists()


def test_the_same_document_twice_is_the_same_person(admin) -> None:
    households.person(admin, id_type="resident_id", id_number=NUMBER)
    with pytest.raises(ServiceError) as refused:
        households.person(admin, name="重复", id_type="resident_id", id_number=NUMBER)
    assert refused.value.code == "person_exists"


def test_a_document_needs_its_type_and_number(admin) -> None:
    with pytest.raises(ServiceError) as refused:
        households.person(admin, id_number=NUMBER)
    assert refused.value.code == "id_incomplete"


def test_phone_numbers_are_cleaned_and_bad_ones_refused(admin) -> None:
    assert households.person(admin, phone="+86 139-0013-9000").phone == "13900139000"
    with pytest.raises(ServiceError) as refused:
        households.person(admin, phone="12345")
    assert refused.value.code == "phone_invalid"


def test_the_audit_log_keeps_only_the_masked_number(admin) -> None:
    person = households.person(admin, id_type="resident_id", id_number=NUMBER)
    entry = AuditEntry.objects.get(object_id=str(person.pk), action="created")
    assert NUMBER not in str(entry.changes) and entry.changes["id_number_hint"][1] == person.id_number_hint


def test_id_numbers_are_masked_except_for_roles_allowed_to_see_them(
    company_a: CompanyFixture, admin, api_client
) -> None:
    unit = estate.unit(admin)
    person = households.person(admin, id_type="resident_id", id_number=NUMBER)
    households.owner(admin, unit, who=person)
    seen = {}
    for code in ("cs_manager", "cs_staff", "zone_manager", "company_admin"):
        user = account_services.user_create(
            email=f"{code}@people.test", name=code, password="people-password-9", roles=[code]
        )
        staff_services.staff_member_set(
            by=admin, user=user, project=unit.project, zones=[unit.zone] if code == "zone_manager" and unit.zone else []
        )
        token = account_services.api_token_create(user=user, name="t")[1]
        response = api_client(company_a, token).get(f"/api/v1/households/people/{person.pk}/")
        seen[code] = response.json().get("id_number") if response.status_code == 200 else response.status_code
    masked = NUMBER[:4] + "*" * 10 + NUMBER[-4:]
    assert seen["cs_manager"] == NUMBER and seen["company_admin"] == NUMBER
    assert seen["cs_staff"] == masked
    # The test unit has no zone, so a zone manager does not see its owner at all.
    assert seen["zone_manager"] == 404


def test_id_numbers_never_reach_the_logs(company_a: CompanyFixture, admin, api_client, admin_token, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("wuye.test").warning("owner called with ID %s", NUMBER)  # a careless log line
    client = api_client(company_a, admin_token(company_a))
    client.post(
        "/api/v1/households/people/", {"name": "日志", "id_type": "resident_id", "id_number": NUMBER}, format="json"
    )
    client.post(
        "/api/v1/households/people/", {"name": "日志2", "id_type": "resident_id", "id_number": NUMBER}, format="json"
    )
    assert caplog.records, "nothing was logged: the test would prove nothing"
    formatter = logging.Formatter()
    handler_filters = [f for h in logging.getLogger().handlers for f in h.filters]
    for record in caplog.records:
        for log_filter in handler_filters:
            log_filter.filter(record)
        assert NUMBER not in formatter.format(record)


def test_people_through_the_api_and_pages(company_a: CompanyFixture, api_client, admin_token, company_client) -> None:
    client = api_client(company_a, admin_token(company_a))
    made = client.post(
        "/api/v1/households/people/",
        {"name": "张三", "phone": "13800138000", "id_type": "resident_id", "id_number": NUMBER},
        format="json",
    )
    assert made.status_code == 201, made.content
    found = client.get("/api/v1/households/people/", {"search": NUMBER}).json()["results"]
    assert [row["name"] for row in found] == ["张三"]
    bad = client.post(
        "/api/v1/households/people/", {"name": "李四", "id_type": "resident_id", "id_number": "1"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["id_number"]
    page = company_client(company_a)
    with in_company(company_a):
        page.force_login(company_a.admin())
    listing = page.get("/households/people/", {"q": "张"})
    assert listing.status_code == 200 and "张三" in listing.content.decode()
    created = page.post("/households/people/new/", {"name": "王五", "phone": "", "contact_channel": "phone"})
    assert created.status_code == 302
    with in_company(company_a):
        assert Person.objects.filter(name="王五").exists()
