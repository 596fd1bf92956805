"""The Stripe emulator (`wuye.testing.stripe_emulator`) through the real `stripe` library: Connect accounts
and onboarding, the Stripe-Account header, idempotency keys, confirmation as Stripe.js does it, refunds,
lists, and signed webhooks received over HTTP and verified with `stripe.Webhook.construct_event`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest
import stripe

from wuye.testing.plugin import StripeEmulator

WEBHOOK_SECRET = "whsec_test_emulator"


class Receiver:
    """A webhook endpoint on a thread: keeps every delivery verified with Stripe's library."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    event = stripe.Webhook.construct_event(payload, self.headers["Stripe-Signature"], WEBHOOK_SECRET)
                except (stripe.SignatureVerificationError, ValueError) as error:
                    receiver.refused.append(str(error))
                    self.send_response(400)
                else:
                    with receiver._arrived:
                        receiver.events.append(event.to_dict())
                        receiver._arrived.notify_all()
                    self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, test: Callable[[dict[str, Any]], bool], timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events:
                    if event["type"] == event_type and test(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event_type} within {timeout} s; refused: {self.refused}")
                self._arrived.wait(left)


@pytest.fixture(scope="module")
def receiver(stripe_emulator: StripeEmulator) -> Iterator[Receiver]:
    endpoint = Receiver()
    stripe_emulator.webhooks_to(endpoint.url, WEBHOOK_SECRET)
    yield endpoint
    endpoint.server.shutdown()


@pytest.fixture
def client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        stripe_emulator.secret_key, base_addresses={"api": stripe_emulator.url}, max_network_retries=0
    )


def connected(client: stripe.StripeClient, emulator: StripeEmulator, country: str = "HK") -> str:
    """A connected account that finished onboarding."""
    account = client.v1.accounts.create({"type": "standard", "country": country, "email": "finance@alpha.test"})
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://alpha.localhost/connect/again",
            "return_url": "http://alpha.localhost/connect/done",
            "type": "account_onboarding",
        }
    )
    emulator.complete_onboarding(link.url)
    return account.id


def paid_intent(client: stripe.StripeClient, emulator: StripeEmulator, account: str, amount: int = 1000) -> Any:
    intent = client.v1.payment_intents.create(
        {"amount": amount, "currency": "hkd", "automatic_payment_methods": {"enabled": True}},
        {"stripe_account": account},
    )
    assert emulator.confirm(intent.id, account=account)["status"] == "succeeded"
    return client.v1.payment_intents.retrieve(intent.id, None, {"stripe_account": account})


def test_onboarding_enables_the_account_and_delivers_account_updated(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = client.v1.accounts.create(
        {
            "type": "standard",
            "country": "HK",
            "email": "finance@alpha.test",
            "business_type": "company",
            "capabilities": {"card_payments": {"requested": True}},
            "metadata": {"wuye_company": "alpha"},
        },
        {"idempotency_key": "alpha-account"},
    )
    assert account.id.startswith("acct_") and account.object == "account"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert "external_account" in account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert (account.country, account.default_currency, account.type) == ("HK", "hkd", "standard")
    assert account.metadata["wuye_company"] == "alpha"
    again = client.v1.accounts.create(
        {
            "type": "standard",
            "country": "HK",
            "email": "finance@alpha.test",
            "business_type": "company",
            "capabilities": {"card_payments": {"requested": True}},
            "metadata": {"wuye_company": "alpha"},
        },
        {"idempotency_key": "alpha-account"},
    )
    assert again.id == account.id
    assert client.v1.accounts.create({"type": "express", "country": "CN"}).default_currency == "cny"

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": "http://alpha.localhost/connect/again",
            "return_url": "http://alpha.localhost/connect/done",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link" and link.expires_at == link.created + 300
    assert link.url.startswith(stripe_emulator.url + "/_harness/onboarding/")

    assert stripe_emulator.complete_onboarding(link.url) == "http://alpha.localhost/connect/done"

    event = receiver.wait_for("account.updated", lambda e: e["data"]["object"]["id"] == account.id)
    assert event["account"] == account.id
    assert event["data"]["object"]["charges_enabled"] is True
    assert event["data"]["object"]["requirements"]["currently_due"] == []
    assert event["data"]["previous_attributes"]["charges_enabled"] is False
    now = client.v1.accounts.retrieve(account.id)
    assert (now.charges_enabled, now.payouts_enabled, now.details_submitted) == (True, True, True)
    assert now.capabilities["card_payments"] == "active"
    # A link is single-use: opened again, Stripe sends the browser to refresh_url.
    assert stripe_emulator.complete_onboarding(link.url) == "http://alpha.localhost/connect/again"
    assert any(found.id == account.id for found in client.v1.accounts.list({"limit": 100}).data)


def test_incomplete_onboarding_and_link_validation(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = client.v1.accounts.create({"type": "standard", "country": "SG"})
    params = {
        "account": account.id,
        "refresh_url": "http://beta.localhost/again",
        "return_url": "http://beta.localhost/done",
        "type": "account_onboarding",
    }
    for missing in ("account", "refresh_url", "return_url", "type"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.account_links.create({k: v for k, v in params.items() if k != missing})
        assert refused.value.http_status == 400 and refused.value.param == missing
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.account_links.create({**params, "type": "account_everything"})

    link = client.v1.account_links.create(params)
    assert stripe_emulator.complete_onboarding(link.url, outcome="incomplete") == "http://beta.localhost/done"
    event = receiver.wait_for("account.updated", lambda e: e["data"]["object"]["id"] == account.id)
    assert event["account"] == account.id
    now = client.v1.accounts.retrieve(account.id)
    assert now.details_submitted is True and now.charges_enabled is False
    assert now.requirements.currently_due == ["external_account"]

    with pytest.raises(HTTPError) as unknown:
        stripe_emulator.complete_onboarding(stripe_emulator.url + "/_harness/onboarding/no-such-token")
    assert unknown.value.code == 404

    updated = client.v1.accounts.update(account.id, {"metadata": {"wuye_company": "beta"}, "email": "b@beta.test"})
    assert updated.metadata["wuye_company"] == "beta" and updated.email == "b@beta.test"


def test_payment_intent_on_an_account_with_fee_and_idempotency_key(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = connected(client, stripe_emulator)
    params: dict[str, Any] = {
        "amount": 12000,
        "currency": "hkd",
        "application_fee_amount": 60,
        "automatic_payment_methods": {"enabled": True},
        "metadata": {"wuye_payment": "42"},
        "description": "Alpha 物业 fees 2026-11",
        "receipt_email": "owner@alpha.test",
        "statement_descriptor_suffix": "ALPHA FEES",
    }
    options: Any = {"stripe_account": account, "idempotency_key": "wuye-payment-42"}
    intent = client.v1.payment_intents.create(params, options)
    assert intent.status == "requires_payment_method" and intent.application_fee_amount == 60
    assert intent.automatic_payment_methods.enabled is True and intent.description == "Alpha 物业 fees 2026-11"

    retried = client.v1.payment_intents.create(params, options)
    assert retried.id == intent.id and retried.last_response.headers["Idempotent-Replayed"] == "true"
    listed = client.v1.payment_intents.list({"limit": 100}, {"stripe_account": account})
    assert [found.id for found in listed.data] == [intent.id]

    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create({**params, "amount": 12001}, options)
    # The same key on another account is another request.
    other = connected(client, stripe_emulator)
    assert client.v1.payment_intents.create(params, {**options, "stripe_account": other}).id != intent.id

    with pytest.raises(stripe.InvalidRequestError) as no_account:
        client.v1.payment_intents.create(params)
    assert no_account.value.param == "application_fee_amount"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create({**params, "application_fee_amount": 12001}, {"stripe_account": account})

    confirmed = stripe_emulator.confirm(intent.id, account=account)
    assert confirmed["status"] == "succeeded" and confirmed["amount_received"] == 12000

    event = receiver.wait_for("payment_intent.succeeded", lambda e: e["data"]["object"]["id"] == intent.id)
    assert event["account"] == account
    assert event["data"]["object"]["metadata"] == {"wuye_payment": "42"}
    assert event["data"]["object"]["application_fee_amount"] == 60
    with pytest.raises(stripe.InvalidRequestError):  # confirmed already
        client.v1.payment_intents.confirm(intent.id, None, {"stripe_account": account})


def test_confirm_with_a_declined_card_or_a_wrong_client_secret(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = connected(client, stripe_emulator)
    intent = client.v1.payment_intents.create(
        {"amount": 5000, "currency": "hkd", "metadata": {"wuye_payment": "43"}}, {"stripe_account": account}
    )
    declined = stripe_emulator.confirm(intent.id, account=account, card="4000000000000002")
    assert declined["error"]["type"] == "card_error" and declined["error"]["code"] == "card_declined"
    event = receiver.wait_for("payment_intent.payment_failed", lambda e: e["data"]["object"]["id"] == intent.id)
    assert event["account"] == account
    assert event["data"]["object"]["last_payment_error"]["code"] == "card_declined"
    assert client.v1.payment_intents.retrieve(intent.id, None, {"stripe_account": account}).status == (
        "requires_payment_method"
    )

    status, wrong = stripe_emulator.http(
        "POST",
        f"/v1/payment_intents/{intent.id}/confirm",
        {
            "key": stripe_emulator.publishable_key,
            "client_secret": intent.id + "_secret_wrong",
            "_stripe_account": account,
        },
    )
    assert status == 400 and wrong["error"]["param"] == "client_secret"

    # Another attempt with a good card succeeds; an existing PaymentMethod works as well (server-side).
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}},
        {"stripe_account": account},
    )
    confirmed = client.v1.payment_intents.confirm(intent.id, {"payment_method": method.id}, {"stripe_account": account})
    assert confirmed.status == "succeeded" and confirmed.payment_method == method.id
    receiver.wait_for("payment_intent.succeeded", lambda e: e["data"]["object"]["id"] == intent.id)


def test_cancel_delivers_payment_intent_canceled(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = connected(client, stripe_emulator)
    on_account: Any = {"stripe_account": account}
    intent = client.v1.payment_intents.create({"amount": 900, "currency": "hkd"}, on_account)
    canceled = client.v1.payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"}, on_account)
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    event = receiver.wait_for("payment_intent.canceled", lambda e: e["data"]["object"]["id"] == intent.id)
    assert event["account"] == account
    with pytest.raises(stripe.InvalidRequestError):  # canceled already
        client.v1.payment_intents.cancel(intent.id, None, on_account)


def test_refunds_partial_then_too_much_and_charge_refunded(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator, receiver: Receiver
) -> None:
    account = connected(client, stripe_emulator)
    intent = paid_intent(client, stripe_emulator, account, amount=1000)
    on_account: Any = {"stripe_account": account}

    refund = client.v1.refunds.create(
        {
            "payment_intent": intent.id,
            "amount": 300,
            "reason": "requested_by_customer",
            "metadata": {"wuye_reason": "x"},
        },
        {**on_account, "idempotency_key": "wuye-refund-1"},
    )
    assert (refund.amount, refund.reason, refund.payment_intent) == (300, "requested_by_customer", intent.id)
    assert refund.metadata["wuye_reason"] == "x"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 800}, on_account)
    assert too_much.value.param == "amount" and "greater than unrefunded" in str(too_much.value.user_message)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id, "reason": "changed_my_mind"}, on_account)

    event = receiver.wait_for("charge.refunded", lambda e: e["data"]["object"]["payment_intent"] == intent.id)
    assert event["account"] == account
    charge = event["data"]["object"]
    assert charge["amount_refunded"] == 300 and [r["id"] for r in charge["refunds"]["data"]] == [refund.id]
    created = receiver.wait_for("refund.created", lambda e: e["data"]["object"]["id"] == refund.id)
    assert created["account"] == account

    rest = client.v1.refunds.create({"payment_intent": intent.id}, on_account)  # no amount: what is left
    assert rest.amount == 700
    receiver.wait_for(
        "charge.refunded",
        lambda e: e["data"]["object"]["payment_intent"] == intent.id and e["data"]["object"]["amount_refunded"] == 1000,
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 1}, on_account)


def test_another_account_and_the_platform_cannot_see_or_refund(
    client: stripe.StripeClient, stripe_emulator: StripeEmulator
) -> None:
    alpha, beta = connected(client, stripe_emulator), connected(client, stripe_emulator)
    intent = paid_intent(client, stripe_emulator, alpha)
    for options in ({"stripe_account": beta}, {}):
        with pytest.raises(stripe.InvalidRequestError) as hidden:
            client.v1.payment_intents.retrieve(intent.id, None, options)
        assert hidden.value.http_status == 404
        assert str(hidden.value.user_message) == f"No such payment_intent: '{intent.id}'"
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.refunds.create({"payment_intent": intent.id, "amount": 100}, options)
        assert refused.value.http_status == 404
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.cancel(intent.id, None, options)
        assert intent.id not in [found.id for found in client.v1.payment_intents.list({"limit": 100}, options).data]
    with pytest.raises(stripe.PermissionError):
        client.v1.payment_intents.list({}, {"stripe_account": "acct_nobody"})
    assert client.v1.refunds.list({"limit": 100}, {"stripe_account": beta}).data == []


def test_lists_by_created_newest_first_with_pages(client: stripe.StripeClient, stripe_emulator: StripeEmulator) -> None:
    account = connected(client, stripe_emulator)
    on_account: Any = {"stripe_account": account}
    start = int(time.time())
    made = [client.v1.payment_intents.create({"amount": 100 * n, "currency": "hkd"}, on_account).id for n in (1, 2, 3)]
    end = int(time.time()) + 1

    everything = client.v1.payment_intents.list({"created": {"gte": start, "lt": end}, "limit": 100}, on_account)
    assert [found.id for found in everything.data] == made[::-1]
    assert client.v1.payment_intents.list({"created": {"gt": end}}, on_account).data == []
    assert client.v1.payment_intents.list({"created": {"lte": start - 1}}, on_account).data == []

    first = client.v1.payment_intents.list({"created": {"gte": start}, "limit": 2}, on_account)
    assert [found.id for found in first.data] == made[:0:-1] and first.has_more
    second = client.v1.payment_intents.list(
        {"created": {"gte": start}, "limit": 2, "starting_after": first.data[-1].id}, on_account
    )
    assert [found.id for found in second.data] == made[:1] and not second.has_more
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list({"limit": 101}, on_account)

    intent = paid_intent(client, stripe_emulator, account)
    refunds = [client.v1.refunds.create({"payment_intent": intent.id, "amount": 100}, on_account).id for _ in range(2)]
    listed = client.v1.refunds.list({"created": {"gte": start, "lte": end}, "limit": 100}, on_account)
    assert [found.id for found in listed.data] == refunds[::-1]
    assert client.v1.refunds.list({"created": {"gt": end}}, on_account).data == []


def test_nothing_is_written_to_localstripes_pickle(client: stripe.StripeClient) -> None:
    pickle = Path("/tmp/localstripe.pickle")
    before = pickle.stat().st_mtime_ns if pickle.exists() else None
    client.v1.accounts.create({"type": "custom", "country": "GB"})
    assert (pickle.stat().st_mtime_ns if pickle.exists() else None) == before
