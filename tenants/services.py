"""Writes on companies: provisioning from the warm pool, the pool itself, suspension, domains.

Provisioning never replays migrations on the request path. A spare schema, already migrated, is renamed
to the new company's schema (`ALTER SCHEMA ... RENAME`, under a millisecond), and the company's rows, its
domain, its seeded defaults and its first administrator are written in the same transaction: a failure
anywhere rolls all of it back, the rename included, and the spare is back in the pool.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, tenant_context

from wuye.accounts import services as account_services
from wuye.accounts.models import User
from wuye.accounts.policies import COMPANY_ADMIN
from wuye.core.errors import ServiceError
from wuye.core.queue import enqueue_on_commit
from wuye.core.seeding import SeedContext, run_seeders
from wuye.core.tenancy import use_public_schema

from . import schemas
from .models import (
    SCHEMA_PREFIX,
    SLUG_PATTERN,
    Company,
    CompanyEvent,
    CompanyEventKind,
    CompanyStatus,
    Domain,
    Plan,
    PooledSchema,
    PooledSchemaKind,
)
from .selectors import slug_holders, timezone_names

logger = logging.getLogger(__name__)

# Host labels a company may not take: they name the platform's own services, or mislead.
RESERVED_SLUGS = frozenset(
    [
        "www",
        "api",
        "admin",
        "administrator",
        "public",
        "static",
        "media",
        "assets",
        "cdn",
        "mail",
        "smtp",
        "imap",
        "pop",
        "pop3",
        "mx",
        "ftp",
        "ns",
        "ns1",
        "ns2",
        "dns",
        "vendor",
        "console",
        "app",
        "apps",
        "dashboard",
        "help",
        "support",
        "status",
        "docs",
        "doc",
        "blog",
        "dev",
        "test",
        "staging",
        "stage",
        "prod",
        "production",
        "wuye",
        "root",
        "system",
        "template",
        "spare",
        "spares",
        "pg",
        "postgres",
        "redis",
        "celery",
        "webhooks",
        "webhook",
        "billing",
        "pay",
        "payments",
        "stripe",
        "auth",
        "login",
        "logout",
        "signin",
        "signup",
        "account",
        "accounts",
        "healthz",
        "readyz",
        "metrics",
        "sentry",
        "internal",
        "localhost",
        "owner",
        "owners",
        "portal",
        "m",
        "mobile",
        "wap",
        "new",
    ]
)
SLUG_MIN, SLUG_MAX = 2, 40
_SLUG_RE = re.compile(SLUG_PATTERN)
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
POOL_LOCK_KEY = 7_405_112_001  # pg advisory lock: one refill at a time across workers


# ------------------------------------------------------------------------------------------ checks
def slug_check(raw: str) -> str:
    """The slug a company would get for `raw`, or ServiceError saying exactly what is wrong with it."""
    given = (raw or "").strip()
    slug = given.lower()
    if not slug:
        raise ServiceError(
            _("Enter a slug: the company's address will be <slug>.%(base)s.") % {"base": settings.BASE_DOMAIN},
            code="slug_required",
            field="slug",
        )
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        raise ServiceError(
            _("A slug has %(min)d to %(max)d characters.") % {"min": SLUG_MIN, "max": SLUG_MAX},
            code="slug_length",
            field="slug",
        )
    if not _SLUG_RE.match(slug):
        raise ServiceError(
            _(
                "A slug uses lowercase letters, digits and single hyphens, starts with a letter "
                "and does not end with a hyphen."
            ),
            code="slug_format",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise ServiceError(
            _("“%(slug)s” is reserved by the platform; choose another.") % {"slug": slug},
            code="slug_reserved",
            field="slug",
        )
    company_has_it, domain_has_it, schema_has_it = slug_holders(
        slug=slug, host=company_host(slug), schema_name=schema_for(slug)
    )
    if company_has_it and given != slug:
        raise ServiceError(
            _("“%(given)s” is taken: slugs ignore case, and “%(existing)s” exists.")
            % {"given": given, "existing": slug},
            code="slug_taken_case",
            field="slug",
        )
    if company_has_it or domain_has_it or schema_has_it:
        raise ServiceError(
            _("“%(slug)s” is taken by another company.") % {"slug": slug}, code="slug_taken", field="slug"
        )
    return slug


def schema_for(slug: str) -> str:
    return SCHEMA_PREFIX + slug.replace("-", "_")


def company_host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def _check_settings(*, name: str, currency: str, timezone_name: str, language: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter the company's name."), code="name_required", field="name")
    if len(name) > 200:
        raise ServiceError(_("A name has at most 200 characters."), code="name_too_long", field="name")
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise ServiceError(
            _("A currency is a three-letter ISO 4217 code such as CNY."), code="currency_invalid", field="currency"
        )
    if timezone_name not in timezone_names():
        raise ServiceError(
            _("Unknown time zone: %(tz)s") % {"tz": timezone_name}, code="timezone_invalid", field="timezone"
        )
    if language not in dict(settings.LANGUAGES):
        raise ServiceError(
            _("Unknown language: %(lang)s") % {"lang": language}, code="language_invalid", field="language"
        )
    return name


def _actor_label(by: User | None) -> str:
    return by.email if by is not None else "system"


# ------------------------------------------------------------------------------------------ pool
def _lock_pool() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [POOL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _unlock_pool() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [POOL_LOCK_KEY])


def template_ensure() -> PooledSchema:
    """The template schema, created and migrated when it is missing or behind the code."""
    use_public_schema()
    name = settings.TENANT_BASE_SCHEMA
    row = PooledSchema.objects.filter(kind=PooledSchemaKind.TEMPLATE).first()
    if (
        row is not None
        and row.schema_name == name
        and row.fingerprint == schemas.code_fingerprint()
        and schemas.exists(name)
    ):
        return row
    started = time.perf_counter()
    if not schemas.exists(name):
        schemas.create_empty(name)
    schemas.migrate(name)
    row, _created = PooledSchema.objects.update_or_create(
        kind=PooledSchemaKind.TEMPLATE,
        defaults={
            "schema_name": name,
            "fingerprint": schemas.code_fingerprint(),
            "method": "migrate",
            "build_seconds": time.perf_counter() - started,
            "migrated_at": timezone.now(),
        },
    )
    return row


def spare_create(*, method: str | None = None) -> PooledSchema:
    """Make one spare schema, fully migrated, and put it in the pool. Slow by design: it runs in the
    background (Celery), never while someone waits for a company."""
    method = method or settings.SPARE_METHOD
    name = f"spare_{secrets.token_hex(6)}"
    started = time.perf_counter()
    use_public_schema()
    try:
        if method == "clone":
            template = template_ensure()
            schemas.clone(template.schema_name, name)
        else:
            schemas.create_empty(name)
            schemas.migrate(name)
        use_public_schema()
        return PooledSchema.objects.create(
            schema_name=name,
            kind=PooledSchemaKind.SPARE,
            fingerprint=schemas.code_fingerprint(),
            method=method,
            build_seconds=time.perf_counter() - started,
            migrated_at=timezone.now(),
        )
    except BaseException:
        # Leave no half-made schema behind.
        use_public_schema()
        schemas.drop(name)
        raise


def spare_pool_refill(*, target: int | None = None) -> int:
    """Top the pool up to `target` spares (WUYE_SPARE_POOL_SIZE). One refill runs at a time; a second
    caller returns at once. Spares left behind by older code and schemas no row knows are removed."""
    target = settings.SPARE_POOL_SIZE if target is None else target
    use_public_schema()
    if not _lock_pool():
        return 0
    created = 0
    try:
        current = schemas.code_fingerprint()
        for stale in PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).exclude(fingerprint=current):
            _spare_discard(stale)
        _orphans_drop()
        while PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).count() < target:
            spare_create()
            created += 1
    finally:
        _unlock_pool()
    return created


def _spare_discard(spare: PooledSchema) -> None:
    with transaction.atomic():
        schemas.drop(spare.schema_name)
        spare.delete()


def _orphans_drop() -> None:
    """Spare schemas with no row: a worker died while making them. Called with the pool lock held."""
    known = set(PooledSchema.objects.values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%%'")
        for (name,) in cursor.fetchall():
            if name not in known:
                logger.warning("dropping orphaned spare schema %s", name)
                schemas.drop(name)


def _spare_take() -> PooledSchema | None:
    """Claim a current spare for this transaction; concurrent provisionings get different ones."""
    return (
        PooledSchema.objects.select_for_update(skip_locked=True)
        .filter(kind=PooledSchemaKind.SPARE, fingerprint=schemas.code_fingerprint())
        .order_by("created_at", "id")
        .first()
    )


def pool_stamp_migrated(names: list[str]) -> None:
    """After the migrate command brought these pooled schemas up to the code: record it."""
    PooledSchema.objects.filter(schema_name__in=names).update(
        fingerprint=schemas.code_fingerprint(), migrated_at=timezone.now()
    )


# ------------------------------------------------------------------------------------------ companies
@dataclass(frozen=True)
class Provisioned:
    company: Company
    admin: User
    method: str  # "pool", "clone" or "migrate"
    seconds: float


def company_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    admin_name: str,
    admin_password: str | None = None,
    by: User | None = None,
    plan: Plan | None = None,
    currency: str = "CNY",
    timezone_name: str = "Asia/Shanghai",
    language: str = "zh-hans",
) -> Provisioned:
    """Provision a company: schema from the pool, company and domain rows, seeded defaults, first admin.

    Without `admin_password` the administrator is invited by e-mail (the usual way); with it (the
    command line, the demo) they can sign in at once."""
    started = time.perf_counter()
    name = _check_settings(name=name, currency=currency, timezone_name=timezone_name, language=language)
    slug = slug_check(slug)
    schema_name = schema_for(slug)
    if plan is None:
        plan = Plan.objects.filter(is_default=True).first()
    use_public_schema()
    try:
        with transaction.atomic():
            method = _schema_provide(schema_name)
            company = Company.objects.create(
                name=name,
                slug=slug,
                schema_name=schema_name,
                currency=currency,
                timezone=timezone_name,
                language=language,
                plan=plan,
            )
            # bulk_create skips DomainMixin.save, whose search for other primary domains to demote (a
            # savepoint, a query, an update) has nothing to find for a company created a line above.
            Domain.objects.bulk_create([Domain(domain=company_host(slug), tenant=company, is_primary=True)])
            with tenant_context(company):
                run_seeders(
                    SeedContext(
                        schema_name=schema_name,
                        company_name=name,
                        language=language,
                        currency=currency,
                        timezone=timezone_name,
                    )
                )
                if admin_password is None:
                    admin = account_services.user_invite(
                        by=None, email=admin_email, name=admin_name, roles=[COMPANY_ADMIN]
                    )
                else:
                    admin = account_services.user_create(
                        email=admin_email, name=admin_name, password=admin_password, roles=[COMPANY_ADMIN]
                    )
            seconds = time.perf_counter() - started
            CompanyEvent.objects.create(
                company=company,
                kind=CompanyEventKind.CREATED,
                actor=by,
                actor_label=_actor_label(by),
                details={"method": method, "seconds": round(seconds, 4), "admin": admin.email},
            )
            if method == "pool":
                from .tasks import spare_pool_refill as refill_task

                enqueue_on_commit(refill_task)
    except IntegrityError as exc:
        # Two requests raced for the same slug; the database kept one.
        raise ServiceError(
            _("“%(slug)s” is taken by another company.") % {"slug": slug}, code="slug_taken", field="slug"
        ) from exc
    finally:
        use_public_schema()
    logger.info("company %s provisioned by %s in %.3fs", slug, method, seconds)
    return Provisioned(company=company, admin=admin, method=method, seconds=seconds)


def _schema_provide(schema_name: str) -> str:
    """Put a migrated schema named `schema_name` in place, inside the caller's transaction."""
    spare = _spare_take()
    if spare is not None:
        schemas.rename(spare.schema_name, schema_name)
        spare.delete()
        return "pool"
    # The pool is empty (or only holds spares of older code): never fail, clone the template instead.
    template = PooledSchema.objects.filter(
        kind=PooledSchemaKind.TEMPLATE, fingerprint=schemas.code_fingerprint()
    ).first()
    if template is not None and schemas.exists(template.schema_name):
        schemas.clone(template.schema_name, schema_name)
        return "clone"
    schemas.create_empty(schema_name)
    schemas.migrate(schema_name)
    return "migrate"


def _company_locked(company: Company) -> Company:
    return Company.objects.select_for_update().get(pk=company.pk)


@transaction.atomic
def company_suspend(*, by: User | None, company: Company, reason: str) -> Company:
    """Suspend a company: its domains answer "suspended" to every page and API call until resumed."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for suspending the company."), code="reason_required", field="reason")
    company = _company_locked(company)
    if company.status == CompanyStatus.SUSPENDED:
        raise ServiceError(_("The company is already suspended."), code="already_suspended")
    company.status = CompanyStatus.SUSPENDED
    company.status_changed_at = timezone.now()
    company.save(update_fields=["status", "status_changed_at"])
    CompanyEvent.objects.create(
        company=company, kind=CompanyEventKind.SUSPENDED, actor=by, actor_label=_actor_label(by), reason=reason
    )
    return company


@transaction.atomic
def company_resume(*, by: User | None, company: Company, reason: str = "") -> Company:
    company = _company_locked(company)
    if company.status != CompanyStatus.SUSPENDED:
        raise ServiceError(_("The company is not suspended."), code="not_suspended")
    company.status = CompanyStatus.ACTIVE
    company.status_changed_at = timezone.now()
    company.save(update_fields=["status", "status_changed_at"])
    CompanyEvent.objects.create(
        company=company,
        kind=CompanyEventKind.RESUMED,
        actor=by,
        actor_label=_actor_label(by),
        reason=(reason or "").strip(),
    )
    return company


def domain_check(raw: str) -> str:
    domain = (raw or "").strip().lower().rstrip(".")
    if not _HOSTNAME_RE.match(domain):
        raise ServiceError(
            _("“%(domain)s” is not a valid host name.") % {"domain": raw}, code="domain_invalid", field="domain"
        )
    base = settings.BASE_DOMAIN
    if domain == base or domain.endswith("." + base):
        raise ServiceError(
            _("Addresses under %(base)s are given by the slug; add the company's own domain instead.") % {"base": base},
            code="domain_reserved",
            field="domain",
        )
    if Domain.objects.filter(domain=domain).exists():
        raise ServiceError(
            _("“%(domain)s” is already used by a company.") % {"domain": domain}, code="domain_taken", field="domain"
        )
    return domain


@transaction.atomic
def domain_add(*, by: User | None, company: Company, domain: str) -> Domain:
    """Add a custom domain (the company points its DNS at the platform)."""
    domain = domain_check(domain)
    try:
        with transaction.atomic():
            row = Domain.objects.create(domain=domain, tenant=company, is_primary=False)
    except IntegrityError as exc:
        raise ServiceError(
            _("“%(domain)s” is already used by a company.") % {"domain": domain}, code="domain_taken", field="domain"
        ) from exc
    CompanyEvent.objects.create(
        company=company,
        kind=CompanyEventKind.DOMAIN_ADDED,
        actor=by,
        actor_label=_actor_label(by),
        details={"domain": domain},
    )
    return row


@transaction.atomic
def domain_remove(*, by: User | None, company: Company, domain: str) -> None:
    row = Domain.objects.filter(tenant=company, domain=(domain or "").strip().lower()).first()
    if row is None:
        raise ServiceError(_("The company has no such domain."), code="domain_unknown", field="domain")
    if row.is_primary:
        raise ServiceError(_("The primary address cannot be removed."), code="domain_primary", field="domain")
    row.delete()
    CompanyEvent.objects.create(
        company=company,
        kind=CompanyEventKind.DOMAIN_REMOVED,
        actor=by,
        actor_label=_actor_label(by),
        details={"domain": row.domain},
    )


def in_company(company: Company) -> Any:
    """Context manager: run code in the company's schema (for commands and tasks)."""
    return schema_context(company.schema_name)
