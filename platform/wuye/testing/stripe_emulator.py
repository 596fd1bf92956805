"""A Stripe emulator for the tests: localstripe's aiohttp app, with what Wuye's payments need added.

Run it with `python -m wuye.testing.stripe_emulator --host 127.0.0.1 --port P` (the `stripe_emulator`
fixture of `wuye.testing.plugin` does). localstripe (PyPI) is used as a library: its resources, store,
routes and middlewares are reused; the additions below patch or wrap them in this process only.

What is added, and why:

1. No state on disk. localstripe pickles its whole store to /tmp/localstripe.pickle on every write (and
   loads it at start): two emulators on one machine (two test runs, xdist workers) would share and
   overwrite each other's state. `Store.dump_to_disk` and `Store.try_load_from_disk` become no-ops.
2. The `Stripe-Account` header (Connect direct charges: every call Wuye makes on a company's behalf names
   its connected account). A middleware puts the header's account in a contextvar for the request; every
   object made meanwhile belongs to that account (a private attribute, never exported). Retrieving,
   updating, confirming, cancelling or refunding another account's object answers 404 like Stripe ("No
   such payment_intent: 'pi_...'"), and lists show the header's account's objects only. Events about an
   account's objects carry the top-level `account` of Stripe's Connect events, which is how the gateway
   finds the company. localstripe's webhook sender is replaced: it adds `account`, signs like Stripe
   (`t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">`, the timestamp of the delivery) and waits 0.1 s instead
   of 1 s, to keep the tests fast. asyncio copies the context when a task is created, so the sender's task
   (and localstripe's own delayed callbacks) still see the request's account.
3. `Idempotency-Key` on POST (the gateway derives one from its own ids for every creation; Stripe's
   library sends one with every POST). The first answer is kept per (account, key): the same key with the
   same path and body replays it with `Idempotent-Replayed: true`; other parameters answer 400
   `idempotency_error`. Like Stripe, answers of requests refused before the endpoint ran (validation, auth,
   a missing object) are not kept; a declined card (402) is.
4. Connect accounts, which localstripe lacks: /v1/accounts (create, retrieve, update, list) and
   /v1/account_links. A link's address is the emulator's `/_harness/onboarding/<token>`: opening it plays
   the person who completes (or, with `?outcome=incomplete`, abandons) Stripe's hosted onboarding; the
   account changes, `account.updated` is delivered, and the browser is sent to `return_url` (to
   `refresh_url` when the link expired or was used, as Stripe does).
5. PaymentIntent parameters the gateway sends that localstripe refuses: `application_fee_amount` (the
   platform's fee; only on a connected account, like Stripe), `automatic_payment_methods`, `description`,
   `receipt_email`, `statement_descriptor_suffix`, `return_url`; they are exported on the object and in its
   events. `amount_received` is exported too (reconciliation reads it).
6. Confirm with `payment_method` (localstripe answers 500), with `payment_method_data` (a card), and
   authenticated the way Stripe.js does from the owner's browser: the publishable key (`key=pk_...`) and the
   intent's `client_secret` in the body, the connected account as `_stripe_account`. Stripe's declining
   test cards (4000000000000002 and the other "attach declined" numbers of localstripe) decline the charge,
   as they do on Stripe, so `payment_intent.payment_failed` follows; a 402 answer is a `card_error`.
7. Refunds take `reason` and `metadata`, refuse more than what is still unrefunded on the charge (a refund
   without an amount refunds the rest, not the whole charge again), and deliver `charge.refunded` (the
   charge with its refunds and `amount_refunded`, which Wuye's fees book from) and `refund.created`.
8. Lists of payment intents and refunds take `created[gt|gte|lt|lte]` and `limit` (at most 100) with
   `starting_after`, newest first (reconciliation pages through a period). Cancelling an intent takes
   `cancellation_reason` and delivers `payment_intent.canceled`, which the gateway acts on.
9. `GET /_harness/health` answers 200: the fixture waits for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import hashlib
import hmac
import itertools
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError

logger = logging.getLogger("wuye.stripe_emulator")

# The connected account named by the request (`Stripe-Account`), None for the platform itself.
current_account: contextvars.ContextVar[str | None] = contextvars.ContextVar("stripe_account", default=None)

WEBHOOK_DELAY = 0.1  # seconds; localstripe waits 1 s, which would make every payment test a second slower
LINK_LIFETIME = 300  # seconds, as Stripe's account links
_OWNER = "_wuye_account"  # private attributes are not exported by localstripe's `_export`
_SEQUENCE = "_wuye_seq"  # creation order, to break ties between objects created in the same second
_sequence = itertools.count(1)
_installed = False


def stripe_error(
    status: int, message: str, *, kind: str = "invalid_request_error", code: str = "", param: str = "", **extra: Any
) -> UserError:
    """Stripe's error shape: {"error": {"type", "message", "code"?, "param"?, ...}}."""
    contents: dict[str, Any] = {**extra}
    if code:
        contents["code"] = code
    if param:
        contents["param"] = param
    error = UserError(status, message, contents)
    error.body["error"]["type"] = kind
    return error


def _no_such(kind: str, object_id: str, param: str = "id") -> UserError:
    return stripe_error(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def _owner(obj: Any) -> str | None:
    return getattr(obj, _OWNER, None)


def _unknown(data: dict[str, Any], allowed: set[str]) -> None:
    for name in data:
        if name not in allowed:
            raise stripe_error(400, f"Received unknown parameter: {name}", param=name)


def _int_param(value: Any, name: str) -> int:
    converted = resources.try_convert_to_int(value)
    if type(converted) is not int:
        raise stripe_error(400, f"Invalid integer: {value}", param=name)
    return converted


# ------------------------------------------------------------------------------------ 1. no disk state
def _install_memory_store() -> None:
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


# ------------------------------------------------------------------------------- 2. connected accounts
def _install_ownership() -> None:
    original_init = resources.StripeObject.__init__

    def owned_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        setattr(self, _OWNER, current_account.get())
        setattr(self, _SEQUENCE, next(_sequence))

    original_retrieve = resources.StripeObject._api_retrieve.__func__

    def owned_retrieve(cls: Any, id: str) -> Any:
        try:
            obj = original_retrieve(cls, id)
        except UserError as error:
            if error.code == 404:
                raise _no_such(cls.object, id) from None
            raise
        if _owner(obj) != current_account.get():
            raise _no_such(cls.object, id)
        return obj

    original_list = resources.StripeObject._api_list_all.__func__

    def owned_list(cls: Any, url: str, limit: Any = None, starting_after: Any = None, **kwargs: Any) -> Any:
        listing = original_list(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        account = current_account.get()
        listing._list = [obj for obj in listing._list if _owner(obj) == account]
        return listing

    original_event_export = resources.Event._export

    def event_export(self: Any, expand: Any = None) -> dict[str, Any]:
        exported: dict[str, Any] = original_event_export(self, expand=expand)
        if _owner(self):
            exported["account"] = _owner(self)  # as Stripe's Connect events
        return exported

    resources.StripeObject.__init__ = owned_init
    resources.StripeObject._api_retrieve = classmethod(owned_retrieve)
    resources.StripeObject._api_list_all = classmethod(owned_list)
    resources.Event._export = event_export
    # resources.py imported `schedule_webhook` by name: both references are replaced.
    webhooks._send_webhook = send_webhook
    webhooks.schedule_webhook = schedule_webhook
    resources.schedule_webhook = schedule_webhook


_deliveries: set[asyncio.Future[None]] = set()


def schedule_webhook(event: Any) -> None:
    # ensure_future copies the current context: the task sees the request's account (checked in send_webhook).
    task = asyncio.ensure_future(send_webhook(event))
    _deliveries.add(task)  # a task nobody references may be collected before it runs
    task.add_done_callback(_deliveries.discard)


async def send_webhook(event: Any) -> None:
    await asyncio.sleep(WEBHOOK_DELAY)
    if current_account.get() != _owner(event):
        logger.warning("event %s: the task's account %s is not the event's", event.id, current_account.get())
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
    for webhook in list(webhooks._webhooks.values()):
        if webhook.events is not None and event.type not in webhook.events:
            continue
        timestamp = int(time.time())
        signature = hmac.new(webhook.secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(webhook.url, data=payload, headers=headers) as answer,
            ):
                logger.info("webhook %s %s (%s) -> %s", event.type, event.id, _owner(event), answer.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.info("webhook %s %s failed: %s", event.type, event.id, error)


def deliver(event_type: str, obj: Any, account: str | None, previous: dict[str, Any] | None = None) -> Any:
    """An event about `obj`, owned by `account` whatever the request's (the harness has no header)."""
    token = current_account.set(account)
    try:
        event = resources.Event(event_type, obj)
        if previous:
            event.data["previous_attributes"] = previous
        schedule_webhook(event)
        return event
    finally:
        current_account.reset(token)


@web.middleware
async def account_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    account = request.headers.get("Stripe-Account") or None
    if account is None and request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        named = (await request.post()).get("_stripe_account")  # how Stripe.js names the connected account
        account = named if isinstance(named, str) and named else None
    if account is not None and not request.path.startswith(("/_config/", "/_harness/")):
        found = resources.store.get("account:" + str(account))
        if found is None or _owner(found) is not None:
            return stripe_error(
                403,
                f"The provided key does not have access to account '{account}' (or that account does not exist).",
                code="account_invalid",
            ).to_response()
    token = current_account.set(str(account) if account else None)
    try:
        return await handler(request)
    finally:
        current_account.reset(token)


# ------------------------------------------------------------------------------------ 3. idempotency
@dataclass
class _Answer:
    path: str
    body: bytes
    status: int
    text: bytes
    content_type: str


_answers: dict[tuple[str | None, str], _Answer] = {}
_running: set[tuple[str | None, str]] = set()


def _keep(status: int) -> bool:
    """Stripe keeps an answer once the endpoint began: not a refused validation, auth or lookup."""
    return status < 400 or status == 402 or status >= 500


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    body = await request.read()  # aiohttp keeps it: the handler reads it again
    slot = (current_account.get(), key)
    kept = _answers.get(slot)
    if kept is not None:
        if kept.path != request.path or kept.body != body:
            return stripe_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
                kind="idempotency_error",
            ).to_response()
        replay = web.Response(status=kept.status, body=kept.text, content_type=kept.content_type)
        replay.headers["Idempotent-Replayed"] = "true"
        replay.headers["Idempotency-Key"] = key
        return replay
    if slot in _running:
        return stripe_error(
            409,
            "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.",
            kind="idempotency_error",
        ).to_response()
    _running.add(slot)
    try:
        answer = await handler(request)
    finally:
        _running.discard(slot)
    if isinstance(answer, web.Response) and _keep(answer.status) and isinstance(answer.body, bytes):
        _answers[slot] = _Answer(request.path, body, answer.status, answer.body, answer.content_type)
    answer.headers["Idempotency-Key"] = key
    return answer


# --------------------------------------------------------------------------------- 4. Connect accounts
_CURRENCIES = {"CN": "cny", "HK": "hkd", "US": "usd", "GB": "gbp", "SG": "sgd"}
_BASE_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
_PERSON_DUE = {
    "company": ["company.name", "company.address.line1", "company.tax_id", "representative.first_name"],
    "individual": ["individual.first_name", "individual.last_name", "individual.dob.day", "individual.address.line1"],
}
_ACCOUNT_CREATE = {
    "type", "country", "email", "business_type", "capabilities", "metadata", "business_profile", "company",
    "individual", "tos_acceptance", "settings", "default_currency", "external_account", "controller",
}  # fmt: skip
_ACCOUNT_UPDATE = {"email", "metadata", "business_profile", "business_type", "default_currency", "capabilities"}


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _merge_metadata(current: dict[str, Any], given: Any) -> dict[str, Any]:
    """Stripe's rule: keys are merged; an empty value removes a key, an empty `metadata` removes all."""
    if given == "":
        return {}
    if not isinstance(given, dict):
        raise stripe_error(400, "Invalid object", param="metadata")
    merged = dict(current)
    for name, value in given.items():
        if value == "":
            merged.pop(name, None)
        else:
            merged[name] = str(value)
    return merged


class Account(resources.StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(self, **params: Any) -> None:
        super().__init__()
        country = str(params.get("country") or "US").upper()
        business_type = params.get("business_type")
        requested = [
            name
            for name, wanted in (params.get("capabilities") or {}).items()
            if isinstance(wanted, dict) and str(wanted.get("requested")).lower() == "true"
        ]
        if not requested and params["type"] == "standard":
            requested = ["card_payments", "transfers"]
        self.type = params["type"]
        self.country = country
        self.default_currency = params.get("default_currency") or _CURRENCIES.get(country, "usd")
        self.email = params.get("email")
        self.business_type = business_type
        self.business_profile = {
            "mcc": None, "name": None, "product_description": None, "support_email": None, "support_phone": None,
            "support_url": None, "url": None, **(params.get("business_profile") or {}),
        }  # fmt: skip
        self.capabilities = dict.fromkeys(requested, "inactive")
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.metadata = _merge_metadata({}, params.get("metadata") or {})
        self.requirements = _requirements(_BASE_DUE + _PERSON_DUE.get(str(business_type), []))
        self.future_requirements = _requirements([])
        self.settings = {"payouts": {"schedule": {"interval": "daily"}}}
        self.tos_acceptance = {"date": None, "ip": None, "user_agent": None}

    @classmethod
    def _api_retrieve(cls, id: str) -> Any:
        # Accounts belong to the platform; a connected account may read itself (its own Stripe-Account).
        header = current_account.get()
        if header is not None and header != id:
            raise _no_such("account", id)
        token = current_account.set(None)
        try:
            return super()._api_retrieve(id)
        finally:
            current_account.reset(token)


async def _form(request: web.Request) -> dict[str, Any]:
    data = await server.get_post_data(request)
    return dict(data or {})


async def account_create(request: web.Request) -> web.Response:
    if current_account.get() is not None:
        raise stripe_error(400, "You cannot create accounts as a connected account (no Stripe-Account header).")
    data = await _form(request)
    expand = data.pop("expand", None)
    _unknown(data, _ACCOUNT_CREATE)
    kind = data.get("type")
    if kind is None:
        raise stripe_error(400, "Missing required param: type.", code="parameter_missing", param="type")
    if kind not in ("standard", "express", "custom"):
        raise stripe_error(400, "Invalid type: must be one of custom, express, or standard", param="type")
    country = data.get("country")
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", str(country)):
        raise stripe_error(400, f"Country '{country}' is unknown. Try using a 2-character alphanumeric country code.")
    if data.get("business_type") not in (None, "individual", "company", "non_profit", "government_entity"):
        raise stripe_error(400, "Invalid business_type", param="business_type")
    for name in ("capabilities", "business_profile"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            raise stripe_error(400, "Invalid object", param=name)
    account = Account(**data)
    return server.json_response(account._export(expand=expand))


async def account_retrieve(request: web.Request) -> web.Response:
    expand = server.unflatten_data(request.query).get("expand")
    return server.json_response(Account._api_retrieve(request.match_info["id"])._export(expand=expand))


async def account_self(request: web.Request) -> web.Response:
    account = current_account.get()
    if account is None:
        raise stripe_error(400, "This request needs a Stripe-Account header in this emulator.")
    return server.json_response(Account._api_retrieve(account)._export())


async def account_update(request: web.Request) -> web.Response:
    account = Account._api_retrieve(request.match_info["id"])
    data = await _form(request)
    expand = data.pop("expand", None)
    _unknown(data, _ACCOUNT_UPDATE)
    previous: dict[str, Any] = {}
    if "metadata" in data:
        previous["metadata"] = dict(account.metadata)
        account.metadata = _merge_metadata(account.metadata, data.pop("metadata"))
    if "business_profile" in data:
        if not isinstance(data["business_profile"], dict):
            raise stripe_error(400, "Invalid object", param="business_profile")
        previous["business_profile"] = dict(account.business_profile)
        account.business_profile = {**account.business_profile, **data.pop("business_profile")}
    if "capabilities" in data:
        previous["capabilities"] = dict(account.capabilities)
        for name, wanted in (data.pop("capabilities") or {}).items():
            if isinstance(wanted, dict) and str(wanted.get("requested")).lower() == "true":
                account.capabilities.setdefault(name, "active" if account.charges_enabled else "inactive")
    for name, value in data.items():
        previous[name] = getattr(account, name)
        setattr(account, name, value)
    deliver("account.updated", account, account.id, previous)
    return server.json_response(account._export(expand=expand))


async def account_list(request: web.Request) -> web.Response:
    data = server.unflatten_data(request.query)
    data.pop("expand", None)
    _unknown(data, {"limit", "starting_after", "created"})
    listing = _listing(Account, "/v1/accounts", **data)
    return server.json_response(listing._export())


@dataclass
class _Link:
    account: str
    kind: str
    refresh_url: str
    return_url: str
    expires_at: int
    used: bool = False


_links: dict[str, _Link] = {}


async def account_link_create(request: web.Request) -> web.Response:
    data = await _form(request)
    data.pop("expand", None)
    _unknown(data, {"account", "type", "refresh_url", "return_url", "collect", "collection_options"})
    for name in ("account", "type", "refresh_url", "return_url"):
        if not data.get(name):
            raise stripe_error(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    if data["type"] not in ("account_onboarding", "account_update"):
        raise stripe_error(400, "Invalid type: must be one of account_onboarding or account_update", param="type")
    for name in ("refresh_url", "return_url"):
        if not re.match(r"^https?://", str(data[name])):
            raise stripe_error(400, "Not a valid URL", code="url_invalid", param=name)
    try:
        account = Account._api_retrieve(str(data["account"]))
    except UserError:
        raise stripe_error(
            400, f"No such account: '{data['account']}'", code="resource_missing", param="account"
        ) from None
    now = int(time.time())
    token = secrets.token_urlsafe(18)
    _links[token] = _Link(account.id, data["type"], data["refresh_url"], data["return_url"], now + LINK_LIFETIME)
    base = str(request.url.origin())
    return server.json_response(
        {
            "object": "account_link",
            "created": now,
            "expires_at": now + LINK_LIFETIME,
            "url": f"{base}/_harness/onboarding/{token}",
        }
    )


async def onboarding(request: web.Request) -> web.StreamResponse:
    """The person at Stripe's hosted onboarding: `?outcome=complete` (default) or `incomplete`."""
    link = _links.get(request.match_info["token"])
    if link is None:
        return web.Response(status=404, text="This onboarding link is unknown.\n")
    outcome = request.query.get("outcome", "complete")
    if outcome not in ("complete", "incomplete"):
        return web.Response(status=400, text="outcome is complete or incomplete\n")
    if link.used or time.time() > link.expires_at:
        raise web.HTTPFound(link.refresh_url)  # Stripe's links are single-use and short-lived
    link.used = True
    token = current_account.set(None)
    try:
        account = Account._api_retrieve(link.account)
    finally:
        current_account.reset(token)
    previous = {
        name: getattr(account, name)
        for name in ("charges_enabled", "payouts_enabled", "details_submitted", "requirements", "capabilities")
    }
    account.details_submitted = True
    if outcome == "complete":
        account.charges_enabled = account.payouts_enabled = True
        account.requirements = _requirements([])
        account.capabilities = dict.fromkeys(account.capabilities, "active")
        account.tos_acceptance = {"date": int(time.time()), "ip": request.remote, "user_agent": "wuye-harness"}
    else:
        account.charges_enabled = account.payouts_enabled = False
        account.requirements = _requirements(["external_account"])
    deliver("account.updated", account, account.id, previous)
    raise web.HTTPFound(link.return_url)


# ------------------------------------------------------------------------- 5. PaymentIntent parameters
_INTENT_EXTRAS = (
    "application_fee_amount", "automatic_payment_methods", "description", "receipt_email",
    "statement_descriptor_suffix", "return_url",
)  # fmt: skip


def _install_intent_parameters() -> None:
    intent_cls = resources.PaymentIntent
    original_init = intent_cls.__init__

    def init(self: Any, **params: Any) -> None:
        extras = {name: params.pop(name, None) for name in _INTENT_EXTRAS}
        methods = params.get("payment_method_types")
        fee = extras["application_fee_amount"]
        if fee is not None:
            fee = _int_param(fee, "application_fee_amount")
            if current_account.get() is None:
                raise stripe_error(
                    400,
                    "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
                    "(using an OAuth key or Stripe-Account header) or destination payment (using "
                    "`transfer_data[destination]`).",
                    param="application_fee_amount",
                )
            amount = resources.try_convert_to_int(params.get("amount"))
            if fee < 0 or (type(amount) is int and fee > amount):
                raise stripe_error(
                    400,
                    "The application fee amount must be a non-negative integer no greater than the amount.",
                    param="application_fee_amount",
                )
        automatic = extras["automatic_payment_methods"]
        if automatic is not None:
            enabled = resources.try_convert_to_bool(automatic.get("enabled") if isinstance(automatic, dict) else None)
            if type(enabled) is not bool:
                raise stripe_error(
                    400,
                    "Missing required param: automatic_payment_methods[enabled].",
                    param="automatic_payment_methods",
                )
            automatic = {"enabled": enabled}
            if enabled and methods:
                raise stripe_error(
                    400,
                    "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
                    param="automatic_payment_methods",
                )
        for name in ("description", "receipt_email", "statement_descriptor_suffix", "return_url"):
            if extras[name] is not None and not isinstance(extras[name], str):
                raise stripe_error(400, f"Invalid string: {extras[name]}", param=name)
        suffix = extras["statement_descriptor_suffix"]
        if suffix is not None and len(suffix) > 22:
            raise stripe_error(
                400, "The statement descriptor suffix is at most 22 characters.", param="statement_descriptor_suffix"
            )
        original_init(self, **params)
        self.application_fee_amount = fee
        self.cancellation_reason = None
        self.canceled_at = None
        self.automatic_payment_methods = automatic
        self.payment_method_types = list(methods or ["card"])
        for name in ("description", "receipt_email", "statement_descriptor_suffix", "return_url"):
            setattr(self, name, extras[name])

    intent_cls.__init__ = init
    intent_cls.amount_received = property(lambda self: self.amount if self.status == "succeeded" else 0)


# ------------------------------------------------------------------------------------------ 6. confirm
_CONFIRM_PATH = re.compile(r"^/v1/payment_intents/[^/]+/confirm$")
_CONFIRM_PARAMS = {
    "payment_method", "payment_method_data", "return_url", "receipt_email", "payment_method_options",
    "setup_future_usage", "mandate_data", "off_session", "use_stripe_sdk", "expand",
}  # fmt: skip


def _install_declines() -> None:
    # On Stripe the "generic decline", "insufficient funds"... cards decline the charge; localstripe only
    # declines attaching them to a customer.
    original = resources.PaymentMethod._charging_is_declined

    def declined(self: Any) -> bool:
        return bool(original(self) or self._attaching_is_declined())

    resources.PaymentMethod._charging_is_declined = declined


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """localstripe's, plus: the harness needs no key, and confirm accepts the publishable key (Stripe.js)."""
    if request.path.startswith("/_harness/"):
        return await handler(request)
    if request.method == "POST" and _CONFIRM_PATH.match(request.path) and server.get_api_key(request) is None:
        data = await server.get_post_data(request, remove_auth=False) or {}
        key = data.get("key")
        if isinstance(key, str) and key.startswith("pk_"):
            return await handler(request)  # the handler checks the client secret
    response: web.StreamResponse = await server.auth_middleware(request, handler)
    return response


def _payment_method(data: dict[str, Any]) -> Any:
    given, described = data.get("payment_method"), data.get("payment_method_data")
    if given and described:
        raise stripe_error(
            400,
            "You may only specify one of these parameters: payment_method, payment_method_data.",
            param="payment_method",
        )
    if described is not None:
        if (
            not isinstance(described, dict)
            or described.get("type") != "card"
            or not isinstance(described.get("card"), dict)
        ):
            raise stripe_error(
                400, "payment_method_data needs type=card and card details.", param="payment_method_data"
            )
        _unknown(described, {"type", "card", "billing_details", "metadata"})
        card = {name: described["card"].get(name) for name in ("number", "exp_month", "exp_year", "cvc")}
        return resources.PaymentMethod(
            type="card", card=card, billing_details=described.get("billing_details"), metadata=described.get("metadata")
        )
    if given:
        if not isinstance(given, str):
            raise stripe_error(400, "Invalid payment_method", param="payment_method")
        try:
            return resources.PaymentMethod._api_retrieve(given)
        except UserError:
            raise stripe_error(
                400, f"No such PaymentMethod: '{given}'", code="resource_missing", param="payment_method"
            ) from None
    return None


async def intent_confirm(request: web.Request) -> web.Response:
    data = dict(await server.get_post_data(request, remove_auth=False) or {})
    by_publishable_key = server.get_api_key(request) is None
    client_secret = data.pop("client_secret", None)
    for name in ("key", "_stripe_account", "payment_user_agent", "referrer", "_stripe_version"):
        data.pop(name, None)
    expand = data.pop("expand", None)
    _unknown(data, _CONFIRM_PARAMS)
    intent = resources.PaymentIntent._api_retrieve(request.match_info["id"])
    if (by_publishable_key or client_secret is not None) and client_secret != intent.client_secret:
        raise stripe_error(
            400,
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            code="payment_intent_invalid_parameter",
            param="client_secret",
        )
    if intent.status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        raise stripe_error(
            400,
            f"You cannot confirm this PaymentIntent because it has a status of {intent.status}.",
            code="payment_intent_unexpected_state",
            payment_intent=intent._export(),
        )
    method = _payment_method(data)
    if method is not None:
        intent.payment_method = method.id
        intent._authentication_failed = False
        if intent.latest_charge is not None and intent.latest_charge.status == "failed":
            intent.latest_charge = None  # a new attempt with another payment method
        intent.next_action = None
    if intent.status != "requires_confirmation":
        raise stripe_error(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method. Update it with a "
            "payment method, then confirm it again.",
            code="payment_intent_unexpected_state",
        )
    for name in ("return_url", "receipt_email"):
        if data.get(name) is not None:
            setattr(intent, name, data[name])
    try:
        intent._confirm(on_failure_now=intent._report_failure)
    except UserError as error:
        if error.code == 402:
            error.body["error"].update(
                type="card_error", decline_code="generic_decline", payment_intent=intent._export()
            )
        raise
    finally:
        charge = intent.latest_charge
        if charge is not None:
            charge.application_fee_amount = intent.application_fee_amount
            charge.description = intent.description
            charge.receipt_email = intent.receipt_email
    return server.json_response(intent._export(expand=expand))


_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


async def intent_cancel(request: web.Request) -> web.Response:
    """localstripe's cancel, plus `cancellation_reason` and the `payment_intent.canceled` event Stripe sends
    (the gateway acts on it)."""
    data = await _form(request)
    expand = data.pop("expand", None)
    _unknown(data, {"cancellation_reason"})
    reason = data.get("cancellation_reason")
    if reason is not None and reason not in _CANCELLATION_REASONS:
        raise stripe_error(
            400,
            "Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned",
            param="cancellation_reason",
        )
    intent = resources.PaymentIntent._api_retrieve(request.match_info["id"])
    if intent.status not in ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"):
        raise stripe_error(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of {intent.status}.",
            code="payment_intent_unexpected_state",
        )
    resources.PaymentIntent._api_cancel(intent.id)
    intent.cancellation_reason = reason
    intent.canceled_at = int(time.time())
    deliver("payment_intent.canceled", intent, _owner(intent))
    return server.json_response(intent._export(expand=expand))


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """localstripe's (UserError -> its JSON answer), with Stripe's type for a declined card."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except UserError as error:
        if error.code == 402:
            error.body["error"]["type"] = "card_error"
        return error.to_response()


# ----------------------------------------------------------------------------------------- 7. refunds
_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _money(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount / 100:.2f}"


def _install_refunds() -> None:
    refund_cls = resources.Refund
    original_init = refund_cls.__init__

    def init(
        self: Any, charge: Any = None, payment_intent: Any = None, amount: Any = None, reason: Any = None, **params: Any
    ) -> None:
        if reason is not None and reason not in _REASONS:
            raise stripe_error(
                400, "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
            )
        if params.get("metadata") not in (None, "") and not isinstance(params.get("metadata"), dict):
            raise stripe_error(400, "Invalid object", param="metadata")
        if isinstance(payment_intent, str):
            intent = resources.PaymentIntent._api_retrieve(payment_intent)
            if intent.latest_charge is None:
                raise stripe_error(
                    400,
                    f"This PaymentIntent ({payment_intent}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                )
            charge_obj = intent.latest_charge
        elif isinstance(charge, str):
            charge_obj = resources.Charge._api_retrieve(charge)
        else:
            raise stripe_error(
                400, "One of the following params should be provided for this request: payment_intent or charge."
            )
        left = charge_obj.amount - charge_obj.amount_refunded
        if charge_obj.status == "succeeded" and left <= 0:
            raise stripe_error(
                400, f"Charge {charge_obj.id} has already been refunded.", code="charge_already_refunded"
            )
        if amount is None:
            amount = left  # the rest, not the whole charge again
        elif _int_param(amount, "amount") > left:
            raise stripe_error(
                400,
                f"Refund amount ({_money(_int_param(amount, 'amount'), charge_obj.currency)}) is greater than "
                f"unrefunded amount on charge ({_money(left, charge_obj.currency)})",
                param="amount",
            )
        original_init(self, charge=charge, payment_intent=payment_intent, amount=amount, **params)
        self.reason = reason
        self.payment_intent = self.payment_intent or charge_obj.payment_intent

    def create(cls: Any, **data: Any) -> Any:
        refund = cls(**data)
        charge = resources.Charge._api_retrieve(refund.charge)
        deliver("charge.refunded", charge, _owner(charge))
        deliver("refund.created", refund, _owner(refund))
        return refund

    refund_cls.__init__ = init
    refund_cls._api_create = classmethod(create)


# ------------------------------------------------------------------------------------------- 8. lists
def _listing(cls: Any, url: str, created: Any = None, limit: Any = None, **params: Any) -> Any:
    """`cls`'s list through localstripe (and the account filter), then created[...] and newest first."""
    if limit is not None:
        limit = _int_param(limit, "limit")
        if not 1 <= limit <= 100:
            raise stripe_error(400, "This value must be between 1 and 100 (inclusive).", param="limit")
    tests = []
    if isinstance(created, dict):
        operators = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
        for name, value in created.items():
            if name not in operators:
                raise stripe_error(400, f"Received unknown parameter: created[{name}]", param=f"created[{name}]")
            tests.append((operators[name], _int_param(value, f"created[{name}]")))
    elif created is not None:
        tests.append((int.__eq__, _int_param(created, "created")))
    try:
        listing = cls._wuye_list(url, limit=limit, **params)
    except TypeError as error:  # a parameter localstripe's list does not take
        raise stripe_error(400, f"Received unknown parameter: {error}") from None
    listing._list = [obj for obj in listing._list if all(test(obj.created, bound) for test, bound in tests)]
    listing._list.sort(key=lambda obj: (obj.created, getattr(obj, _SEQUENCE, 0)), reverse=True)
    return listing


def _install_lists() -> None:
    for cls in (resources.PaymentIntent, resources.Refund, Account):
        cls._wuye_list = cls._api_list_all  # localstripe's (bound), already filtered by account

        def listing(cls: Any, url: str, **params: Any) -> Any:
            return _listing(cls, url, **params)

        cls._api_list_all = classmethod(listing)


# ------------------------------------------------------------------------------------------- the app
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def flush(request: web.Request) -> web.Response:
    resources.store.clear()
    _answers.clear()
    _links.clear()
    return web.Response()


async def webhook_remove(request: web.Request) -> web.Response:
    """Stop delivering to an endpoint (localstripe can only add them): a test that pointed Stripe at its own
    server takes it back when it is done, so later tests' events do not reach that server."""
    webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response()


def install() -> None:
    """Patch localstripe in this process (once)."""
    global _installed
    if _installed:
        return
    _install_memory_store()
    _install_ownership()
    _install_intent_parameters()
    _install_declines()
    _install_refunds()
    _install_lists()
    _installed = True


def build_app() -> web.Application:
    install()
    app = web.Application(middlewares=[account_middleware, idempotency_middleware, error_middleware, auth_middleware])
    app.on_response_prepare.append(server.add_cors_headers)
    ours = [
        ("GET", "/_harness/health", health),
        ("GET", "/_harness/onboarding/{token}", onboarding),
        ("DELETE", "/_config/data", flush),
        ("DELETE", "/_config/webhooks/{id}", webhook_remove),
        ("POST", "/v1/accounts", account_create),
        ("GET", "/v1/accounts", account_list),
        ("GET", "/v1/accounts/{id}", account_retrieve),
        ("POST", "/v1/accounts/{id}", account_update),
        ("GET", "/v1/account", account_self),
        ("POST", "/v1/account_links", account_link_create),
        ("POST", "/v1/payment_intents/{id}/confirm", intent_confirm),
        ("POST", "/v1/payment_intents/{id}/cancel", intent_cancel),
    ]
    for method, path, handler in ours:
        app.router.add_route(method, path, handler)
    taken = {(method, path) for method, path, _ in ours}
    # localstripe's routes, in its order (its extra routes come before `/{id}` ones).
    for route in server.app.router.routes():
        path = route.resource.canonical
        if (route.method, path) not in taken:
            app.router.add_route(route.method, path, route.handler)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--verbose", action="store_true", help="log every request and webhook delivery")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="stripe-emulator: %(message)s")
    web.run_app(
        build_app(),
        host=args.host,
        port=args.port,
        print=None,
        access_log=logging.getLogger("aiohttp.access") if args.verbose else None,
    )


if __name__ == "__main__":
    main()
