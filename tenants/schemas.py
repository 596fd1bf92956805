"""Low-level schema operations: create, clone, rename, drop, migrate, and the migration fingerprint."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from wuye.core.tenancy import use_public_schema


def quote(name: str) -> str:
    """A schema name as a quoted identifier. Names here are generated or validated (letters, digits,
    underscores), so this is a second line of defence, not the only one."""
    if not name or '"' in name or "\x00" in name:
        raise ValueError(f"unsafe schema name {name!r}")
    return '"' + name + '"'


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The latest migration of every app in the running code, hashed: a schema stamped with this value
    has every migration this code knows."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaves = sorted(f"{app}.{name}" for app, name in loader.graph.leaf_nodes())
    return hashlib.sha256("\n".join(leaves).encode()).hexdigest()


def exists(name: str) -> bool:
    return bool(schema_exists(name))


def create_empty(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote(name)}")


def migrate(name: str, *, verbosity: int = 0) -> None:
    """Apply every migration to one schema (which must exist)."""
    call_command(
        "migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=verbosity, stdout=io.StringIO()
    )
    use_public_schema()


def clone(source: str, target: str) -> None:
    """Copy `source` (tables, sequences, data) into a new schema `target` with django-tenants' clone,
    then give its constraints the names they have in `source`."""
    CloneSchema().clone_schema(source, target, clone_mode="DATA", set_connection=True)
    constraint_names_align(source, target)


# One row per constraint: its table, its name, and its definition with the schema's own name taken out
# (a foreign key's definition names the table it points to, schema-qualified when outside search_path).
_CONSTRAINTS_SQL = """
    SELECT t.relname, k.conname, k.contype::text || ':' || replace(pg_get_constraintdef(k.oid), %(prefix)s, '')
    FROM pg_constraint k
    JOIN pg_class t ON t.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = k.connamespace
    WHERE n.nspname = %(schema)s
"""


def constraints(schema: str) -> dict[tuple[str, str], str]:
    """(table, constraint name) -> definition, for every constraint in `schema`."""
    # Schema names here are lowercase letters, digits and underscores: PostgreSQL prints them unquoted.
    with connection.cursor() as cursor:
        cursor.execute(_CONSTRAINTS_SQL, {"schema": schema, "prefix": schema + "."})
        return {(table, name): definition for table, name, definition in cursor.fetchall()}


def constraint_names_align(source: str, target: str) -> int:
    """Rename `target`'s constraints to the names the same constraints have in `source`; returns how many.

    django-tenants' clone recreates unique constraints under PostgreSQL's generated names (a
    `UniqueConstraint(name="staff_department_name_unique")` comes back as `staff_department_name_key`).
    Django finds `unique=True` constraints by column, but `RemoveConstraint` and a renamed
    `UniqueConstraint` go by name, so a later migration would fail on every company made by a clone."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for (table, name), definition in constraints(source).items():
        wanted.setdefault((table, definition), []).append(name)
    have = constraints(target)
    renamed = 0
    with connection.cursor() as cursor:
        for (table, name), definition in sorted(have.items()):
            names = wanted.get((table, definition), [])
            if name in names or len(names) != 1 or (table, names[0]) in have:
                continue  # already right, ambiguous, or the name is taken: leave it as it is
            cursor.execute(
                f"ALTER TABLE {quote(target)}.{quote(table)} RENAME CONSTRAINT {quote(name)} TO {quote(names[0])}"
            )
            renamed += 1
    return renamed


def rename(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {quote(old)} RENAME TO {quote(new)}")


def drop(name: str) -> None:
    if name in {"public", settings.TENANT_BASE_SCHEMA} or name.startswith("pg_"):
        raise ValueError(f"refusing to drop schema {name!r}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(name)} CASCADE")


def sizes() -> dict[str, int]:
    """Bytes on disk per schema (tables, indexes, TOAST), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
            FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm')
            GROUP BY n.nspname
            """
        )
        return {name: int(size) for name, size in cursor.fetchall()}
