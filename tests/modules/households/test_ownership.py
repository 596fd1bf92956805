"""Ownership over time, occupancy and vehicles: transfers and move-outs keep the history; shares never
pass 100 %; one person's periods on a unit do not overlap — in the services and in the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from modules.households import services
from modules.households.models import Occupancy, Ownership
from tests.support import estate, households
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

D = dt.date


@pytest.fixture
def admin(company_a: CompanyFixture):
    with in_company(company_a):
        yield company_a.admin()


def _refused(call, code: str) -> None:
    with pytest.raises(ServiceError) as refused:
        call()
    assert refused.value.code == code, refused.value.message


def test_shares_over_100_percent_are_refused(admin) -> None:
    unit = estate.unit(admin)
    households.owner(admin, unit, share=Decimal("60"), on=D(2024, 1, 1))
    households.owner(admin, unit, share=Decimal("40"), on=D(2024, 3, 1))
    _refused(lambda: households.owner(admin, unit, share=Decimal("0.01"), on=D(2024, 6, 1)), "share_over_100")
    # Before the second owner arrived there was room; a period ending before March fits.
    services.ownership_add(
        by=admin,
        unit=unit,
        person=households.person(admin),
        share=Decimal("40"),
        starts_on=D(2024, 1, 15),
        ends_on=D(2024, 3, 1),
    )
    assert Ownership.objects.filter(unit=unit).count() == 3


def test_one_persons_periods_on_a_unit_do_not_overlap(admin) -> None:
    unit = estate.unit(admin)
    first = households.owner(admin, unit, share=Decimal("50"), on=D(2024, 1, 1))
    _refused(
        lambda: services.ownership_add(
            by=admin, unit=unit, person=first.person, share=Decimal("10"), starts_on=D(2025, 1, 1)
        ),
        "ownership_overlap",
    )


def test_the_database_enforces_the_ownership_rules(admin) -> None:
    unit = estate.unit(admin)
    households.owner(admin, unit, share=Decimal("70"), on=D(2024, 1, 1))
    other = households.person(admin)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # for the deferred foreign keys
    with pytest.raises(IntegrityError), transaction.atomic():
        Ownership.objects.create(unit=unit, person=other, share=Decimal("31"), starts_on=D(2024, 5, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Ownership.objects.create(unit=unit, person=other, share=Decimal("101"), starts_on=D(2020, 5, 1))
    Ownership.objects.create(unit=unit, person=other, share=Decimal("30"), starts_on=D(2024, 5, 1))  # exactly 100


def test_a_transfer_ends_the_old_owners_and_keeps_them_on_file(admin) -> None:
    unit = estate.unit(admin)
    seller_a = households.owner(admin, unit, share=Decimal("50"), on=D(2020, 1, 1))
    seller_b = households.owner(admin, unit, share=Decimal("50"), on=D(2020, 1, 1))
    buyer = households.person(admin, name="买家")
    made = services.ownership_transfer(by=admin, unit=unit, on=D(2025, 7, 1), owners=[(buyer, Decimal("100"))])
    assert [(o.person_id, o.starts_on, o.ends_on) for o in made] == [(buyer.pk, D(2025, 7, 1), None)]
    ended = {o.pk: o.ends_on for o in Ownership.objects.filter(pk__in=[seller_a.pk, seller_b.pk])}
    assert ended == {seller_a.pk: D(2025, 7, 1), seller_b.pk: D(2025, 7, 1)}
    assert Ownership.objects.filter(unit=unit).count() == 3  # nothing overwritten


def test_a_transfer_with_shares_over_100_changes_nothing(admin) -> None:
    unit = estate.unit(admin)
    seller = households.owner(admin, unit, on=D(2020, 1, 1))
    a, b = households.person(admin), households.person(admin)
    _refused(
        lambda: services.ownership_transfer(
            by=admin, unit=unit, on=D(2025, 1, 1), owners=[(a, Decimal("60")), (b, Decimal("60"))]
        ),
        "share_over_100",
    )
    seller.refresh_from_db()
    assert seller.ends_on is None and Ownership.objects.filter(unit=unit).count() == 1


def test_move_in_and_out_keep_the_history(admin) -> None:
    unit = estate.unit(admin)
    tenant = households.occupant(admin, unit, relation="tenant", on=D(2024, 2, 1))
    _refused(lambda: services.occupancy_move_out(by=admin, occupancy=tenant, on=D(2024, 1, 1)), "period_order")
    services.occupancy_move_out(by=admin, occupancy=tenant, on=D(2025, 2, 1))
    _refused(lambda: services.occupancy_move_out(by=admin, occupancy=tenant, on=D(2025, 3, 1)), "already_moved_out")
    again = services.occupancy_move_in(by=admin, unit=unit, person=tenant.person, relation="tenant", on=D(2025, 6, 1))
    assert Occupancy.objects.filter(unit=unit, person=tenant.person).count() == 2 and again.moved_out_on is None


def test_vehicles_are_unique_by_plate_while_registered(admin) -> None:
    person = households.person(admin)
    car = services.vehicle_add(by=admin, person=person, plate="粤B 12345")
    assert car.plate == "粤B12345"
    _refused(lambda: services.vehicle_add(by=admin, person=person, plate="粤b12345"), "invalid")
    services.vehicle_remove(by=admin, vehicle=car)
    services.vehicle_add(by=admin, person=households.person(admin), plate="粤B12345")


def test_the_household_file_through_the_api(company_a: CompanyFixture, api_client, admin_token) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        unit = estate.unit(admin)
        seller = households.owner(admin, unit, on=D(2020, 1, 1))
        buyer = households.person(admin)
    client = api_client(company_a, admin_token(company_a))
    moved = client.post(
        f"/api/v1/households/units/{unit.pk}/transfer/",
        {"on": "2025-07-01", "owners": [{"person": str(buyer.pk), "share": "100"}]},
        format="json",
    )
    assert moved.status_code == 201, moved.content
    file = client.get(f"/api/v1/households/units/{unit.pk}/").json()
    periods = sorted((row["person"], row["starts_on"], row["ends_on"]) for row in file["ownerships"])
    assert periods == sorted([(str(seller.person_id), "2020-01-01", "2025-07-01"), (str(buyer.pk), "2025-07-01", None)])
    over = client.post(
        "/api/v1/households/ownerships/",
        {"unit": str(unit.pk), "person": str(seller.person_id), "share": "1", "starts_on": "2025-08-01"},
        format="json",
    )
    assert over.status_code == 400 and over.json()["error"]["code"] == "share_over_100"


def test_the_household_page_acts_only_on_its_own_units_records(company_a: CompanyFixture, company_client) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        here, there = estate.unit(admin), estate.unit(admin)
        theirs = households.owner(admin, there, on=D(2020, 1, 1))
    page = company_client(company_a)
    with in_company(company_a):
        page.force_login(company_a.admin())
    response = page.post(f"/households/units/{here.pk}/end-ownership/", {"record": str(theirs.pk), "on": "2025-01-01"})
    assert response.status_code == 404
    with in_company(company_a):
        theirs.refresh_from_db()
        assert theirs.ends_on is None
