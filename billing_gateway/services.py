"""Writes of the gateway: receiving a webhook delivery, processing a stored event, and keeping a connected
account's status. Receiving is verify, store once, queue: nothing else happens while Stripe waits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sentry_sdk
import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from wuye.core.errors import ServiceError

from . import callbacks
from .models import ConnectedAccount, EventStatus, WebhookEvent

logger = logging.getLogger(__name__)


class DeliveryRefused(ServiceError):
    """A webhook delivery that is not a genuine, fresh Stripe event: answered 400 and not stored."""


def event_receive(*, payload: bytes, signature: str) -> tuple[WebhookEvent, bool]:
    """Verify a delivery with Stripe's signature scheme and store its event once. Returns (event, created);
    a second delivery of the same event returns the stored one and created False. An event for an account
    no company has is kept (status unknown_account) and reported to Sentry."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise DeliveryRefused("No webhook signing secret is configured.", code="no_secret")
    if not signature:
        raise DeliveryRefused("The delivery has no Stripe-Signature header.", code="no_signature")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE)
    except stripe.SignatureVerificationError:
        raise DeliveryRefused(
            "The signature does not match, or the delivery is older than the tolerance.", code="bad_signature"
        ) from None
    except ValueError:
        raise DeliveryRefused("The body is not a Stripe event.", code="not_an_event") from None
    data: dict[str, Any] = event.to_dict()
    event_id = str(data.get("id") or "")
    if not event_id:
        raise DeliveryRefused("The event has no id.", code="not_an_event")
    account_id = str(data.get("account") or "")
    connected = ConnectedAccount.objects.filter(account_id=account_id).select_related("company").first()
    created_at = data.get("created")
    record = WebhookEvent(
        event_id=event_id,
        type=str(data.get("type") or ""),
        account_id=account_id,
        company=connected.company if connected else None,
        livemode=bool(data.get("livemode")),
        created=dt.datetime.fromtimestamp(created_at, tz=dt.UTC) if isinstance(created_at, int) else None,
        payload=data,
        status=EventStatus.RECEIVED if connected or not account_id else EventStatus.UNKNOWN_ACCOUNT,
    )
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        return WebhookEvent.objects.get(event_id=event_id), False  # delivered before: stored once
    if record.status == EventStatus.UNKNOWN_ACCOUNT:
        sentry_sdk.capture_message(
            f"Stripe event {event_id} ({record.type}) for unknown connected account {account_id}", level="warning"
        )
    else:
        from .tasks import event_process

        transaction.on_commit(lambda: event_process.delay(record.pk))
    return record, True


def event_process(*, event_pk: int) -> WebhookEvent | None:
    """Act on a stored event, in its company's schema: each registered handler once. Safe to run twice
    (a processed event is left alone; handlers are idempotent). A failing handler leaves the event
    `failed` with the error, and raises for the task to retry."""
    failure: Exception | None = None
    with transaction.atomic():
        events = WebhookEvent.objects.select_for_update(of=("self",)).select_related("company")
        event = events.filter(pk=event_pk).first()
        if event is None or event.status not in (EventStatus.RECEIVED, EventStatus.FAILED):
            return event
        handlers = callbacks.handlers_for(event.type)
        try:
            with transaction.atomic():  # the handlers' writes go together, or not at all
                if event.company is not None:
                    with schema_context(event.company.schema_name):
                        for handler in handlers:
                            handler(event)
                else:
                    for handler in handlers:
                        handler(event)
        except Exception as error:
            logger.exception("Stripe event %s (%s) failed", event.event_id, event.type)
            failure = error
            event.status, event.error = EventStatus.FAILED, str(error)[:2000]
        else:
            event.status = EventStatus.PROCESSED if handlers else EventStatus.IGNORED
            event.processed_at, event.error = timezone.now(), ""
        event.save(update_fields=["status", "processed_at", "error"])
    if failure is not None:
        raise failure
    return event


def account_status_update(event: WebhookEvent) -> None:
    """`account.updated`: what Stripe says a connected account can do now, and what it still asks for."""
    account = event.payload.get("data", {}).get("object", {})
    if account.get("object") != "account":
        return
    requirements = (account.get("requirements") or {}).get("currently_due") or []
    ConnectedAccount.objects.filter(account_id=account.get("id")).update(
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        requirements=[str(item) for item in requirements],
        updated_at=timezone.now(),
    )
