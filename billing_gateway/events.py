"""Stripe's events in the gateway interface's words: which neutral record (`interface`) each Stripe event
means for the modules. The gateway's own events (a connected account's status) are not here; they are
acted on by `services.account_status_update`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import interface, stripe_api

_PAYMENT_EVENTS = {
    "payment_intent.succeeded": interface.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": interface.PAYMENT_FAILED,
    "payment_intent.processing": interface.PAYMENT_PROCESSING,
    "payment_intent.canceled": interface.PAYMENT_CANCELED,
}
REFUND_EVENTS = ("charge.refunded", "refund.created", "refund.updated")
HANDLED = (*_PAYMENT_EVENTS, *REFUND_EVENTS)


def _object(payload: dict[str, Any], kind: str) -> dict[str, Any] | None:
    found = (payload.get("data") or {}).get("object") or {}
    return found if found.get("object") == kind else None


def translate(payload: dict[str, Any], *, account_id: str) -> list[tuple[str, Any]]:
    """(callback name, record) for each thing the event tells; [] for an event nothing here acts on.
    A `charge.refunded` without its refunds (Stripe's newer API versions leave them out) asks the API for
    them, on the charge's account."""
    event_type = str(payload.get("type") or "")
    if event_type in _PAYMENT_EVENTS:
        intent = _object(payload, "payment_intent")
        if intent is None:
            return []
        state = stripe_api.payment_state(intent)
        if event_type == "payment_intent.payment_failed":
            state = replace(state, status=interface.FAILED)
        return [(_PAYMENT_EVENTS[event_type], state)]
    if event_type == "charge.refunded":
        charge = _object(payload, "charge")
        if charge is None:
            return []
        listed = (charge.get("refunds") or {}).get("data")
        if listed is None:
            listed = stripe_api.refunds_of_charge(account_id=account_id, charge_id=str(charge["id"]))
        refunds = [
            stripe_api.refund_record(refund, payment_ref=str(charge.get("payment_intent") or ""))
            for refund in listed
            if refund.get("status") in (None, "succeeded", "pending")
        ]
        return [(interface.REFUND_SETTLED, refund) for refund in refunds]
    if event_type in ("refund.created", "refund.updated"):
        refund = _object(payload, "refund")
        if refund is None or refund.get("status") not in ("succeeded", "pending") or not refund.get("payment_intent"):
            return []
        return [(interface.REFUND_SETTLED, stripe_api.refund_record(refund))]
    return []
