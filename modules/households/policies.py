"""Who may see and change households, as data. Where: a person is in scope through the units they own
or live in (now or before); the viewer's scope (wuye.core.scope) decides which units."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import (
    COMPANY_ADMIN,
    CS_MANAGER,
    CS_STAFF,
    ENGINEERING,
    FINANCE,
    PROJECT_MANAGER,
    SECURITY,
    ZONE_MANAGER,
)
from wuye.core.policies import allowed

ENTITIES = ["person", "ownership", "occupancy", "vehicle"]


def perm(action: str, entity: str) -> str:
    return f"households.{action}_{entity}"


VIEW = perm("view", "person")
VIEW_ID_NUMBER = "households.view_id_number"
INVITE_OWNER = "households.invite_owner"

_all = [perm(action, entity) for entity in ENTITIES for action in ("view", "add", "change")]
_view_all = [perm("view", entity) for entity in ENTITIES]

roles.grant(COMPANY_ADMIN, [*_all, VIEW_ID_NUMBER, INVITE_OWNER])
roles.grant(PROJECT_MANAGER, [*_all, VIEW_ID_NUMBER, INVITE_OWNER])
# The CS manager keeps the owner archives (《业户档案》): identity documents included.
roles.grant(CS_MANAGER, [*_all, VIEW_ID_NUMBER, INVITE_OWNER])
# The front desk registers people, ownerships, move-ins and cars, but sees ID numbers masked.
roles.grant(CS_STAFF, [*_all, INVITE_OWNER])
# The zone manager is the owners' advocate in their zones: keeps contact details and occupancy current.
roles.grant(
    ZONE_MANAGER,
    [*_view_all, perm("change", "person"), perm("add", "occupancy"), perm("change", "occupancy"), INVITE_OWNER],
)
roles.grant(FINANCE, [perm("view", "person"), perm("view", "ownership")])
roles.grant(SECURITY, [perm("view", "person"), perm("view", "occupancy"), perm("view", "vehicle")])
roles.grant(ENGINEERING, [perm("view", "person"), perm("view", "occupancy")])


def can(user: Any, action: str, entity: str) -> bool:
    return allowed(user, perm(action, entity))


def sees_id_numbers(user: Any) -> bool:
    return allowed(user, VIEW_ID_NUMBER)


def can_invite_owners(user: Any) -> bool:
    return allowed(user, INVITE_OWNER)
