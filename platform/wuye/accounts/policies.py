"""Who may manage accounts, and the roles accounts defines (roles.py holds the registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.utils.translation import gettext_lazy as _

from wuye.core.errors import PolicyDenied
from wuye.core.policies import allowed

from . import roles

if TYPE_CHECKING:
    from .models import User

# The roles of DOMAIN.md §1. Each module grants its permissions to them in its own policies.py.
COMPANY_ADMIN = "company_admin"
PROJECT_MANAGER = "project_manager"  # 项目经理
CS_MANAGER = "cs_manager"  # 客户服务部经理
ZONE_MANAGER = "zone_manager"  # 分区客户经理
CS_STAFF = "cs_staff"  # 客服专员 (front desk)
ENGINEERING = "engineering"  # 工程维修部
SECURITY = "security"  # 秩序维护部
FINANCE = "finance"  # 财务
CLEANING = "cleaning"  # 保洁
LANDSCAPING = "landscaping"  # 绿化
roles.define(COMPANY_ADMIN, _("Company administrator"), reach="company")
roles.define(PROJECT_MANAGER, _("Project manager"), reach="project")
roles.define(CS_MANAGER, _("Customer service manager"), reach="project")
roles.define(ZONE_MANAGER, _("Zone customer manager"), reach="zone")
roles.define(CS_STAFF, _("Customer service staff"), reach="project")
roles.define(ENGINEERING, _("Engineering and repairs staff"), reach="project")
roles.define(SECURITY, _("Security and order staff"), reach="project")
roles.define(FINANCE, _("Finance staff"), reach="project")
roles.define(CLEANING, _("Cleaning staff"), reach="project")
roles.define(LANDSCAPING, _("Landscaping staff"), reach="project")
# Roles that look after owners: they see the households of their scope.
OWNER_FACING = [PROJECT_MANAGER, CS_MANAGER, ZONE_MANAGER, CS_STAFF]
roles.grant(
    COMPANY_ADMIN,
    [
        "accounts.view_user",
        "accounts.invite_user",
        "accounts.change_user",
        "accounts.deactivate_user",
        "accounts.reset_user_password",
        "core.view_auditentry",  # the audit log of the whole company
        "auth.view_group",
        "auth.add_group",
        "auth.change_group",
        "auth.delete_group",
    ],
)
VIEW_AUDIT_LOG = "core.view_auditentry"
VIEW_ROLES = "auth.view_group"
MANAGE_ROLES = "auth.change_group"
ASSIGN_ROLES = "accounts.change_user"

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


def can_view_roles(user: Any) -> bool:
    return allowed(user, VIEW_ROLES)


def can_manage_roles(user: Any) -> bool:
    return allowed(user, MANAGE_ROLES)


def can_assign_roles(user: Any) -> bool:
    return allowed(user, ASSIGN_ROLES)


def is_vendor_staff(user: Any) -> bool:
    """Vendor console access: an active vendor account signed in at the base domain."""
    return bool(user.is_authenticated and user.is_active and user.kind == "vendor" and user.is_staff)


def acting_user(request: Any) -> User:
    """The signed-in user of a request (pages behind login_required, API views behind IsAuthenticated)."""
    user = request.user
    if not user.is_authenticated:
        raise PolicyDenied(str(_("Sign in first.")))
    return cast("User", user)
