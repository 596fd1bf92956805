"""Stripe's webhooks, as the emulator signs and sends them, brought to the app under test.

The emulator delivers every event over HTTP to this relay (a small server on a free port); a test waits
for the delivery it expects and posts it, body and `Stripe-Signature` header untouched, to the webhook
endpoint through Django's test client, so that it lands in the test's own (rolled-back) transaction.
Nothing is signed here: the signature is the emulator's."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def object(self) -> dict[str, Any]:
        return dict(self.event["data"]["object"])


class StripeRelay:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with relay._arrived:
                    relay.deliveries.append(Delivery(body=body, signature=self.headers.get("Stripe-Signature", "")))
                    relay._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, object_id: str, *, timeout: float = 15.0) -> Delivery:
        """The delivery of `event_type` about `object_id` (its data.object id), waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for delivery in self.deliveries:
                    event = delivery.event
                    if event.get("type") == event_type and delivery.object.get("id") == object_id:
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(d.event.get("type"), d.object.get("id")) for d in self.deliveries[-10:]]
                    raise AssertionError(f"no {event_type} for {object_id} within {timeout} s; last: {seen}")
                self._arrived.wait(left)

    def close(self) -> None:
        self.server.shutdown()


def stripe_signature(payload: bytes, secret: str, *, at: int | None = None) -> str:
    """A `Stripe-Signature` header for a body, made by the `stripe` library's own scheme (for tests that
    build their deliveries instead of having the emulator send them); `at` backdates it."""
    import stripe

    timestamp = int(time.time()) if at is None else at
    return f"t={timestamp},v1={stripe.WebhookSignature._compute_signature(f'{timestamp}.{payload.decode()}', secret)}"
