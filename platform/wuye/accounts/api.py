"""REST API of accounts: thin views that validate input, call one service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.pagination import PageNumberPagination
from wuye.core.scope import Reach

from . import selectors, services
from .models import ApiToken, Role, User
from .policies import acting_user


class UserOutput(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "phone", "kind", "language", "roles", "status", "date_joined", "last_login"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())

    def get_status(self, user: User) -> str:
        if not user.is_active:
            return "inactive"
        return "active" if user.has_signed_up else "invited"


class MeApi(APIView):
    @extend_schema(responses=UserOutput, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


class StaffListApi(APIView):
    ordering_fields = ["name", "email", "date_joined"]

    class InviteInput(serializers.Serializer):
        email = serializers.EmailField()
        name = serializers.CharField(max_length=100)
        phone = serializers.CharField(max_length=32, required=False, default="")
        roles = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)

    @extend_schema(responses=UserOutput(many=True), summary="Staff accounts of this company")
    def get(self, request: Request) -> Response:
        users = selectors.staff_list(
            viewer=acting_user(request),
            search=request.query_params.get("search", "").strip(),
            status=request.query_params.get("status", ""),
        )
        users = OrderingFilter().filter_queryset(request, users, self)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(UserOutput(page, many=True).data)

    @extend_schema(request=InviteInput, responses={201: UserOutput}, summary="Invite a staff member by e-mail")
    def post(self, request: Request) -> Response:
        data = self.InviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_invite(by=acting_user(request), **data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(APIView):
    @extend_schema(responses=UserOutput, summary="One staff account")
    def get(self, request: Request, user_id: str) -> Response:
        return Response(UserOutput(selectors.staff_get(viewer=acting_user(request), user_id=user_id)).data)


class StaffActionApi(APIView):
    """POST deactivate / reactivate / password-reset on one staff account."""

    action: str = ""

    @extend_schema(request=None, responses=UserOutput)
    def post(self, request: Request, user_id: str) -> Response:
        member = selectors.staff_get(viewer=acting_user(request), user_id=user_id)
        by: Any = request.user
        if self.action == "deactivate":
            member = services.user_deactivate(by=by, user=member)
        elif self.action == "reactivate":
            member = services.user_reactivate(by=by, user=member)
        else:
            services.user_password_reset_send(by=by, user=member)
        return Response(UserOutput(member).data)


class TokenOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]


class SignInThrottle(AnonRateThrottle):
    rate = "20/min"
    scope = "api_sign_in"


class TokenListApi(APIView):
    """GET: your tokens. POST with e-mail and password: a new token (its text is shown only once)."""

    class CreateInput(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
        name = serializers.CharField(max_length=100, required=False, default="API")
        expires_in_days = serializers.IntegerField(
            required=False, allow_null=True, default=None, min_value=1, max_value=3650
        )

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method == "POST" else list(super().get_permissions())

    def get_throttles(self) -> list[Any]:
        return [SignInThrottle()] if self.request.method == "POST" else super().get_throttles()

    @extend_schema(responses=TokenOutput(many=True), summary="Your API tokens")
    def get(self, request: Request) -> Response:
        return Response(TokenOutput(selectors.api_tokens_of(user=acting_user(request)), many=True).data)

    @extend_schema(
        request=CreateInput,
        responses={
            201: inline_serializer("TokenCreated", {"token": serializers.CharField(), "details": TokenOutput()})
        },
        summary="Exchange e-mail and password for an API token",
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=data.validated_data["email"], password=data.validated_data["password"]
        )
        if user is None or getattr(user, "kind", None) == "vendor":
            raise ServiceError(_("The e-mail or the password is wrong."), code="invalid_credentials")
        if not user.is_active:
            raise PolicyDenied(_("This account is deactivated."))
        token, raw = services.api_token_create(
            user=user, name=data.validated_data["name"], expires_in_days=data.validated_data["expires_in_days"]
        )
        return Response({"token": raw, "details": TokenOutput(token).data}, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(responses={204: None}, summary="Revoke one of your tokens")
    def delete(self, request: Request, token_id: str) -> Response:
        token = selectors.api_token_get(viewer=acting_user(request), token_id=token_id)
        services.api_token_revoke(by=acting_user(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    code = serializers.CharField(source="group.name", read_only=True)
    name = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    holders = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Role
        fields = ["id", "code", "name", "reach", "is_system", "description", "permissions", "holders"]

    def get_name(self, role: Role) -> str:
        return selectors.role_display_name(role)

    def get_permissions(self, role: Role) -> list[str]:
        return selectors.role_permissions(role)


class RoleInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    reach = serializers.ChoiceField(choices=Reach.choices)
    permissions = serializers.ListField(child=serializers.CharField(max_length=120))
    description = serializers.CharField(required=False, default="", allow_blank=True)


class RoleListApi(APIView):
    @extend_schema(responses=RoleOutput(many=True), summary="Roles: the platform's and the company's own")
    def get(self, request: Request) -> Response:
        return Response(RoleOutput(selectors.role_list(viewer=acting_user(request)), many=True).data)

    @extend_schema(request=RoleInput, responses={201: RoleOutput}, summary="Make a role from permission codenames")
    def post(self, request: Request) -> Response:
        data = RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.role_create(by=acting_user(request), **data.validated_data)
        return Response(RoleOutput(selectors.role_get(viewer=acting_user(request), role_id=role.pk)).data, status=201)


class RoleDetailApi(APIView):
    @extend_schema(responses=RoleOutput, summary="One role")
    def get(self, request: Request, role_id: int) -> Response:
        return Response(RoleOutput(selectors.role_get(viewer=acting_user(request), role_id=role_id)).data)

    @extend_schema(request=RoleInput(partial=True), responses=RoleOutput, summary="Change a role of the company's own")
    def patch(self, request: Request, role_id: int) -> Response:
        viewer = acting_user(request)
        role = selectors.role_get(viewer=viewer, role_id=role_id)
        data = RoleInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.role_update(by=viewer, role=role, **data.validated_data)
        return Response(RoleOutput(selectors.role_get(viewer=viewer, role_id=role_id)).data)

    @extend_schema(responses={204: None}, summary="Delete a role of the company's own that nobody holds")
    def delete(self, request: Request, role_id: int) -> Response:
        viewer = acting_user(request)
        services.role_delete(by=viewer, role=selectors.role_get(viewer=viewer, role_id=role_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRolesApi(APIView):
    class RolesInput(serializers.Serializer):
        roles = serializers.ListField(child=serializers.CharField(max_length=150))

    @extend_schema(request=RolesInput, responses=UserOutput, summary="Give a staff account exactly these roles")
    def put(self, request: Request, user_id: str) -> Response:
        viewer = acting_user(request)
        member = selectors.staff_get(viewer=viewer, user_id=user_id)
        data = self.RolesInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            UserOutput(services.user_roles_set(by=viewer, user=member, roles=data.validated_data["roles"])).data
        )
