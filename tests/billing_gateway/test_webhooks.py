"""The Connect webhook endpoint: each delivery verified with Stripe's signature scheme (signatures made
here by the `stripe` library's own WebhookSignature, as Stripe makes them), stored once by event id,
mapped to its company by the connected account, processed by the task in that company's schema.
Anything not genuine is answered 400 and leaves nothing behind."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from billing_gateway.models import ConnectedAccount, EventStatus, WebhookEvent
from tests.support.stripe_relay import stripe_signature
from wuye.testing.plugin import CompanyFixture

SECRET = "whsec_test_gateway_secret"
URL = "/billing/stripe/webhook/"


@pytest.fixture(autouse=True)
def _secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def stripe_client(db: None) -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture
def connected(company_a: CompanyFixture) -> ConnectedAccount:
    return ConnectedAccount.objects.create(company=company_a.company, account_id="acct_alpha0001")


def _event(event_id: str, *, account: str = "acct_alpha0001", kind: str = "account.updated", **data: Any) -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "account": account,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": data or {"id": account, "object": "account"}},
    }
    return json.dumps(body).encode()


def _signed(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    return stripe_signature(payload, secret, at=at)


def _post(client: Client, payload: bytes, signature: str | None) -> Any:
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, data=payload, content_type="application/json", **headers)


def test_a_genuine_event_is_stored_once_and_processed_in_its_company(
    stripe_client: Client, connected: ConnectedAccount, django_capture_on_commit_callbacks: Any
) -> None:
    payload = _event(
        "evt_0001",
        id="acct_alpha0001",
        object="account",
        charges_enabled=True,
        payouts_enabled=False,
        details_submitted=True,
        requirements={"currently_due": ["external_account"]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(stripe_client, payload, _signed(payload))
    assert first.status_code == 200 and first.json()["duplicate"] is False
    # Delivered again (Stripe retries), and again out of order later: the same one row, nothing redone.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        again = _post(stripe_client, payload, _signed(payload))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert queued == []
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.type, event.company_id, event.status) == (
        "evt_0001",
        "account.updated",
        connected.company_id,
        EventStatus.PROCESSED,
    )
    connected.refresh_from_db()
    assert (connected.charges_enabled, connected.payouts_enabled, connected.details_submitted) == (True, False, True)
    assert connected.requirements == ["external_account"]


@pytest.mark.parametrize(
    "case",
    ["no signature", "wrong secret", "stale", "tampered body", "not json"],
)
def test_a_delivery_that_is_not_genuine_is_refused_and_nothing_is_stored(
    stripe_client: Client, connected: ConnectedAccount, case: str
) -> None:
    payload = _event("evt_0002")
    signature: str | None = _signed(payload)
    if case == "no signature":
        signature = None
    elif case == "wrong secret":
        signature = _signed(payload, secret="whsec_someone_else")
    elif case == "stale":  # a replay after the tolerance window (300 s)
        signature = _signed(payload, at=int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE - 60)
    elif case == "tampered body":
        payload = payload.replace(b"account.updated", b"payment_intent.succeeded")
    elif case == "not json":
        payload = b"not an event at all"
        signature = _signed(payload)
    answer = _post(stripe_client, payload, signature)
    assert answer.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_body_of_ten_megabytes_is_refused_unread(stripe_client: Client, connected: ConnectedAccount) -> None:
    payload = b'{"id": "evt_big", "padding": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    answer = _post(stripe_client, payload, _signed(payload))
    assert answer.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_an_event_for_an_unknown_account_is_kept_answered_and_reported(
    stripe_client: Client, connected: ConnectedAccount, monkeypatch: Any
) -> None:
    reported: list[str] = []
    # Sentry itself is off in tests; what the service hands it is what matters here.
    monkeypatch.setattr("billing_gateway.services.sentry_sdk.capture_message", lambda text, **_: reported.append(text))
    payload = _event("evt_0003", account="acct_nobody000")
    answer = _post(stripe_client, payload, _signed(payload))
    assert answer.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.company_id, event.account_id) == (EventStatus.UNKNOWN_ACCOUNT, None, "acct_nobody000")
    assert len(reported) == 1 and "acct_nobody000" in reported[0]


def test_without_a_configured_secret_every_delivery_is_refused(
    stripe_client: Client, connected: ConnectedAccount, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = _event("evt_0004")
    assert _post(stripe_client, payload, _signed(payload)).status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_only_post_is_accepted(stripe_client: Client) -> None:
    assert stripe_client.get(URL).status_code == 405


def test_handlers_run_in_the_events_company_schema_and_unhandled_types_are_ignored(
    stripe_client: Client,
    connected: ConnectedAccount,
    company_a: CompanyFixture,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    from django.db import connection

    from billing_gateway import callbacks, interface

    seen: list[tuple[str, str, Any]] = []
    handlers = {
        interface.PAYMENT_SUCCEEDED: [lambda record: seen.append((connection.schema_name, record.payment_ref, record))]
    }
    monkeypatch.setattr(callbacks, "_handlers", handlers)
    paid = _event(
        "evt_0005",
        kind="payment_intent.succeeded",
        id="pi_1",
        object="payment_intent",
        amount=12345,
        amount_received=12345,
        currency="cny",
        status="succeeded",
        metadata={"wuye_account": "x"},
    )
    other = _event("evt_0006", kind="customer.created", id="cus_1", object="customer")
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(stripe_client, paid, _signed(paid)).status_code == 200
        assert _post(stripe_client, other, _signed(other)).status_code == 200
    # The handler hears the gateway interface's record, in yuan, not Stripe's payload.
    assert [(schema, ref) for schema, ref, _record in seen] == [(company_a.company.schema_name, "pi_1")]
    record = seen[0][2]
    assert (record.status, record.amount, record.currency, record.metadata) == (
        interface.SUCCEEDED,
        Decimal("123.45"),
        "CNY",
        {"wuye_account": "x"},
    )
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_0005": EventStatus.PROCESSED, "evt_0006": EventStatus.IGNORED}


def test_a_failing_handler_leaves_the_event_failed_and_a_retry_processes_it_once(
    connected: ConnectedAccount, monkeypatch: Any
) -> None:
    from billing_gateway import callbacks, interface, services

    calls: list[str] = []

    def flaky(refund: Any) -> None:
        calls.append(refund.refund_ref)
        if len(calls) == 1:
            raise RuntimeError("the ledger was busy")

    monkeypatch.setattr(callbacks, "_handlers", {interface.REFUND_SETTLED: [flaky]})
    refund = {"id": "re_1", "object": "refund", "amount": 500, "currency": "cny", "status": "succeeded"}
    payload = _event(
        "evt_0007",
        kind="charge.refunded",
        id="ch_1",
        object="charge",
        payment_intent="pi_1",
        refunds={"object": "list", "data": [refund]},
    )
    event, created = services.event_receive(payload=payload, signature=_signed(payload))
    assert created
    with pytest.raises(RuntimeError):
        services.event_process(event_pk=event.pk)
    event.refresh_from_db()
    assert (event.status, event.error) == (EventStatus.FAILED, "the ledger was busy")
    assert services.event_process(event_pk=event.pk).status == EventStatus.PROCESSED
    assert services.event_process(event_pk=event.pk).status == EventStatus.PROCESSED  # a third delivery: no call
    assert calls == ["re_1", "re_1"]
