"""Staff members: position, department, project and zones; scope follows the placement."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from modules.staff import services
from modules.staff.models import Position, StaffMember, ZoneAssignment
from tests.support import estate
from wuye.accounts import services as account_services
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.scope import scope_of
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def admin(company_a: CompanyFixture):
    with in_company(company_a):
        yield company_a.admin()


def _person(code: str, email: str):
    return account_services.user_create(
        email=email, name=email.split("@")[0], password="member-password-9", roles=[code]
    )


def test_a_zone_manager_is_placed_in_zones_of_their_project(admin) -> None:
    zone = estate.zone(admin)
    person = _person("zone_manager", "zm@members.test")
    position = Position.objects.get(code="zone_manager")
    member = services.staff_member_set(by=admin, user=person, position=position, project=zone.project, zones=[zone])
    assert member.department_id == position.department_id  # taken from the position
    assert list(ZoneAssignment.objects.filter(member=member).values_list("zone_id", flat=True)) == [zone.pk]
    scope = scope_of(person)
    assert scope.zone_ids == frozenset({zone.pk}) and not scope.project_ids and not scope.everything


def test_a_zone_of_another_project_is_refused(admin) -> None:
    project = estate.project(admin)
    foreign = estate.zone(admin)
    person = _person("zone_manager", "zm2@members.test")
    with pytest.raises(ServiceError) as refused:
        services.staff_member_set(by=admin, user=person, project=project, zones=[foreign])
    assert refused.value.code == "zone_of_other_project" and refused.value.field == "zones"
    assert not StaffMember.objects.filter(user=person).exists()


def test_the_database_keeps_zones_in_the_members_project(admin) -> None:
    zone = estate.zone(admin)
    other_project = estate.project(admin)
    person = _person("zone_manager", "zm3@members.test")
    member = services.staff_member_set(by=admin, user=person, project=zone.project, zones=[zone])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():
        ZoneAssignment.objects.create(member=member, project=other_project, zone=zone)
    with pytest.raises(IntegrityError), transaction.atomic():
        # Moving the member to another project while they still hold a zone of the first.
        StaffMember.objects.filter(pk=member.pk).update(project=other_project)


def test_moving_a_member_drops_their_old_zones(admin) -> None:
    zone = estate.zone(admin)
    elsewhere = estate.zone(admin)
    person = _person("zone_manager", "zm4@members.test")
    services.staff_member_set(by=admin, user=person, project=zone.project, zones=[zone])
    member = services.staff_member_set(by=admin, user=person, project=elsewhere.project, zones=[elsewhere])
    assert list(member.zone_assignments.values_list("zone_id", flat=True)) == [elsewhere.pk]


def test_a_project_manager_places_only_in_their_project(admin) -> None:
    mine, theirs = estate.project(admin), estate.project(admin)
    manager = _person("project_manager", "pm@members.test")
    services.staff_member_set(by=admin, user=manager, project=mine)
    newcomer = _person("cs_staff", "cs@members.test")
    services.staff_member_set(by=manager, user=newcomer, project=mine)
    with pytest.raises(PolicyDenied):
        services.staff_member_set(by=manager, user=newcomer, project=theirs)
    with pytest.raises(PolicyDenied):
        services.staff_member_set(by=manager, user=newcomer, project=None)  # company level is for admins


def test_a_team_leader_needs_a_department(admin) -> None:
    person = _person("security", "leader@members.test")
    with pytest.raises(ServiceError) as refused:
        services.staff_member_set(by=admin, user=person, project=estate.project(admin), is_team_leader=True)
    assert refused.value.code == "leader_without_department"


def test_placement_through_the_api_and_the_pages(
    company_a: CompanyFixture, api_client, admin_token, company_client
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        zone = estate.zone(admin)
        person = _person("zone_manager", "api-zm@members.test")
    client = api_client(company_a, admin_token(company_a))
    placed = client.put(
        f"/api/v1/staff/members/{person.pk}/",
        {"position": "zone_manager", "project": str(zone.project_id), "zones": [str(zone.pk)]},
        format="json",
    )
    assert placed.status_code == 200, placed.content
    assert placed.json()["zones"] == [str(zone.pk)] and placed.json()["department"] == "customer_service"
    bad = client.put(f"/api/v1/staff/members/{person.pk}/", {"position": "astronaut"}, format="json")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "not_found"
    listed = client.get("/api/v1/staff/members/").json()["results"]
    assert [row["email"] for row in listed] == ["api-zm@members.test"]

    page = company_client(company_a)
    with in_company(company_a):
        page.force_login(company_a.admin())
    assert "api-zm" in page.get("/organisation/members/").content.decode()
    form = page.get(f"/organisation/members/{person.pk}/")
    assert form.status_code == 200 and str(zone) in form.content.decode()


def test_zone_pages_name_their_managers(company_a: CompanyFixture, api_client, admin_token, company_client) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        zone = estate.zone(admin)
        other = estate.zone(admin, project=zone.project)
        manager = _person("zone_manager", "named@members.test")
        services.staff_member_set(by=admin, user=manager, project=zone.project, zones=[zone])
    client = api_client(company_a, admin_token(company_a))
    rows = {
        row["id"]: row["managers"]
        for row in client.get("/api/v1/estate/zones/", {"project": str(zone.project_id)}).json()["results"]
    }
    assert rows == {str(zone.pk): [manager.name], str(other.pk): []}
    assert client.get(f"/api/v1/estate/zones/{zone.pk}/").json()["managers"] == [manager.name]
    page = company_client(company_a)
    with in_company(company_a):
        page.force_login(company_a.admin())
    assert manager.name in page.get("/estate/zones/", {"project": str(zone.project_id)}).content.decode()
