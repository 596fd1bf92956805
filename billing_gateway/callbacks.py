"""Who acts on which Stripe event. The gateway's own handlers (a connected account's status) and, later,
fees' (a payment settled or refunded) register here; `services.event_process` calls them in the event's
company schema. A handler must be safe to call twice with the same event (a retried task)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]  # receives the WebhookEvent
_handlers: dict[str, list[Handler]] = {}


def register(event_type: str, handler: Handler) -> None:
    if handler not in _handlers.setdefault(event_type, []):
        _handlers[event_type].append(handler)


def handlers_for(event_type: str) -> list[Handler]:
    return list(_handlers.get(event_type, []))
