"""Who may see and change the organisation. Roles contribute codenames here as data."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import COMPANY_ADMIN, CS_MANAGER, PROJECT_MANAGER, ZONE_MANAGER
from wuye.core.policies import allowed

VIEW_ORGANISATION = "staff.view_department"
VIEW_MEMBER = "staff.view_staffmember"
ADD_MEMBER = "staff.add_staffmember"
CHANGE_MEMBER = "staff.change_staffmember"

roles.grant(
    COMPANY_ADMIN,
    [
        "staff.view_department",
        "staff.add_department",
        "staff.change_department",
        "staff.view_position",
        "staff.add_position",
        "staff.change_position",
        VIEW_MEMBER,
        ADD_MEMBER,
        CHANGE_MEMBER,
    ],
)
# The project manager places the project's own staff; managers see who works where.
roles.grant(PROJECT_MANAGER, [VIEW_ORGANISATION, "staff.view_position", VIEW_MEMBER, ADD_MEMBER, CHANGE_MEMBER])
roles.grant(CS_MANAGER, [VIEW_ORGANISATION, "staff.view_position", VIEW_MEMBER])
# Placing people needs seeing their accounts.
roles.grant(PROJECT_MANAGER, ["accounts.view_user"])
roles.grant(ZONE_MANAGER, [VIEW_ORGANISATION, "staff.view_position"])


def can_view_organisation(user: Any) -> bool:
    return allowed(user, VIEW_ORGANISATION)


def can_view_members(user: Any) -> bool:
    return allowed(user, VIEW_MEMBER)


def can_place_staff(user: Any) -> bool:
    return allowed(user, CHANGE_MEMBER) and allowed(user, ADD_MEMBER)
