"""Reads on accounts, scoped to what the viewer may see, with their joins done."""

from __future__ import annotations

import uuid

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Permission
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from wuye.core.errors import NotFound
from wuye.core.policies import require

from . import policies, roles
from .models import ApiToken, Role, User, UserKind


def staff_list(*, viewer: User, search: str = "", status: str = "") -> QuerySet[User]:
    require(viewer, policies.VIEW_STAFF)
    from django.contrib.auth.models import Group

    users = User.objects.filter(kind=UserKind.STAFF).prefetch_related(
        Prefetch("groups", queryset=Group.objects.only("id", "name"))
    )
    if search:
        users = users.filter(
            Q(name__icontains=search) | Q(email__icontains=search.lower()) | Q(phone__icontains=search)
        )
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    return users.order_by("name", "email")


def staff_get(*, viewer: User, user_id: uuid.UUID | str) -> User:
    try:
        return staff_list(viewer=viewer).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such account.")) from None


def staff_counts() -> dict[str, int]:
    """Active, invitation pending, and deactivated staff accounts: one query."""
    return User.objects.filter(kind=UserKind.STAFF).aggregate(
        active=Count("pk", filter=Q(is_active=True) & ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)),
        invited=Count("pk", filter=Q(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)),
        inactive=Count("pk", filter=Q(is_active=False)),
    )


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get(*, viewer: User, token_id: uuid.UUID | str) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=viewer).first()
    if token is None:
        raise NotFound(_("No such token."))
    return token


def role_codes_of(user: User) -> list[str]:
    return sorted(group.name for group in user.groups.all())


def role_list(*, viewer: User) -> QuerySet[Role]:
    require(viewer, policies.VIEW_ROLES)
    return (
        Role.objects.select_related("group")
        .prefetch_related(
            Prefetch("group__permissions", queryset=Permission.objects.select_related("content_type")),
        )
        .annotate(holders=Count("group__user", distinct=True))
        .order_by("-is_system", "name")
    )


def role_get(*, viewer: User, role_id: int | str) -> Role:
    try:
        return role_list(viewer=viewer).get(pk=int(role_id))
    except (Role.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such role.")) from None


def role_display_name(role: Role) -> str:
    """The platform's roles in the reader's language; a company's own under the name it gave them."""
    return str(roles.names().get(role.group.name, role.name)) if role.is_system else role.name


def role_permissions(role: Role) -> list[str]:
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.group.permissions.all())
