"""Who may see and change the estate, as data: role -> permission codenames. Where (which projects and
zones) comes from the user's scope (wuye.core.scope), applied by every selector and service."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import (
    CLEANING,
    COMPANY_ADMIN,
    CS_MANAGER,
    CS_STAFF,
    ENGINEERING,
    FINANCE,
    LANDSCAPING,
    PROJECT_MANAGER,
    SECURITY,
    ZONE_MANAGER,
)
from wuye.core.policies import allowed

ENTITIES = ["project", "zone", "building", "unit", "parkingspace", "meter", "facility"]


def perm(action: str, entity: str) -> str:
    return f"estate.{action}_{entity}"


VIEW = perm("view", "project")  # the estate pages: any role that sees projects

_every = [perm(action, entity) for entity in ENTITIES for action in ("view", "add", "change", "delete")]
_view_all = [perm("view", entity) for entity in ENTITIES]

roles.grant(COMPANY_ADMIN, _every)
# The project manager runs the project's estate records, but projects themselves are the company's.
roles.grant(
    PROJECT_MANAGER,
    _view_all
    + [perm("change", "project")]
    + [perm(action, entity) for entity in ENTITIES[1:] for action in ("add", "change", "delete")],
)
roles.grant(
    CS_MANAGER,
    _view_all
    + [
        perm(action, entity) for entity in ("building", "unit", "parkingspace", "meter") for action in ("add", "change")
    ],
)
roles.grant(CS_STAFF, [*_view_all, perm("change", "unit"), perm("change", "parkingspace")])
roles.grant(ZONE_MANAGER, [*_view_all, perm("change", "unit")])
roles.grant(
    ENGINEERING,
    [perm("view", e) for e in ("project", "zone", "building", "unit", "meter", "facility")]
    + [perm(action, entity) for entity in ("meter", "facility") for action in ("add", "change")],
)
roles.grant(SECURITY, [perm("view", e) for e in ("project", "zone", "building", "unit", "parkingspace", "facility")])
roles.grant(FINANCE, _view_all)
for _role in (CLEANING, LANDSCAPING):
    roles.grant(_role, [perm("view", e) for e in ("project", "zone", "building", "facility")])


def can(user: Any, action: str, entity: str) -> bool:
    return allowed(user, perm(action, entity))
