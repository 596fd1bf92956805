"""REST API of the estate: /api/v1/estate/<records>/ for each kind of record.

Every kind has the same five routes (list + create, detail + change, archive, restore, delete), so one
set of views is configured per kind by a `Resource`: its serializers, its selector and its services. A
view validates input, resolves the ids it names through selectors (so an id outside the caller's scope is
"not found"), calls one service and serializes the result."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.accounts.policies import acting_user
from wuye.core.pagination import PageNumberPagination

from . import selectors, services
from .models import Archivable, Building, Facility, Meter, ParkingSpace, Project, Unit, Zone


# ------------------------------------------------------------------------------------------ output
class _Output(serializers.ModelSerializer):
    archived = serializers.SerializerMethodField()

    def get_archived(self, record: Archivable) -> bool:
        return record.is_archived


class ProjectOutput(_Output):
    class Meta:
        model = Project
        fields = [
            "id", "name", "code", "address", "total_floor_area", "committee_contact", "collection_rate_target",
            "archived", "created_at", "updated_at",
        ]  # fmt: skip


class ZoneOutput(_Output):
    managers = serializers.SerializerMethodField(help_text="Names of the zone customer managers")

    class Meta:
        model = Zone
        fields = ["id", "project", "name", "sort_order", "managers", "archived", "created_at", "updated_at"]

    def get_managers(self, zone: Zone) -> list[str]:
        # The list view fills `zone_managers` for the whole page in one query; a single zone asks alone.
        known = self.context.get("zone_managers")
        return (known if known is not None else selectors.zone_managers([zone.pk])).get(zone.pk, [])


class BuildingOutput(_Output):
    class Meta:
        model = Building
        fields = [
            "id", "project", "zone", "name", "floors_above", "floors_below", "sort_order", "archived",
            "created_at", "updated_at",
        ]  # fmt: skip


class UnitOutput(_Output):
    building_name = serializers.CharField(source="building.name", read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id", "project", "zone", "building", "building_name", "number", "floor", "kind", "floor_area", "status",
            "archived", "created_at", "updated_at",
        ]  # fmt: skip


class ParkingSpaceOutput(_Output):
    class Meta:
        model = ParkingSpace
        fields = [
            "id", "project", "zone", "number", "kind", "location", "floor_area", "status", "archived", "created_at",
            "updated_at",
        ]  # fmt: skip


class MeterOutput(_Output):
    unit_number = serializers.CharField(source="unit.number", read_only=True, default=None)

    class Meta:
        model = Meter
        fields = [
            "id", "project", "unit", "unit_number", "kind", "serial", "multiplier", "location", "archived",
            "created_at", "updated_at",
        ]  # fmt: skip


class FacilityOutput(_Output):
    class Meta:
        model = Facility
        fields = [
            "id", "project", "zone", "building", "kind", "name", "location", "serial", "maintainer", "installed_on",
            "status", "archived", "created_at", "updated_at",
        ]  # fmt: skip


# ------------------------------------------------------------------------------------------ input
# Ids of parent records arrive as UUIDs and are resolved through the selectors, in the caller's scope.
_PARENTS: dict[str, type[Archivable]] = {"project": Project, "zone": Zone, "building": Building, "unit": Unit}


@functools.cache
def _input(model: type[Archivable], *, creating: bool) -> type[serializers.Serializer]:
    """A serializer of the editable fields of `model` (plus its project when created), built from the
    model's own fields so types, lengths and choices are declared once. Model validators run in the
    service, which reports every field at fault in one error."""
    names = services.fields_for(model, creating=creating)
    declared: dict[str, serializers.Field] = {}
    for name in names:
        field = cast(models.Field, model._meta.get_field(name))
        if name in _PARENTS:
            declared[name] = serializers.UUIDField(required=creating and not field.null, allow_null=field.null)
        else:
            # ModelSerializer's mapping of one model field, minus its validators (the service has them).
            kwargs: dict[str, Any] = {"required": False}
            serializer_field = serializers.ModelSerializer().build_standard_field(name, field)
            field_class, field_kwargs = serializer_field
            field_kwargs.pop("validators", None)
            field_kwargs.pop("max_value", None)
            field_kwargs.pop("min_value", None)
            if creating and not field.has_default() and not field.null and not field.blank:
                kwargs["required"] = True
            field_kwargs.update(kwargs)
            field_kwargs.pop("read_only", None)
            declared[name] = field_class(**field_kwargs)
    name = f"{model.__name__}{'Create' if creating else 'Change'}Input"
    return type(name, (serializers.Serializer,), declared)


@dataclass(frozen=True)
class Resource:
    model: type[Archivable]
    output: type[serializers.ModelSerializer]
    create: Callable[..., Any]
    update: Callable[..., Any]
    archive: Callable[..., Any]
    restore: Callable[..., Any]
    delete: Callable[..., Any]
    ordering: tuple[str, ...]

    @property
    def keyword(self) -> str:
        """The services' keyword for the record: `unit=`, `parking_space=`."""
        return {"parkingspace": "parking_space"}.get(
            self.model._meta.model_name or "", self.model._meta.model_name or ""
        )


def _resource(
    model: type[Archivable], output: type[serializers.ModelSerializer], stem: str, ordering: tuple[str, ...]
) -> Resource:
    return Resource(
        model=model,
        output=output,
        create=getattr(services, f"{stem}_create"),
        update=getattr(services, f"{stem}_update"),
        archive=getattr(services, f"{stem}_archive"),
        restore=getattr(services, f"{stem}_restore"),
        delete=getattr(services, f"{stem}_delete"),
        ordering=ordering,
    )


RESOURCES: dict[str, Resource] = {
    "projects": _resource(Project, ProjectOutput, "project", ("name", "code", "created_at")),
    "zones": _resource(Zone, ZoneOutput, "zone", ("name", "sort_order", "created_at")),
    "buildings": _resource(Building, BuildingOutput, "building", ("name", "sort_order", "created_at")),
    "units": _resource(Unit, UnitOutput, "unit", ("number", "floor", "floor_area", "status", "created_at")),
    "parking-spaces": _resource(ParkingSpace, ParkingSpaceOutput, "parking_space", ("number", "status", "created_at")),
    "meters": _resource(Meter, MeterOutput, "meter", ("serial", "kind", "created_at")),
    "facilities": _resource(Facility, FacilityOutput, "facility", ("name", "kind", "status", "created_at")),
}


def _resolve_parents(viewer: Any, data: dict[str, Any]) -> dict[str, Any]:
    for name, model in _PARENTS.items():
        if data.get(name) is not None:
            data[name] = selectors.record_get(model, viewer=viewer, record_id=data[name])
    return data


class _ResourceView(APIView):
    resource: ClassVar[Resource]

    def record(self, request: Request, kwargs: dict[str, Any]) -> Any:
        """The record the URL names (its one keyword argument), in the caller's scope."""
        (record_id,) = kwargs.values()
        return selectors.record_get(self.resource.model, viewer=acting_user(request), record_id=record_id)

    @property
    def ordering_fields(self) -> tuple[str, ...]:
        return self.resource.ordering


class RecordListApi(_ResourceView):
    def get(self, request: Request) -> Response:
        viewer = acting_user(request)
        model = self.resource.model
        records = selectors.records(
            model,
            viewer=viewer,
            search=request.query_params.get("search", ""),
            archived=request.query_params.get("archived", ""),
            filters={name: request.query_params.get(name) for name in selectors.FILTERS[model]},
        )
        records = OrderingFilter().filter_queryset(request, records, self)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(records, request, view=self) or []
        context = {"zone_managers": selectors.zone_managers([zone.pk for zone in page])} if model is Zone else {}
        return paginator.get_paginated_response(self.resource.output(page, many=True, context=context).data)

    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        data = _input(self.resource.model, creating=True)(data=request.data)
        data.is_valid(raise_exception=True)
        record = self.resource.create(by=viewer, **_resolve_parents(viewer, dict(data.validated_data)))
        return Response(self.resource.output(record).data, status=status.HTTP_201_CREATED)


class RecordDetailApi(_ResourceView):
    def get(self, request: Request, **kwargs: Any) -> Response:
        return Response(self.resource.output(self.record(request, kwargs)).data)

    def patch(self, request: Request, **kwargs: Any) -> Response:
        viewer = acting_user(request)
        record = self.record(request, kwargs)
        data = _input(self.resource.model, creating=False)(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = _resolve_parents(viewer, dict(data.validated_data))
        record = self.resource.update(by=viewer, **{self.resource.keyword: record}, **changes)
        return Response(self.resource.output(record).data)

    def delete(self, request: Request, **kwargs: Any) -> Response:
        viewer = acting_user(request)
        record = self.record(request, kwargs)
        self.resource.delete(by=viewer, **{self.resource.keyword: record})
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordActionApi(_ResourceView):
    """POST archive/ or restore/."""

    action: ClassVar[str] = "archive"

    def post(self, request: Request, **kwargs: Any) -> Response:
        viewer = acting_user(request)
        record = self.record(request, kwargs)
        run = self.resource.archive if self.action == "archive" else self.resource.restore
        return Response(self.resource.output(run(by=viewer, **{self.resource.keyword: record})).data)


_LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="Text to look for"),
    OpenApiParameter(
        "archived", str, enum=["", "only", "all"], description="Archived records: none (default), only, all"
    ),
    OpenApiParameter("ordering", str),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int),
]


def _own(method: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of an inherited method for one subclass: extend_schema annotates the function object, and
    the subclasses must not share one annotation."""

    @functools.wraps(method)
    def copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    return copy


def views_for(prefix: str) -> dict[str, Any]:
    """The views of one kind of record, each with its OpenAPI description."""
    resource = RESOURCES[prefix]
    label = str(resource.model._meta.verbose_name_plural)
    name = resource.model.__name__
    filters = [OpenApiParameter(field, str) for field in selectors.FILTERS[resource.model]]

    def documented(method: Callable[..., Any], **schema: Any) -> Callable[..., Any]:
        return extend_schema(tags=["estate"], **schema)(_own(method))

    listing = type(
        f"{name}ListApi",
        (RecordListApi,),
        {
            "resource": resource,
            "get": documented(
                RecordListApi.get,
                responses=resource.output(many=True),
                parameters=_LIST_PARAMETERS + filters,
                summary=f"List {label}",
            ),
            "post": documented(
                RecordListApi.post,
                request=_input(resource.model, creating=True),
                responses={201: resource.output},
                summary=f"Create one of the {label}",
            ),
        },
    )
    detail = type(
        f"{name}DetailApi",
        (RecordDetailApi,),
        {
            "resource": resource,
            "get": documented(RecordDetailApi.get, responses=resource.output, summary=f"One of the {label}"),
            "patch": documented(
                RecordDetailApi.patch,
                request=_input(resource.model, creating=False),
                responses=resource.output,
                summary=f"Change one of the {label}",
            ),
            "delete": documented(
                RecordDetailApi.delete,
                responses={204: None},
                summary=f"Delete one of the {label} entered by mistake (else archive)",
            ),
        },
    )
    views: dict[str, Any] = {"list": listing, "detail": detail}
    for action in ("archive", "restore"):
        views[action] = type(
            f"{name}{action.title()}Api",
            (RecordActionApi,),
            {
                "resource": resource,
                "action": action,
                "post": documented(
                    RecordActionApi.post, request=None, responses=resource.output, summary=f"{action.title()} one"
                ),
            },
        )
    return views
