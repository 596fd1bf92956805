"""Who may see and change the organisation. Roles contribute codenames here as data."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import COMPANY_ADMIN
from wuye.core.policies import allowed

VIEW_ORGANISATION = "staff.view_department"

roles.grant(
    COMPANY_ADMIN,
    [
        "staff.view_department",
        "staff.add_department",
        "staff.change_department",
        "staff.view_position",
        "staff.add_position",
        "staff.change_position",
    ],
)


def can_view_organisation(user: Any) -> bool:
    return allowed(user, VIEW_ORGANISATION)
