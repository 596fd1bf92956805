from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from modules.estate import selectors as estate_selectors
from wuye.accounts import selectors as account_selectors
from wuye.accounts.policies import acting_user
from wuye.core.pagination import PageNumberPagination

from . import selectors, services
from .models import Department, Position, StaffMember


class PositionOutput(serializers.ModelSerializer):
    reports_to: serializers.SlugRelatedField[Position] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Position
        fields = ["id", "code", "name", "scope", "is_team_leader", "reports_to"]


class DepartmentOutput(serializers.ModelSerializer):
    positions = PositionOutput(many=True, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "is_active", "positions"]


class DepartmentListApi(APIView):
    @extend_schema(responses=DepartmentOutput(many=True), summary="Departments and their positions")
    def get(self, request: Request) -> Response:
        return Response(DepartmentOutput(selectors.department_list(viewer=acting_user(request)), many=True).data)


class MemberOutput(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    position: serializers.SlugRelatedField[Position] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department: serializers.SlugRelatedField[Department] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    zones = serializers.SerializerMethodField()

    class Meta:
        model = StaffMember
        fields = [
            "user", "name", "email", "position", "department", "project", "zones", "is_team_leader", "employee_number",
        ]  # fmt: skip

    def get_zones(self, member: StaffMember) -> list[str]:
        return [str(assignment.zone_id) for assignment in member.zone_assignments.all()]


class MemberInput(serializers.Serializer):
    position = serializers.SlugField(required=False, allow_null=True, default=None, help_text="A position code")
    department = serializers.SlugField(required=False, allow_null=True, default=None, help_text="A department code")
    project = serializers.UUIDField(required=False, allow_null=True, default=None)
    zones = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    is_team_leader = serializers.BooleanField(required=False, default=False)
    employee_number = serializers.CharField(required=False, default="", allow_blank=True, max_length=30)


class MemberListApi(APIView):
    @extend_schema(
        responses=MemberOutput(many=True),
        parameters=[OpenApiParameter("project", str), OpenApiParameter("department", str)],
        summary="Staff members where you work: position, department, project, zones",
    )
    def get(self, request: Request) -> Response:
        members = selectors.member_list(
            viewer=acting_user(request),
            project_id=request.query_params.get("project") or None,
            department_id=request.query_params.get("department") or None,
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(members, request, view=self)
        return paginator.get_paginated_response(MemberOutput(page, many=True).data)


class MemberDetailApi(APIView):
    @extend_schema(responses=MemberOutput, summary="A staff member's place in the organisation")
    def get(self, request: Request, user_id: str) -> Response:
        return Response(MemberOutput(selectors.member_get(viewer=acting_user(request), user_id=user_id)).data)

    @extend_schema(request=MemberInput, responses=MemberOutput, summary="Place a staff account in the organisation")
    def put(self, request: Request, user_id: str) -> Response:
        viewer = acting_user(request)
        user = account_selectors.staff_get(viewer=viewer, user_id=user_id)
        data = MemberInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        member = services.staff_member_set(
            by=viewer,
            user=user,
            position=selectors.position_by_code(values["position"]),
            department=selectors.department_by_code(values["department"]),
            project=estate_selectors.project_get(viewer=viewer, project_id=values["project"])
            if values["project"]
            else None,
            zones=[estate_selectors.zone_get(viewer=viewer, zone_id=zone) for zone in values["zones"]],
            is_team_leader=values["is_team_leader"],
            employee_number=values["employee_number"],
        )
        return Response(MemberOutput(selectors.member_get(viewer=viewer, user_id=member.user_id)).data)
