"""Companies (the tenants), their domains and plans, their history, and the pool of spare schemas."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

SLUG_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
SCHEMA_PREFIX = "c_"


# django-stubs cannot resolve the reverse manager of a TenantMixin model's foreign key.
class Plan(models.Model):  # type: ignore[django-manager-missing]
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    max_units = models.PositiveIntegerField(_("unit limit"), null=True, blank=True, help_text=_("Empty: no limit."))
    is_default = models.BooleanField(_("default for new companies"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="tenants_plan_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompanyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class Company(TenantMixin):
    """A property management company (物业公司): one PostgreSQL schema, served at <slug>.<base domain>."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.CharField(_("slug"), max_length=40, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    language = models.CharField(_("language"), max_length=10, default="zh-hans", choices=settings.LANGUAGES)
    status = models.CharField(_("status"), max_length=12, choices=CompanyStatus.choices, default=CompanyStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="companies")
    created_at = models.DateTimeField(auto_now_add=True)

    # Provisioning makes the schema (from the pool); saving a company never creates or drops one.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.CheckConstraint(condition=models.Q(slug__regex=SLUG_PATTERN), name="tenants_company_slug_format"),
            models.UniqueConstraint(Lower("slug"), name="tenants_company_slug_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="tenants_company_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in CompanyStatus]),
                name="tenants_company_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(schema_name__startswith=SCHEMA_PREFIX), name="tenants_company_schema_prefixed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_suspended(self) -> bool:
        return self.status == CompanyStatus.SUSPENDED


class Domain(DomainMixin):
    """A host name that reaches a company: its <slug>.<base domain> (primary) and any custom domain."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "domain"]
        constraints = [
            models.CheckConstraint(condition=models.Q(domain=Lower("domain")), name="tenants_domain_lowercase"),
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_primary=True), name="tenants_domain_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class CompanyEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    SUSPENDED = "suspended", _("Suspended")
    RESUMED = "resumed", _("Resumed")
    DOMAIN_ADDED = "domain_added", _("Domain added")
    DOMAIN_REMOVED = "domain_removed", _("Domain removed")


class CompanyEvent(models.Model):
    """What the vendor did to a company: who, when, why. Append-only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=CompanyEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="Who acted, kept even if the account goes.")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in CompanyEventKind]),
                name="tenants_event_kind_valid",
            ),
            # Suspending needs a reason the company can be told.
            models.CheckConstraint(
                condition=~models.Q(kind="suspended") | ~models.Q(reason=""), name="tenants_event_suspension_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company.slug}: {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class PooledSchemaKind(models.TextChoices):
    TEMPLATE = "template", _("Template")
    SPARE = "spare", _("Spare")


class PooledSchema(models.Model):
    """A schema that belongs to no company yet: the template new schemas are cloned from, or a spare
    ready to be renamed into a new company's schema.

    `fingerprint` names the migrations the schema was last brought up to (the code's leaf migrations);
    provisioning takes only spares whose fingerprint matches the running code.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    kind = models.CharField(max_length=10, choices=PooledSchemaKind.choices)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10, blank=True, help_text="How it was made: clone or migrate.")
    build_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    migrated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in PooledSchemaKind]),
                name="tenants_pooled_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="template"), name="tenants_pooled_one_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.schema_name}"
