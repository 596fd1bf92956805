"""The current schema, through one typed door.

django-tenants replaces Django's database wrapper with one that knows its schema; these functions are
the only code that touches that wrapper's extra attributes, so the rest of the project stays typed."""

from __future__ import annotations

from typing import Any

from django.db import connection

PUBLIC_SCHEMA = "public"

_db: Any = connection


def current_schema() -> str:
    return str(_db.schema_name)


def in_public_schema() -> bool:
    return current_schema() == PUBLIC_SCHEMA


def use_public_schema() -> None:
    _db.set_schema_to_public()


def use_tenant(tenant: Any) -> None:
    _db.set_tenant(tenant)


def current_tenant() -> Any:
    """The tenant object django-tenants attached to the connection (a company, or a stand-in for public)."""
    return getattr(_db, "tenant", None)
