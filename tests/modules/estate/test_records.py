"""The estate's records: validation with clear errors that change nothing, the database's own
constraints, archive instead of delete, and the audit log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from modules.estate import services
from modules.estate.models import Building, Unit
from tests.support import estate
from wuye.core.errors import ServiceError
from wuye.core.models import AuditEntry
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def admin(company_a: CompanyFixture):
    with in_company(company_a):
        yield company_a.admin()


def _refused(call, code: str | None = None, field: str | None = None) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        call()
    if code:
        assert refused.value.code == code, refused.value.message
    if field:
        assert field in refused.value.as_fields(), refused.value.as_fields()
    assert refused.value.message
    return refused.value


def test_a_unit_lands_in_its_buildings_project_and_zone(admin) -> None:
    zone = estate.zone(admin)
    building = estate.building(admin, zone=zone)
    unit = services.unit_create(by=admin, building=building, number=" 2-1201 ", floor=12, floor_area=Decimal("120.35"))
    unit.refresh_from_db()
    assert (unit.project_id, unit.zone_id, unit.number) == (zone.project_id, zone.pk, "2-1201")
    assert unit.floor_area == Decimal("120.35") and unit.status == "unsold"


def test_a_duplicate_unit_number_in_a_building_is_refused_and_changes_nothing(admin) -> None:
    building = estate.building(admin)
    estate.unit(admin, building=building, number="301")
    with translation.override("en"):
        error = _refused(lambda: estate.unit(admin, building=building, number="301"), field="__all__")
    assert error.message == "The building already has a unit with this number."
    assert Unit.objects.filter(building=building).count() == 1
    # The same number in another building is fine.
    estate.unit(admin, building=estate.building(admin, project=building.project), number="301")


@pytest.mark.parametrize("area", [Decimal("0"), Decimal("-5"), Decimal("100000.01"), Decimal("5000000")])
def test_floor_areas_that_cannot_be_are_refused(admin, area: Decimal) -> None:
    building = estate.building(admin)
    _refused(lambda: estate.unit(admin, building=building, floor_area=area), field="floor_area")
    assert not Unit.objects.filter(building=building).exists()


def test_the_database_refuses_what_a_service_would(admin) -> None:
    """The constraints hold even for code that skips the services."""
    building = estate.building(admin)
    other_project_zone = estate.zone(admin)
    with connection.cursor() as cursor:
        # The composite keys are deferred to the commit like Django's own; check them at each statement here.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(project=building.project, building=building, number="9", floor=1, floor_area=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        # A building of one project in a zone of another: the composite foreign key says no.
        Building.objects.create(project=building.project, zone=other_project_zone, name="越界楼")
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(
            project=other_project_zone.project, building=building, number="10", floor=1, floor_area=Decimal("50")
        )


def test_a_parent_of_another_project_is_refused_with_a_message(admin) -> None:
    project = estate.project(admin)
    foreign_zone = estate.zone(admin)
    _refused(
        lambda: services.building_create(by=admin, project=project, zone=foreign_zone, name="A"),
        code="wrong_project",
        field="zone",
    )
    foreign_unit = estate.unit(admin)
    _refused(
        lambda: services.meter_create(by=admin, project=project, kind="water", serial="X1", unit=foreign_unit),
        code="wrong_project",
        field="unit",
    )


def test_a_building_with_units_is_archived_not_deleted(admin) -> None:
    unit = estate.unit(admin)
    building = unit.building
    _refused(lambda: services.building_delete(by=admin, building=building), code="in_use")
    _refused(lambda: services.building_archive(by=admin, building=building), code="has_children")
    services.unit_archive(by=admin, unit=unit)
    services.building_archive(by=admin, building=building)
    assert Building.objects.get(pk=building.pk).is_archived
    # An archived record is read-only until restored, and its children cannot be restored before it.
    _refused(lambda: services.building_update(by=admin, building=building, name="新名"), code="archived")
    _refused(lambda: services.unit_restore(by=admin, unit=unit), code="parent_archived")
    services.building_restore(by=admin, building=building)
    services.unit_restore(by=admin, unit=unit)


def test_a_unit_with_history_cannot_be_deleted(admin) -> None:
    unit = estate.unit(admin)
    estate.meter(admin, project=unit.project, unit=unit)
    _refused(lambda: services.unit_delete(by=admin, unit=unit), code="in_use")
    assert Unit.objects.filter(pk=unit.pk).exists()


def test_a_record_entered_by_mistake_can_be_deleted(admin) -> None:
    unit = estate.unit(admin)
    services.unit_delete(by=admin, unit=unit)
    assert not Unit.objects.filter(pk=unit.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(unit.pk), action="deleted").exists()


def test_changes_are_in_the_audit_log_with_before_and_after(admin) -> None:
    unit = estate.unit(admin, status="unsold")
    services.unit_update(by=admin, unit=unit, status="occupied", floor_area=Decimal("95.00"))
    services.unit_update(by=admin, unit=unit, status="occupied")  # no change: no entry
    entries = list(AuditEntry.objects.filter(object_type="estate.unit", object_id=str(unit.pk)).order_by("at", "id"))
    assert [entry.action for entry in entries] == ["created", "changed"]
    assert entries[1].changes["status"] == ["unsold", "occupied"]
    assert entries[1].changes["floor_area"] == ["89.50", "95.00"]
    assert entries[1].actor_id == admin.pk


def test_the_audit_log_is_append_only_in_the_database(admin) -> None:
    estate.project(admin)
    entry = AuditEntry.objects.first()
    assert entry is not None
    for statement in ("UPDATE core_auditentry SET actor_label = 'x'", "DELETE FROM core_auditentry"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.filter(pk=entry.pk, actor_label=entry.actor_label).exists()


def test_moving_a_building_to_another_zone_moves_its_units(admin) -> None:
    zone = estate.zone(admin)
    other = estate.zone(admin, project=zone.project)
    building = estate.building(admin, zone=zone)
    unit = estate.unit(admin, building=building)
    services.building_update(by=admin, building=building, zone=other)
    unit.refresh_from_db()
    assert unit.zone_id == other.pk


def test_unknown_fields_are_refused(admin) -> None:
    unit = estate.unit(admin)
    _refused(lambda: services.unit_update(by=admin, unit=unit, project=estate.project(admin)), code="not_editable")
