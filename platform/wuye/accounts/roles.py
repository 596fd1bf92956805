"""Roles as data. A role is a code, a display name and a set of permission codenames; each module's
policies.py grants its codenames to roles here (from its AppConfig.ready), and the roles seeder writes
them into every new company as auth groups. One place answers "what may a company admin do?"."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise

_NAMES: dict[str, str | Promise] = {}
_REACHES: dict[str, str] = {}
_GRANTS: dict[str, set[str]] = {}


def define(code: str, name: str | Promise, *, reach: str = "company") -> None:
    """A platform role. `reach` (wuye.core.scope.Reach): company, or the project / zones the holder's
    staff assignment names."""
    if reach not in {"company", "project", "zone"}:
        raise ValueError(f"role {code!r}: unknown reach {reach!r}")
    _NAMES[code] = name
    _REACHES[code] = reach
    _GRANTS.setdefault(code, set())


def grant(code: str, codenames: Iterable[str]) -> None:
    if code not in _NAMES:
        raise KeyError(f"role {code!r} is not defined")
    for codename in codenames:
        if codename.count(".") != 1:
            raise ValueError(f"{codename!r}: a permission is 'app_label.codename'")
        _GRANTS[code].add(codename)


def names() -> dict[str, str | Promise]:
    return dict(_NAMES)


def reach_of(code: str) -> str:
    return _REACHES[code]


def grantable() -> list[str]:
    """What a company may put in roles of its own: what the company administrator holds, no more."""
    return sorted(_GRANTS.get("company_admin", set()))


def permissions_of(code: str) -> list[str]:
    return sorted(_GRANTS[code])
