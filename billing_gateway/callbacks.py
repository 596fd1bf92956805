"""Who acts on what the provider tells: modules register a handler for each name of the gateway interface
(`interface.PAYMENT_SUCCEEDED`, `interface.REFUND_SETTLED`, ...) and receive its neutral record
(`interface.PaymentState`, `interface.RefundEvent`), never a Stripe payload. `services.event_process`
calls them in the event's company schema. A handler must be safe to call twice with the same record (a
retried task, a refund heard from the API and again from the webhook)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]  # receives an interface record
_handlers: dict[str, list[Handler]] = {}


def register(name: str, handler: Handler) -> None:
    if handler not in _handlers.setdefault(name, []):
        _handlers[name].append(handler)


def handlers_for(name: str) -> list[Handler]:
    return list(_handlers.get(name, []))


# A module may also take many records of one name at once (a batch of one company's events): faster for
# what comes in bursts. It must write what its one-by-one handler would, or refuse the whole batch (the
# gateway then hands the records one by one).
BatchHandler = Callable[[list[Any]], None]
_batch_handlers: dict[str, BatchHandler] = {}


def register_batch(name: str, handler: BatchHandler) -> None:
    _batch_handlers[name] = handler


def batch_handler_for(name: str) -> BatchHandler | None:
    return _batch_handlers.get(name)
