"""Writes of the gateway: receiving a webhook delivery, processing a stored event, connecting a company's
Stripe account and keeping its status, starting payments and refunds on it. Receiving is verify, store
once, queue: nothing else happens while Stripe waits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from decimal import Decimal
from typing import Any

import redis
import sentry_sdk
import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from wuye.accounts.policies import is_vendor_staff
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.policies import require

from . import callbacks, interface, policies, selectors, stripe_api
from . import events as stripe_events
from .models import MAX_FEE_BPS, ConnectedAccount, EventStatus, WebhookEvent

logger = logging.getLogger(__name__)


class DeliveryRefused(ServiceError):
    """A webhook delivery that is not a genuine, fresh Stripe event: answered 400 and not stored."""


# A connected account's company, for the accounts found, kept a few minutes per process: an account id is
# unique and stays with its company, so a burst of deliveries need not ask each time. Not found is not
# remembered: a company that connects its account is found by the next delivery.
_company_of_account: dict[str, tuple[int, float]] = {}
_COMPANY_KEPT_SECONDS = 300


def _company_id(account_id: str) -> int | None:
    if not account_id:
        return None
    kept = _company_of_account.get(account_id)
    if kept is not None and time.monotonic() - kept[1] < _COMPANY_KEPT_SECONDS:
        return kept[0]
    found = ConnectedAccount.objects.filter(account_id=account_id).values_list("company_id", flat=True).first()
    if found is not None:
        _company_of_account[account_id] = (found, time.monotonic())
    return found


# One statement stores a delivery or finds it stored already (no savepoint, no error to recover from): the
# intake is the path Stripe waits on, and a burst of deliveries is many of these at once.
_STORE_ONCE = """
    INSERT INTO billing_gateway_webhookevent
        (event_id, type, account_id, company_id, livemode, created, payload, received_at, status, error)
    VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, '')
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id
"""


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
        # Stripe's own check of the signature and its age; the body is then read as plain JSON (Stripe's
        # object tree would be built only to be turned back into a dict).
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE)
        text = payload.decode()
        data = json.loads(text)
    except stripe.SignatureVerificationError:
        raise DeliveryRefused(
            "The signature does not match, or the delivery is older than the tolerance.", code="bad_signature"
        ) from None
    except ValueError:  # not UTF-8, not JSON
        raise DeliveryRefused("The body is not a Stripe event.", code="not_an_event") from None
    event_id = str(data.get("id") or "") if isinstance(data, dict) else ""
    if not event_id or data.get("object") not in (None, "event"):
        raise DeliveryRefused("The body is not a Stripe event.", code="not_an_event")
    account_id = str(data.get("account") or "")
    company_id = _company_id(account_id)
    created_at = data.get("created")
    record = WebhookEvent(
        event_id=event_id,
        type=str(data.get("type") or "")[:100],
        account_id=account_id[:64],
        company_id=company_id,
        livemode=bool(data.get("livemode")),
        created=dt.datetime.fromtimestamp(created_at, tz=dt.UTC) if isinstance(created_at, int) else None,
        payload=data,
        received_at=timezone.now(),
        status=EventStatus.RECEIVED if company_id or not account_id else EventStatus.UNKNOWN_ACCOUNT,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _STORE_ONCE,
            [
                record.event_id, record.type, record.account_id, record.company_id, record.livemode, record.created,
                text, record.received_at, record.status,
            ],
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return WebhookEvent.objects.only("id", "event_id", "status").get(event_id=event_id), False
    record.pk = row[0]
    if record.status == EventStatus.UNKNOWN_ACCOUNT:
        sentry_sdk.capture_message(
            f"Stripe event {event_id} ({record.type}) for unknown connected account {account_id}", level="warning"
        )
    else:
        if company_id is not None:
            transaction.on_commit(lambda: drain_queue(company_id))
        else:  # an event of the platform itself (no connected account)
            from .tasks import event_process

            transaction.on_commit(lambda: event_process.delay(record.pk))
    return record, True


Meaning = list[tuple[str, Any]]  # what `events.translate` made of an event


def _act(event: WebhookEvent, schema_name: str | None, meaning: Meaning | None = None) -> Exception | None:
    """Act on one stored event: the gateway's own (a connected account's status), or what it means for the
    modules (`events.translate`, unless the caller read it already) given to each registered handler once,
    all its writes together or none. Sets the event's status; returns the failure, if any (the event is
    then `failed` with the error)."""
    acted = False
    try:
        with transaction.atomic():
            if event.type == "account.updated":
                acted = account_status_update(event.payload)
            elif schema_name is not None and event.type in stripe_events.HANDLED:
                if meaning is None:
                    meaning = stripe_events.translate(event.payload, account_id=event.account_id)
                with schema_context(schema_name):
                    for name, record in meaning:
                        for handler in callbacks.handlers_for(name):
                            handler(record)
                            acted = True
    except Exception as error:
        logger.exception("Stripe event %s (%s) failed", event.event_id, event.type)
        event.status, event.error = EventStatus.FAILED, str(error)[:2000]
        return error
    event.status = EventStatus.PROCESSED if acted else EventStatus.IGNORED
    event.processed_at, event.error = timezone.now(), ""
    return None


def event_process(*, event_pk: int) -> WebhookEvent | None:
    """Act on one stored event, in its company's schema (`_act`). Safe to run twice (a processed event is
    left alone; handlers are idempotent). A failing handler leaves the event `failed` with the error, and
    raises for the task to retry."""
    with transaction.atomic():
        events = WebhookEvent.objects.select_for_update(of=("self",)).select_related("company")
        event = events.filter(pk=event_pk).first()
        if event is None or event.status not in (EventStatus.RECEIVED, EventStatus.FAILED):
            return event
        failure = _act(event, event.company.schema_name if event.company is not None else None)
        event.save(update_fields=["status", "processed_at", "error"])
    if failure is not None:
        raise failure
    return event


DRAIN_BATCH = 200


_redis: redis.Redis | None = None


def _flags() -> redis.Redis:
    """Redis itself for the drain flags: one SET NX per delivery is the whole cost, without the cache
    layer's key making and pickling (a burst of deliveries asks this for each)."""
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def drain_flag_clear(company_id: int) -> None:
    _flags().delete(_drain_key(company_id))


def _drain_key(company_id: int) -> str:
    # Under the deployment's prefix (one Redis may serve several); it names a company, and holds nothing.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'wuye')}:billing-gateway-drain:{company_id}"


def drain_queue(company_id: int) -> None:
    """Ask for the company's stored events to be processed, unless that is asked already: a burst of
    deliveries makes one task, which takes them by the batch."""
    from .tasks import events_drain

    if _flags().set(_drain_key(company_id), 1, nx=True, ex=60):  # gone by itself if its task is lost
        events_drain.delay(company_id)


def events_drain(*, company_id: int, limit: int = DRAIN_BATCH) -> int:
    """Process the company's received events, oldest first, `limit` to a transaction: the confirmed
    payments of a batch together through the modules' batch handler where one is registered (one handler
    call, a fixed number of statements), everything else — and the batch itself, if its handler refuses
    it — one by one. Events another worker holds are skipped. Returns how many were processed."""
    drain_flag_clear(company_id)  # first: an event stored from now on asks for another drain
    company = ConnectedAccount.objects.filter(company_id=company_id).values_list("company__schema_name", flat=True)
    schema_name = company.first()
    done = 0
    while True:
        with transaction.atomic():
            events = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(company_id=company_id, status=EventStatus.RECEIVED)
                .order_by("pk")[:limit]
            )
            if not events:
                return done
            for event, meaning in _act_in_batches(events, schema_name):
                _act(event, schema_name, meaning)
            WebhookEvent.objects.bulk_update(events, ["status", "processed_at", "error"])
        done += len(events)


def _act_in_batches(events: list[WebhookEvent], schema_name: str | None) -> list[tuple[WebhookEvent, Meaning | None]]:
    """Give each batch handler its records at once; returns the events left to act on one by one, with
    what they mean where it could be read (None: `_act` reads it, and keeps the error if it cannot)."""
    if schema_name is None:
        return [(event, None) for event in events]
    grouped: dict[str, list[tuple[WebhookEvent, Any]]] = {}
    rest: list[tuple[WebhookEvent, Meaning | None]] = []
    for event in events:
        found: Meaning | None
        try:
            found = (
                stripe_events.translate(event.payload, account_id=event.account_id)
                if event.type in stripe_events.HANDLED
                else []
            )
        except Exception:  # e.g. Stripe asked for a refund list and did not answer: `_act` keeps the error
            found = None
        if found is not None and len(found) == 1 and callbacks.batch_handler_for(found[0][0]) is not None:
            grouped.setdefault(found[0][0], []).append((event, found[0][1]))
        else:
            rest.append((event, found))
    for name, pairs in grouped.items():
        handler = callbacks.batch_handler_for(name)
        assert handler is not None
        try:
            with transaction.atomic(), schema_context(schema_name):
                handler([record for _event, record in pairs])
        except Exception:
            logger.warning("a batch of %s %s events is taken one by one", len(pairs), name, exc_info=True)
            rest.extend((event, [(name, record)]) for event, record in pairs)
            continue
        now = timezone.now()
        for event, _record in pairs:
            event.status, event.processed_at, event.error = EventStatus.PROCESSED, now, ""
    return rest


def events_sweep(*, older_than: dt.timedelta = dt.timedelta(minutes=2), failed_limit: int = 100) -> int:
    """Beat's safety net: events still received a while after they arrived (their task was lost) are
    drained; failed ones of the last three days (a refund that came before its payment, a module that was
    down) are tried again, a hundred at a time. Returns how many were taken up."""
    from .tasks import event_process as event_task
    from .tasks import events_drain as drain_task

    before = timezone.now() - older_than
    waiting = WebhookEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lt=before, company__isnull=False)
    companies = list(waiting.values_list("company_id", flat=True).distinct())
    for company_id in companies:
        drain_task.delay(company_id)
    # Failed ones for three days, newest first (one that keeps failing does not hold the others back);
    # after that a person looks (reconciliation lists a payment the ledger lacks).
    since = timezone.now() - dt.timedelta(days=3)
    failed = list(
        WebhookEvent.objects.filter(status=EventStatus.FAILED, received_at__lt=before, received_at__gte=since)
        .order_by("-received_at")
        .values_list("pk", flat=True)[:failed_limit]
    )
    for pk in failed:
        event_task.delay(pk)
    return len(companies) + len(failed)


def _account_status_keep(connected: ConnectedAccount, account: dict[str, Any]) -> ConnectedAccount:
    requirements = (account.get("requirements") or {}).get("currently_due") or []
    connected.charges_enabled = bool(account.get("charges_enabled"))
    connected.payouts_enabled = bool(account.get("payouts_enabled"))
    connected.details_submitted = bool(account.get("details_submitted"))
    connected.requirements = [str(item) for item in requirements]
    connected.updated_at = timezone.now()
    connected.save(
        update_fields=["charges_enabled", "payouts_enabled", "details_submitted", "requirements", "updated_at"]
    )
    return connected


def account_status_update(payload: dict[str, Any]) -> bool:
    """`account.updated`: what Stripe says a connected account can do now, and what it still asks for."""
    account = (payload.get("data") or {}).get("object") or {}
    if account.get("object") != "account":
        return False
    connected = ConnectedAccount.objects.select_for_update().filter(account_id=account.get("id")).first()
    if connected is None:
        return False
    _account_status_keep(connected, account)
    return True


# ------------------------------------------------------------------------------------------ Connect
COUNTRIES = ("HK", "SG", "MO", "US", "GB", "AU", "CA", "JP", "MY", "TH", "NZ", "DE", "FR", "IE", "NL")


def account_connect(*, by: Any, company: Any, country: str, email: str, return_url: str, refresh_url: str) -> str:
    """Connect the company's Stripe account (a standard account: the company's own Stripe dashboard, its
    name on owners' statements): made once, then the onboarding link where the company's admin tells
    Stripe who they are. Returns the link's address."""
    require(by, policies.CONNECT)
    connected = selectors.account_for(company=company)
    if connected is None:
        country = (country or "").strip().upper()
        if country not in COUNTRIES:
            raise ServiceError(
                gettext("Choose the country where the company's Stripe account is registered."),
                code="country_invalid",
                field="country",
            )
        email = (email or "").strip()
        answer = stripe_api.account_create(
            country=country,
            email=email,
            company_ref=str(company.pk),
            # A retry of the same request gets the same account; another country or address is another request.
            idempotency_key=f"wuye-company-{company.pk}-account-{country}-{hashlib.sha256(email.encode()).hexdigest()[:16]}",
        )
        with transaction.atomic():
            connected = ConnectedAccount.objects.create(company=company, account_id=str(answer["id"]))
            _account_status_keep(connected, answer)
    return stripe_api.account_link(account_id=connected.account_id, refresh_url=refresh_url, return_url=return_url)


def account_refresh(*, by: Any, company: Any) -> ConnectedAccount:
    """Ask Stripe again what the company's account can do (after onboarding, without waiting for the event)."""
    require(by, policies.CONNECT)
    connected = selectors.connected_get(company=company)
    answer = stripe_api.account_get(connected.account_id)
    with transaction.atomic():
        return _account_status_keep(ConnectedAccount.objects.select_for_update().get(pk=connected.pk), answer)


@transaction.atomic
def application_fee_set(*, by: Any, connected: ConnectedAccount, bps: Any) -> ConnectedAccount:
    """The vendor's fee on each of a company's payments, in basis points (none by default)."""
    if not is_vendor_staff(by):
        raise PolicyDenied(gettext("Only the platform's operators set its fee."))
    try:
        value = int(str(bps).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_FEE_BPS:
        raise ServiceError(
            gettext("The fee is a whole number of basis points from 0 to %(max)s.") % {"max": MAX_FEE_BPS},
            code="fee_invalid",
            field="bps",
        )
    connected = ConnectedAccount.objects.select_for_update().get(pk=connected.pk)
    connected.application_fee_bps, connected.updated_at = value, timezone.now()
    connected.save(update_fields=["application_fee_bps", "updated_at"])
    return connected


# ------------------------------------------------------------------------------------------ payments
def _open_account(company: Any) -> ConnectedAccount:
    connected = selectors.account_for(company=company)
    if connected is None or not connected.charges_enabled or not stripe_api.configured():
        raise ServiceError(
            gettext("Online payment is not available yet: please pay at the front desk."), code="gateway_closed"
        )
    return connected


def payment_start(
    *, company: Any, amount: Decimal, currency: str, reference: str, metadata: dict[str, str], description: str
) -> interface.Checkout:
    """Start a payment on the company's account for the amount the module computed. `reference` is the
    module's own id of the payment: the idempotency key, so a retried start returns the same payment."""
    connected = _open_account(company)
    if amount <= 0:
        raise ServiceError(gettext("There is nothing to pay."), code="amount_zero", field="amount")
    intent = stripe_api.intent_create(
        account_id=connected.account_id,
        amount=amount,
        currency=currency,
        fee_bps=connected.application_fee_bps,
        metadata=metadata,
        description=description,
        idempotency_key=f"wuye-{company.schema_name}-{reference}-payment",
    )
    return stripe_api.checkout(connected.account_id, intent)


def payment_cancel(*, company: Any, payment_ref: str) -> interface.PaymentState:
    """Cancel a payment nobody finished (it can no longer be paid); refused by Stripe once it is paid."""
    connected = selectors.connected_get(company=company)
    return stripe_api.intent_cancel(
        account_id=connected.account_id,
        intent_id=payment_ref,
        idempotency_key=f"wuye-{company.schema_name}-{payment_ref}-cancel",
    )


def refund_create(
    *, company: Any, payment_ref: str, amount: Decimal, currency: str, reason: str, reference: str
) -> interface.RefundEvent:
    """Pay back (part of) a payment on the company's account. The answer is the refund as the webhook will
    tell it again: the module records it once, whichever comes first."""
    connected = selectors.connected_get(company=company)
    return stripe_api.refund_create(
        account_id=connected.account_id,
        intent_id=payment_ref,
        amount=amount,
        currency=currency,
        reason=reason,
        idempotency_key=f"wuye-{company.schema_name}-{reference}-refund",
    )
