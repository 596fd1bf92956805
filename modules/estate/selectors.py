"""Reads on the estate: every list is filtered by the viewer's permission and scope, with its joins done,
so a page of 10 rows and one of 100 cost the same number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from wuye.core.errors import NotFound
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.core.scope import scope_of

from . import policies
from .models import Archivable, Building, Facility, Meter, ParkingSpace, Project, Unit, Zone

R = TypeVar("R", bound=Archivable)

# The joins each list needs for what it shows (and what its API output serializes).
_RELATED: dict[type[Archivable], tuple[str, ...]] = {
    Project: (),
    Zone: ("project",),
    Building: ("project", "zone"),
    Unit: ("project", "building", "zone"),
    ParkingSpace: ("project", "zone"),
    Meter: ("project", "unit", "unit__building"),
    Facility: ("project", "zone", "building"),
}
# What `search` looks in.
_SEARCH: dict[type[Archivable], tuple[str, ...]] = {
    Project: ("name", "code", "address"),
    Zone: ("name",),
    Building: ("name",),
    Unit: ("number", "building__name"),
    ParkingSpace: ("number", "location"),
    Meter: ("serial", "location", "unit__number"),
    Facility: ("name", "serial", "location", "maintainer"),
}
# Filters a list accepts (query parameter -> lookup); values are checked by the lookup's field.
FILTERS: dict[type[Archivable], tuple[str, ...]] = {
    Project: (),
    Zone: ("project",),
    Building: ("project", "zone"),
    Unit: ("project", "zone", "building", "kind", "status", "floor"),
    ParkingSpace: ("project", "zone", "kind", "status"),
    Meter: ("project", "unit", "kind"),
    Facility: ("project", "zone", "building", "kind", "status"),
}
_UUID_FILTERS = {"project", "zone", "building", "unit"}
# Where each record's zone is, for zone-scoped users: a meter is in its unit's zone (a common meter in none).
ZONE_LOOKUP: dict[type[Archivable], str] = {
    Zone: "pk",
    Building: "zone",
    Unit: "zone",
    ParkingSpace: "zone",
    Meter: "unit__zone",
    Facility: "zone",
}


def _scoped(viewer: Any, model: type[R]) -> QuerySet[R]:
    require(viewer, policies.perm("view", model._meta.model_name or ""))
    scope = scope_of(viewer)
    records = model._default_manager.all()
    if model is Project:
        if not scope.everything:
            records = records.filter(pk__in=scope.project_ids | scope.zone_project_ids)
    else:
        records = scope.filter(records, project="project", zone=ZONE_LOOKUP[model])
    return records.select_related(*_RELATED[model])


def records(
    model: type[R],
    *,
    viewer: Any,
    search: str = "",
    archived: str = "",
    filters: dict[str, Any] | None = None,
) -> QuerySet[R]:
    """The records of `model` the viewer may see. `archived`: "" (in use), "only", or "all"."""
    queryset = _scoped(viewer, model)
    if archived == "only":
        queryset = queryset.filter(archived_at__isnull=False)
    elif archived != "all":
        queryset = queryset.filter(archived_at__isnull=True)
    for name, value in (filters or {}).items():
        if name not in FILTERS[model] or value in (None, ""):
            continue
        if name in _UUID_FILTERS:
            value = as_uuid(value)
            if value is None:
                return queryset.none()
        if name == "floor":
            try:
                value = int(value)
            except ValueError:
                return queryset.none()
        queryset = queryset.filter(**{name: value})
    search = (search or "").strip()
    if search:
        condition = Q()
        for field in _SEARCH[model]:
            condition |= Q(**{f"{field}__icontains": search})
        queryset = queryset.filter(condition)
    return queryset


def record_get(model: type[R], *, viewer: Any, record_id: Any) -> R:
    """One record in the viewer's scope, archived or not; NotFound otherwise (out of scope included:
    a record one may not see does not exist for them)."""
    record = _scoped(viewer, model).filter(pk=as_uuid(record_id)).first() if as_uuid(record_id) else None
    if record is None:
        raise NotFound(_("No such %(record)s.") % {"record": model._meta.verbose_name})
    return record


def project_list(*, viewer: Any, search: str = "", archived: str = "") -> QuerySet[Project]:
    return records(Project, viewer=viewer, search=search, archived=archived)


def project_get(*, viewer: Any, project_id: Any) -> Project:
    return record_get(Project, viewer=viewer, record_id=project_id)


def zone_get(*, viewer: Any, zone_id: Any) -> Zone:
    return record_get(Zone, viewer=viewer, record_id=zone_id)


def building_get(*, viewer: Any, building_id: Any) -> Building:
    return record_get(Building, viewer=viewer, record_id=building_id)


def unit_list(*, viewer: Any, search: str = "", archived: str = "", **filters: Any) -> QuerySet[Unit]:
    return records(Unit, viewer=viewer, search=search, archived=archived, filters=filters)


def unit_get(*, viewer: Any, unit_id: Any) -> Unit:
    return record_get(Unit, viewer=viewer, record_id=unit_id)


def meter_list(*, viewer: Any, **filters: Any) -> QuerySet[Meter]:
    return records(Meter, viewer=viewer, filters=filters)


def facility_list(*, viewer: Any, **filters: Any) -> QuerySet[Facility]:
    return records(Facility, viewer=viewer, filters=filters)


def parking_space_list(*, viewer: Any, **filters: Any) -> QuerySet[ParkingSpace]:
    return records(ParkingSpace, viewer=viewer, filters=filters)


def project_summary(*, viewer: Any, project: Project) -> dict[str, Any]:
    """Counts for a project's page, in the viewer's scope: one query per kind of record."""
    units = records(Unit, viewer=viewer, filters={"project": project.pk})
    by_status = dict(units.order_by().values_list("status").annotate(n=Count("pk")))
    totals = units.aggregate(area=Sum("floor_area"), count=Count("pk"))
    return {
        "units": totals["count"],
        "unit_area": totals["area"],
        "units_by_status": by_status,
        "buildings": records(Building, viewer=viewer, filters={"project": project.pk}).count(),
        "zones": records(Zone, viewer=viewer, filters={"project": project.pk}).count(),
        "parking_spaces": records(ParkingSpace, viewer=viewer, filters={"project": project.pk}).count(),
        "meters": records(Meter, viewer=viewer, filters={"project": project.pk}).count(),
        "facilities": records(Facility, viewer=viewer, filters={"project": project.pk}).count(),
    }


# ------------------------------------------------------------------------------------------ zone managers
# Who looks after each zone is the staff module's knowledge (it depends on the estate, not the other way
# round); it registers a provider here, so the estate's zone pages can name the managers.
ZoneManagers = Callable[[list[uuid.UUID]], dict[uuid.UUID, list[str]]]
_zone_manager_providers: list[ZoneManagers] = []


def register_zone_managers(provider: ZoneManagers) -> None:
    _zone_manager_providers[:] = [provider]


def zone_managers(zone_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """zone id -> the names of its zone customer managers (one query, whatever the number of zones)."""
    return _zone_manager_providers[0](zone_ids) if _zone_manager_providers and zone_ids else {}
