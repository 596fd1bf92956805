"""Reads for the vendor console."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from wuye.accounts.selectors import staff_counts
from wuye.core.errors import NotFound

from . import schemas
from .models import Company, CompanyStatus, Domain, PooledSchema, PooledSchemaKind


@functools.cache
def timezone_names() -> frozenset[str]:
    """The IANA zones a company may use. Reading the tz database's directory costs ~10 ms (a third of a
    provisioning once measured) and it only changes with an upgrade, so once per process."""
    return frozenset(zoneinfo.available_timezones())


def slug_holders(*, slug: str, host: str, schema_name: str) -> tuple[bool, bool, bool]:
    """Whether a company has this slug, a company serves this host, a schema has this name: one round
    trip, as it runs inside every provisioning. Slugs are stored in lowercase (a check constraint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT EXISTS (SELECT 1 FROM {Company._meta.db_table} WHERE slug = %s),
                   EXISTS (SELECT 1 FROM {Domain._meta.db_table} WHERE domain = %s),
                   EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s)
            """,  # noqa: S608 - table names come from the models, values are parameters
            [slug, host, schema_name],
        )
        company, domain, schema = cursor.fetchone()
    return bool(company), bool(domain), bool(schema)


def company_list(*, search: str = "", status: str = "") -> QuerySet[Company]:
    companies = Company.objects.select_related("plan").prefetch_related("domains")
    if search:
        companies = companies.filter(
            Q(name__icontains=search) | Q(slug__icontains=search.lower()) | Q(domains__domain__icontains=search.lower())
        ).distinct()
    if status in CompanyStatus.values:
        companies = companies.filter(status=status)
    return companies.order_by("name")


def company_get(*, slug: str) -> Company:
    company = Company.objects.select_related("plan").filter(slug=slug).first()
    if company is None:
        raise NotFound(_("No such company."))
    return company


def fleet_summary() -> dict[str, Any]:
    counts = Company.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=CompanyStatus.ACTIVE)),
        suspended=Count("pk", filter=Q(status=CompanyStatus.SUSPENDED)),
    )
    counts["spares"] = PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).count()
    return counts


def company_sizes() -> dict[str, int]:
    """Bytes on disk per company schema: one query for the whole list."""
    return schemas.sizes()


def company_staff_counts(company: Company) -> dict[str, int]:
    with schema_context(company.schema_name):
        return staff_counts()


def pool_state() -> dict[str, Any]:
    pooled = list(PooledSchema.objects.all())
    fingerprint = schemas.code_fingerprint()
    return {
        "template": next((p for p in pooled if p.kind == PooledSchemaKind.TEMPLATE), None),
        "spares": [p for p in pooled if p.kind == PooledSchemaKind.SPARE],
        "fingerprint": fingerprint,
    }
