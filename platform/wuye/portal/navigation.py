"""The portal's navigation as data: each module registers its entries with the permission they need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

from wuye.core.policies import allowed


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    permission: str | None = None  # None: every signed-in user of the company
    order: int = 100
    area: str = "company"  # "company" (staff at a company's domain), "owner" (owners there), "vendor" (base domain)


_ITEMS: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _ITEMS[item.key] = item


def items_for(user: Any, area: str, current_path: str) -> list[dict[str, Any]]:
    if not getattr(user, "is_authenticated", False):
        return []
    result: list[dict[str, Any]] = []
    for item in sorted(_ITEMS.values(), key=lambda i: (i.order, i.key)):
        if item.area != area or (item.permission and not allowed(user, item.permission)):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        matches = current_path == url or (url != "/" and current_path.startswith(url))
        result.append({"label": item.label, "url": url, "active": matches})
    # Only the most specific entry is active: /fees/collection/ is "Collection rate", not also "Fees".
    matching = [entry for entry in result if entry["active"]]
    if len(matching) > 1:
        best = max(matching, key=lambda entry: len(entry["url"]))
        for entry in matching:
            entry["active"] = entry is best
    return result


# Where a kind of account lands after signing in, when not on the company's staff home (owners: the owner
# portal). Modules register theirs; the portal does not know them.
_HOMES: dict[str, str] = {}


def register_home(kind: str, url_name: str) -> None:
    _HOMES[kind] = url_name


def home_for(user: Any) -> str | None:
    url_name = _HOMES.get(getattr(user, "kind", ""))
    return reverse(url_name) if url_name else None
