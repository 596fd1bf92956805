"""Reads for the vendor console."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from wuye.accounts.selectors import staff_counts
from wuye.core.errors import NotFound

from . import schemas
from .models import Company, CompanyStatus, PooledSchema, PooledSchemaKind


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
