"""`migrate` / `migrate_schemas`: django-tenants' command, extended to the template and the spares.

A spare that missed a migration would hand a new company an outdated schema, so every schema in the pool
is migrated with the companies, and stamped with the code's migration fingerprint afterwards.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor

from tenants import schemas
from tenants.models import PooledSchema, PooledSchemaKind


class Command(MigrateSchemasCommand):
    help = "Migrates the public schema, every company, the template schema and the spare schemas."

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        whole_run = self.sync_tenant and not options.get("schema_name")
        if not whole_run:
            return
        template = settings.TENANT_BASE_SCHEMA
        if not schemas.exists(template):
            schemas.create_empty(template)
        pooled = [
            template,
            *PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).values_list("schema_name", flat=True),
        ]
        executor = get_executor(codename=self.executor)(self.args, self.options)
        executor.run_migrations(tenants=list(pooled))
        if (
            options.get("app_label")
            or options.get("migration_name")
            or options.get("plan")
            or options.get("check_unapplied")
        ):
            return  # a partial run: the pool is not at the code's head, do not stamp it
        from tenants.services import pool_stamp_migrated, template_ensure

        template_ensure()  # records the template's row when it is new
        pool_stamp_migrated(pooled)
