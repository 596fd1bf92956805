"""REST API of households: people, ownership (with transfers), occupancy, vehicles, a unit's household
file, owner invitations, and the owner's own view (/my/)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from modules.estate import selectors as estate_selectors
from modules.estate.models import ParkingSpace
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound
from wuye.core.idnumbers import IdType
from wuye.core.pagination import PageNumberPagination

from . import selectors, services
from .models import ContactChannel, Occupancy, Ownership, Person, Relation, Vehicle


class PersonOutput(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField(help_text="In full for roles allowed to see it, masked otherwise")
    has_account = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id", "name", "phone", "email", "id_type", "id_number", "contact_channel", "accepts_notices",
            "emergency_contact", "notes", "has_account", "created_at", "updated_at",
        ]  # fmt: skip

    def get_id_number(self, person: Person) -> str:
        return selectors.id_number_shown(viewer=self.context["viewer"], person=person)

    def get_has_account(self, person: Person) -> bool:
        return person.user_id is not None


class PersonInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    id_type = serializers.ChoiceField(choices=[("", "—"), *IdType.choices], required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    contact_channel = serializers.ChoiceField(choices=ContactChannel.choices, required=False)
    accepts_notices = serializers.BooleanField(required=False)
    emergency_contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


def _people(viewer: Any, rows: Any, many: bool = False) -> Any:
    return PersonOutput(rows, many=many, context={"viewer": viewer}).data


class PersonListApi(APIView):
    @extend_schema(
        responses=PersonOutput(many=True),
        parameters=[
            OpenApiParameter("search", str, description="Name, phone, or an identity document number (exact)"),
            OpenApiParameter("project", str),
            OpenApiParameter("unit", str),
        ],
        summary="Owners and occupants",
        tags=["households"],
    )
    def get(self, request: Request) -> Response:
        viewer = acting_user(request)
        params = request.query_params
        people = selectors.person_list(
            viewer=viewer, search=params.get("search", ""), project=params.get("project"), unit=params.get("unit")
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(people, request, view=self)
        return paginator.get_paginated_response(_people(viewer, page, many=True))

    @extend_schema(
        request=PersonInput, responses={201: PersonOutput}, summary="Put a person on file", tags=["households"]
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        data = PersonInput(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.person_create(by=viewer, **data.validated_data)
        return Response(_people(viewer, person), status=status.HTTP_201_CREATED)


class PersonDetailApi(APIView):
    @extend_schema(responses=PersonOutput, summary="One person", tags=["households"])
    def get(self, request: Request, person_id: str) -> Response:
        viewer = acting_user(request)
        return Response(_people(viewer, selectors.person_get(viewer=viewer, person_id=person_id)))

    @extend_schema(
        request=PersonInput(partial=True), responses=PersonOutput, summary="Change a person", tags=["households"]
    )
    def patch(self, request: Request, person_id: str) -> Response:
        viewer = acting_user(request)
        person = selectors.person_get(viewer=viewer, person_id=person_id)
        data = PersonInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(_people(viewer, services.person_update(by=viewer, person=person, **data.validated_data)))


class PersonInviteApi(APIView):
    @extend_schema(
        request=inline_serializer("OwnerInvite", {"channel": serializers.ChoiceField(choices=["email", "sms"])}),
        responses=PersonOutput,
        summary="Invite the person to the owner portal",
        tags=["households"],
    )
    def post(self, request: Request, person_id: str) -> Response:
        viewer = acting_user(request)
        person = selectors.person_get(viewer=viewer, person_id=person_id)
        channel = str(request.data.get("channel", "email")) if hasattr(request.data, "get") else "email"
        return Response(_people(viewer, services.owner_invite(by=viewer, person=person, channel=channel)))


class OwnershipOutput(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Ownership
        fields = ["id", "unit", "person", "person_name", "share", "starts_on", "ends_on", "certificate_number"]


class OccupancyOutput(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Occupancy
        fields = ["id", "unit", "person", "person_name", "relation", "moved_in_on", "moved_out_on"]


class VehicleOutput(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "person", "plate", "description", "parking_space", "removed_at"]


class HouseholdFileApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "HouseholdFile",
            {
                "unit": serializers.UUIDField(),
                "ownerships": OwnershipOutput(many=True),
                "occupancies": OccupancyOutput(many=True),
                "vehicles": VehicleOutput(many=True),
            },
        ),
        summary="A unit's household file: owners and occupants, past and present",
        tags=["households"],
    )
    def get(self, request: Request, unit_id: str) -> Response:
        file = selectors.household_file(viewer=acting_user(request), unit_id=unit_id)
        return Response(
            {
                "unit": str(file["unit"].pk),
                "ownerships": OwnershipOutput(file["ownerships"], many=True).data,
                "occupancies": OccupancyOutput(file["occupancies"], many=True).data,
                "vehicles": VehicleOutput(file["vehicles"], many=True).data,
            }
        )


class OwnershipInput(serializers.Serializer):
    unit = serializers.UUIDField()
    person = serializers.UUIDField()
    share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    certificate_number = serializers.CharField(max_length=60, required=False, allow_blank=True)


class OwnershipListApi(APIView):
    @extend_schema(
        request=OwnershipInput, responses={201: OwnershipOutput}, summary="Record an ownership", tags=["households"]
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        data = OwnershipInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["unit"] = estate_selectors.unit_get(viewer=viewer, unit_id=values["unit"])
        values["person"] = selectors.person_get(viewer=viewer, person_id=values["person"])
        ownership = services.ownership_add(by=viewer, **values)
        return Response(OwnershipOutput(ownership).data, status=status.HTTP_201_CREATED)


class OnInput(serializers.Serializer):
    on = serializers.DateField()


def _on(request: Request) -> Any:
    data = OnInput(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data["on"]


class OwnershipEndApi(APIView):
    @extend_schema(request=OnInput, responses=OwnershipOutput, summary="End an ownership", tags=["households"])
    def post(self, request: Request, ownership_id: str) -> Response:
        viewer = acting_user(request)
        ownership = selectors.ownership_get(viewer=viewer, ownership_id=ownership_id)
        return Response(OwnershipOutput(services.ownership_end(by=viewer, ownership=ownership, on=_on(request))).data)


class TransferInput(serializers.Serializer):
    on = serializers.DateField()
    owners = serializers.ListField(
        child=inline_serializer(
            "NewOwner",
            {"person": serializers.UUIDField(), "share": serializers.DecimalField(max_digits=5, decimal_places=2)},
        ),
        min_length=1,
    )
    certificate_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class TransferApi(APIView):
    @extend_schema(
        request=TransferInput,
        responses=OwnershipOutput(many=True),
        summary="Transfer a unit to new owners",
        tags=["households"],
    )
    def post(self, request: Request, unit_id: str) -> Response:
        viewer = acting_user(request)
        unit = estate_selectors.unit_get(viewer=viewer, unit_id=unit_id)
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        owners = [
            (selectors.person_get(viewer=viewer, person_id=row["person"]), row["share"])
            for row in data.validated_data["owners"]
        ]
        made = services.ownership_transfer(
            by=viewer,
            unit=unit,
            on=data.validated_data["on"],
            owners=owners,
            certificate_number=data.validated_data["certificate_number"],
        )
        return Response(OwnershipOutput(made, many=True).data, status=status.HTTP_201_CREATED)


class MoveInInput(serializers.Serializer):
    unit = serializers.UUIDField()
    person = serializers.UUIDField()
    on = serializers.DateField()
    relation = serializers.ChoiceField(choices=Relation.choices, required=False, default=Relation.OWNER)


class OccupancyListApi(APIView):
    @extend_schema(
        request=MoveInInput, responses={201: OccupancyOutput}, summary="Record a move-in", tags=["households"]
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        data = MoveInInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        occupancy = services.occupancy_move_in(
            by=viewer,
            unit=estate_selectors.unit_get(viewer=viewer, unit_id=values["unit"]),
            person=selectors.person_get(viewer=viewer, person_id=values["person"]),
            on=values["on"],
            relation=values["relation"],
        )
        return Response(OccupancyOutput(occupancy).data, status=status.HTTP_201_CREATED)


class MoveOutApi(APIView):
    @extend_schema(request=OnInput, responses=OccupancyOutput, summary="Record a move-out", tags=["households"])
    def post(self, request: Request, occupancy_id: str) -> Response:
        viewer = acting_user(request)
        occupancy = selectors.occupancy_get(viewer=viewer, occupancy_id=occupancy_id)
        return Response(
            OccupancyOutput(services.occupancy_move_out(by=viewer, occupancy=occupancy, on=_on(request))).data
        )


class VehicleInput(serializers.Serializer):
    person = serializers.UUIDField()
    plate = serializers.CharField(max_length=12)
    description = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    parking_space = serializers.UUIDField(required=False, allow_null=True, default=None)


class VehicleListApi(APIView):
    @extend_schema(
        responses=VehicleOutput(many=True),
        parameters=[OpenApiParameter("search", str)],
        summary="Registered vehicles",
        tags=["households"],
    )
    def get(self, request: Request) -> Response:
        vehicles = selectors.vehicle_list(viewer=acting_user(request), search=request.query_params.get("search", ""))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(vehicles, request, view=self)
        return paginator.get_paginated_response(VehicleOutput(page, many=True).data)

    @extend_schema(
        request=VehicleInput, responses={201: VehicleOutput}, summary="Register a vehicle", tags=["households"]
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        data = VehicleInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        space = (
            estate_selectors.record_get(ParkingSpace, viewer=viewer, record_id=values["parking_space"])
            if values["parking_space"]
            else None
        )
        vehicle = services.vehicle_add(
            by=viewer,
            person=selectors.person_get(viewer=viewer, person_id=values["person"]),
            plate=values["plate"],
            description=values["description"],
            parking_space=space,
        )
        return Response(VehicleOutput(vehicle).data, status=status.HTTP_201_CREATED)


class VehicleRemoveApi(APIView):
    @extend_schema(request=None, responses=VehicleOutput, summary="Remove a vehicle", tags=["households"])
    def post(self, request: Request, vehicle_id: str) -> Response:
        viewer = acting_user(request)
        vehicle = selectors.vehicle_get(viewer=viewer, vehicle_id=vehicle_id)
        return Response(VehicleOutput(services.vehicle_remove(by=viewer, vehicle=vehicle)).data)


class MyHouseholdApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "MyHousehold",
            {
                "person": serializers.DictField(),
                "ownerships": OwnershipOutput(many=True),
                "occupancies": OccupancyOutput(many=True),
                "members": OccupancyOutput(many=True),
            },
        ),
        summary="For an owner: their units and the people living in them",
        tags=["owner portal"],
    )
    def get(self, request: Request) -> Response:
        home = selectors.owner_home(user=acting_user(request))
        if home is None:
            raise NotFound(_("No household is linked to this account."))
        person = home["person"]
        return Response(
            {
                "person": {
                    "name": person.name,
                    "phone": person.phone,
                    "email": person.email,
                    "contact_channel": person.contact_channel,
                    "accepts_notices": person.accepts_notices,
                    "emergency_contact": person.emergency_contact,
                },
                "ownerships": OwnershipOutput(home["ownerships"], many=True).data,
                "occupancies": OccupancyOutput(home["occupancies"], many=True).data,
                "members": OccupancyOutput(home["members"], many=True).data,
            }
        )
