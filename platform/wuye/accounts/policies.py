"""Who may manage accounts, and the roles accounts defines (roles.py holds the registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.utils.translation import gettext_lazy as _

from wuye.core.errors import PolicyDenied
from wuye.core.policies import allowed

from . import roles

if TYPE_CHECKING:
    from .models import User

COMPANY_ADMIN = "company_admin"
roles.define(COMPANY_ADMIN, _("Company administrator"))
roles.grant(
    COMPANY_ADMIN,
    [
        "accounts.view_user",
        "accounts.invite_user",
        "accounts.change_user",
        "accounts.deactivate_user",
        "accounts.reset_user_password",
    ],
)

VIEW_STAFF = "accounts.view_user"
INVITE_STAFF = "accounts.invite_user"
DEACTIVATE_STAFF = "accounts.deactivate_user"
RESET_STAFF_PASSWORD = "accounts.reset_user_password"  # noqa: S105  (a permission name)


def can_view_staff(user: Any) -> bool:
    return allowed(user, VIEW_STAFF)


def can_invite_staff(user: Any) -> bool:
    return allowed(user, INVITE_STAFF)


def can_deactivate_staff(user: Any) -> bool:
    return allowed(user, DEACTIVATE_STAFF)


def can_reset_staff_password(user: Any) -> bool:
    return allowed(user, RESET_STAFF_PASSWORD)


def is_vendor_staff(user: Any) -> bool:
    """Vendor console access: an active vendor account signed in at the base domain."""
    return bool(user.is_authenticated and user.is_active and user.kind == "vendor" and user.is_staff)


def acting_user(request: Any) -> User:
    """The signed-in user of a request (pages behind login_required, API views behind IsAuthenticated)."""
    user = request.user
    if not user.is_authenticated:
        raise PolicyDenied(str(_("Sign in first.")))
    return cast("User", user)
