"""Where a user may act: the whole company, some projects, some zones.

Permissions say *what* a user may do (roles as data, accounts.roles); the scope says *where*. Modules
low in the dependency order (estate) filter by scope without knowing where it comes from: the staff
module, which knows who works in which project and zone, registers the resolver at start-up. Every
selector and service of a scoped record goes through `scope_of(user)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

M = TypeVar("M", bound=Model)


class Reach(models.TextChoices):
    """How far a role (or a position) reaches: the staff assignment supplies which project, which zones."""

    COMPANY = "company", _("Company")
    PROJECT = "project", _("Project")
    ZONE = "zone", _("Zones")


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    project_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    zone_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # The projects the zones lie in: a zone manager sees their project's name and their zones' siblings'
    # names, not the records inside other zones.
    zone_project_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)

    def q(self, *, project: str | None = None, zone: str | None = None) -> Q:
        """A filter for records whose project is at the lookup `project` and zone at `zone`."""
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if project and self.project_ids:
            condition |= Q(**{f"{project}__in": self.project_ids})
        if zone and self.zone_ids:
            condition |= Q(**{f"{zone}__in": self.zone_ids})
        return condition

    def filter(self, queryset: QuerySet[M], *, project: str | None = None, zone: str | None = None) -> QuerySet[M]:
        return queryset if self.everything else queryset.filter(self.q(project=project, zone=zone))

    def covers(self, *, project_id: uuid.UUID | None, zone_id: uuid.UUID | None = None) -> bool:
        """Whether a record in this project (and zone, if it has one) is in scope."""
        if self.everything:
            return True
        if project_id is not None and project_id in self.project_ids:
            return True
        return zone_id is not None and zone_id in self.zone_ids

    def sees_project(self, project_id: uuid.UUID) -> bool:
        return self.everything or project_id in self.project_ids or project_id in self.zone_project_ids


NOTHING = Scope()
EVERYTHING = Scope(everything=True)

Resolver = Callable[[Any], Scope]
_resolver: list[Resolver] = []
_CACHE_ATTRIBUTE = "_wuye_scope"


def register_resolver(resolver: Resolver) -> None:
    """Called once, by the module that knows assignments (staff). A second call replaces the first."""
    _resolver[:] = [resolver]


def scope_of(user: Any) -> Scope:
    """The user's scope, worked out once per user object (a request's user lives as long as the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = _resolver[0](user) if _resolver else NOTHING
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def scope_forget(users: Iterable[Any]) -> None:
    """Drop cached scopes after an assignment changed (the next scope_of works it out again)."""
    for user in users:
        if hasattr(user, _CACHE_ATTRIBUTE):
            delattr(user, _CACHE_ATTRIBUTE)
