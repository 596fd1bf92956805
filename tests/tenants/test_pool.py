"""The warm pool: spares are migrated with the companies; the refill tops up, discards stale spares and
removes schemas a dead worker left behind."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tenants import schemas, services
from tenants.models import PooledSchema, PooledSchemaKind


def _has_table(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}"."{table}"'])
        return cursor.fetchone()[0] is not None


@pytest.mark.committed
def test_spares_are_migrated_with_the_companies(committed_db) -> None:
    spare = services.spare_create(method="clone")
    try:
        # Take the spare back to before the staff module existed, as if it had been made by older code.
        call_command(
            "migrate_schemas",
            "staff",
            "zero",
            schema_name=spare.schema_name,
            tenant=True,
            interactive=False,
            verbosity=0,
        )
        connection.set_schema_to_public()
        PooledSchema.objects.filter(pk=spare.pk).update(fingerprint="made-by-older-code")
        assert not _has_table(spare.schema_name, "staff_department")

        call_command("migrate", interactive=False, verbosity=0)

        connection.set_schema_to_public()
        assert _has_table(spare.schema_name, "staff_department")
        assert PooledSchema.objects.get(pk=spare.pk).fingerprint == schemas.code_fingerprint()
        assert _has_table("c_alpha", "staff_department") and _has_table(
            services.settings.TENANT_BASE_SCHEMA, "staff_department"
        )
    finally:
        connection.set_schema_to_public()
        schemas.drop(spare.schema_name)
        PooledSchema.objects.filter(pk=spare.pk).delete()


def test_the_refill_tops_up_and_cleans(db, settings) -> None:
    settings.SPARE_POOL_SIZE = 2
    PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).delete()
    stale = services.spare_create(method="clone")
    PooledSchema.objects.filter(pk=stale.pk).update(fingerprint="older")
    schemas.create_empty("spare_orphan01")  # a worker died after CREATE SCHEMA

    made = services.spare_pool_refill()

    assert made == 2
    names = set(PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).values_list("schema_name", flat=True))
    assert len(names) == 2 and stale.schema_name not in names
    assert not schemas.exists(stale.schema_name)
    assert not schemas.exists("spare_orphan01")
    assert all(schemas.exists(name) for name in names)
    assert services.spare_pool_refill() == 0  # full: nothing to do


def test_spares_can_be_made_by_migration(db) -> None:
    spare = services.spare_create(method="migrate")
    assert spare.method == "migrate"
    assert _has_table(spare.schema_name, "accounts_user")
    assert spare.fingerprint == schemas.code_fingerprint()


def test_a_failed_spare_leaves_no_schema(db, monkeypatch) -> None:
    def broken_clone(source: str, target: str) -> None:
        schemas.create_empty(target)
        raise RuntimeError("clone interrupted")

    monkeypatch.setattr(schemas, "clone", broken_clone)
    before = PooledSchema.objects.count()
    with pytest.raises(RuntimeError):
        services.spare_create(method="clone")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'spare\\_%%'")
        leftover = cursor.fetchone()[0]
    assert leftover == PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).count()
    assert PooledSchema.objects.count() == before


def test_a_clone_keeps_the_constraint_names_migrations_give(db) -> None:
    """django-tenants' clone recreates unique constraints under PostgreSQL's generated names; a migration
    that removes `staff_department_name_unique` by name would then fail on every cloned company."""
    template = services.template_ensure().schema_name  # made by migrations
    migrated = schemas.constraints(template)
    assert ("staff_department", "staff_department_name_unique") in migrated

    spare = services.spare_create(method="clone")
    assert schemas.constraints(spare.schema_name) == migrated


def test_aligning_names_renames_only_what_differs(db) -> None:
    spare = services.spare_create(method="migrate")
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {schemas.quote(spare.schema_name)}.staff_department "
            "RENAME CONSTRAINT staff_department_name_unique TO staff_department_name_key"
        )
    template = services.template_ensure().schema_name
    assert schemas.constraint_names_align(template, spare.schema_name) == 1
    assert schemas.constraints(spare.schema_name) == schemas.constraints(template)
    assert schemas.constraint_names_align(template, spare.schema_name) == 0
