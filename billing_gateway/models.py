"""The gateway's records, in the public schema: each company's connected Stripe account, and every
webhook event Stripe delivered, stored once by its id."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_FEE_BPS = 10000  # basis points: all of it


class ConnectedAccount(models.Model):
    """A company's Stripe account (Connect): the company is the merchant of record, payments are direct
    charges on this account. What Stripe last said of it is kept to tell owners whether they can pay online."""

    company = models.OneToOneField("tenants.Company", on_delete=models.PROTECT, related_name="stripe_account")
    account_id = models.CharField(_("Stripe account"), max_length=64, unique=True)
    charges_enabled = models.BooleanField(_("can take charges"), default=False)
    payouts_enabled = models.BooleanField(_("can be paid out"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    # What Stripe still asks for (requirements.currently_due), as field names.
    requirements = models.JSONField(_("still asked for"), default=list, blank=True)
    # The platform's fee on each payment, set by the vendor: basis points of the amount (none by default).
    application_fee_bps = models.PositiveIntegerField(_("platform fee (basis points)"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("connected Stripe account")
        constraints = [
            models.CheckConstraint(condition=Q(account_id__startswith="acct_"), name="gateway_account_id_shape"),
            models.CheckConstraint(condition=Q(application_fee_bps__lte=MAX_FEE_BPS), name="gateway_fee_at_most_all"),
        ]

    def __str__(self) -> str:
        return self.account_id


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")  # a type nothing here acts on
    UNKNOWN_ACCOUNT = "unknown_account", _("Unknown account")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """One event Stripe delivered, verified by its signature, stored once whatever the number of deliveries
    (the unique event id), then processed in its company's schema by a task."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    account_id = models.CharField(max_length=64, blank=True)  # the connected account it is about
    company = models.ForeignKey(
        "tenants.Company", on_delete=models.PROTECT, null=True, blank=True, related_name="stripe_events"
    )
    livemode = models.BooleanField(default=False)
    created = models.DateTimeField(null=True, blank=True)  # when Stripe made the event
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="gateway_event_status_valid"),
            models.CheckConstraint(condition=~Q(event_id=""), name="gateway_event_id_present"),
        ]
        indexes = [models.Index(fields=["company", "received_at"], name="gateway_event_company")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
