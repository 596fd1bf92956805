"""Online payments against the Stripe emulator (wuye.testing.stripe_emulator): the platform's keys point
at it, its webhooks reach the app through a relay (tests/support/stripe_relay.py), and a company's account
is connected the way an administrator does it, through Connect onboarding."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.support.stripe_relay import Delivery, StripeRelay
from wuye.testing.plugin import CompanyFixture, in_company

WEBHOOK_SECRET = "whsec_emulated_connect"


@pytest.fixture(scope="session")
def relay(stripe_emulator: Any) -> Iterator[StripeRelay]:
    found = StripeRelay()
    stripe_emulator.webhooks_to(found.url, WEBHOOK_SECRET)
    yield found
    found.close()


@pytest.fixture
def stripe_on(settings: Any, stripe_emulator: Any, relay: StripeRelay) -> Any:
    """The platform's Stripe keys and addresses, on the emulator."""
    settings.STRIPE_SECRET_KEY = stripe_emulator.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = stripe_emulator.publishable_key
    settings.STRIPE_API_BASE = stripe_emulator.url
    settings.STRIPE_JS_URL = stripe_emulator.url + "/js.stripe.com/v3/"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return stripe_emulator


@dataclass
class Webhooks:
    relay: StripeRelay
    capture: Any

    def deliver(self, event_type: str, object_id: str) -> Any:
        """Wait for the emulator's delivery and post it to the endpoint; its task runs (on commit, inline)."""
        from billing_gateway.models import WebhookEvent

        delivery: Delivery = self.relay.wait_for(event_type, object_id)
        client = Client(HTTP_HOST=django_settings.BASE_DOMAIN)
        with self.capture(execute=True):
            answer = client.post(
                "/billing/stripe/webhook/",
                data=delivery.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=delivery.signature,
            )
        assert answer.status_code == 200, answer.content
        return WebhookEvent.objects.get(event_id=delivery.event["id"])


@pytest.fixture
def webhooks(relay: StripeRelay, django_capture_on_commit_callbacks: Any) -> Webhooks:
    return Webhooks(relay=relay, capture=django_capture_on_commit_callbacks)


def connect(company: CompanyFixture, stripe_emulator: Any, webhooks: Webhooks) -> Any:
    """Connect the company's Stripe account as its administrator would: the account, Stripe's onboarding
    finished, its `account.updated` event delivered. Returns the ConnectedAccount."""
    from billing_gateway import services
    from billing_gateway.models import ConnectedAccount

    with in_company(company):
        link = services.account_connect(
            by=company.admin(),
            company=company.company,
            country="HK",
            # A new address each time: a new account at the emulator (the idempotency key holds the address),
            # so that one test's payments are not another's.
            email=f"finance-{uuid.uuid4().hex[:10]}@example.test",
            return_url="http://example.test/back",
            refresh_url="http://example.test/again",
        )
    connected = ConnectedAccount.objects.get(company=company.company)
    assert not connected.charges_enabled
    assert stripe_emulator.complete_onboarding(link) == "http://example.test/back"
    webhooks.deliver("account.updated", connected.account_id)
    connected.refresh_from_db()
    return connected
