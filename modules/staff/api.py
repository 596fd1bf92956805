from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.accounts.policies import acting_user

from . import selectors
from .models import Department, Position


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
