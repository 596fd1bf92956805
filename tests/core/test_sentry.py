"""Sentry: events carry the company's schema as a tag and none of the personal data property companies
hold. The transport captures envelopes in memory (no network here, and none wanted in a test)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from wuye.core.sentry import init_sentry, scrub_text
from wuye.testing.plugin import CompanyFixture, in_company

RESIDENT_ID = "11010519491231002X"
MOBILE = "13800138000"
EMAIL = "owner@example.com"


class CapturingTransport(Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Any] = []

    def capture_envelope(self, envelope: Any) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        found = []
        for envelope in self.envelopes:
            for item in envelope.items:
                if item.type == "event":
                    found.append(json.loads(item.payload.get_bytes()))
        return found


@pytest.fixture
def sentry_events():
    transport = CapturingTransport()
    init_sentry(dsn="https://public@sentry.invalid/1", environment="test", transport=transport)
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)


def _fail_with_personal_data() -> None:
    id_number = RESIDENT_ID  # noqa: F841  (a local variable: Sentry sends frame variables)
    raise ValueError(f"owner {EMAIL} with ID {RESIDENT_ID} and phone {MOBILE} could not be saved")


def test_an_event_is_tagged_with_the_company_and_scrubbed(
    company_a: CompanyFixture, sentry_events: CapturingTransport
) -> None:
    with in_company(company_a):
        try:
            _fail_with_personal_data()
        except ValueError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.capture_message(f"call back {MOBILE} or +86 139-1234-5678, ID {RESIDENT_ID.lower()}")
    sentry_sdk.flush()
    events = sentry_events.events()
    assert len(events) == 2
    for event in events:
        assert event["tags"]["company"] == company_a.schema_name
        text = json.dumps(event, ensure_ascii=False)
        for secret in (RESIDENT_ID, RESIDENT_ID.lower(), MOBILE, "139-1234-5678", EMAIL):
            assert secret not in text, f"{secret} leaked into the event"
    assert "[Filtered]" in json.dumps(events[0])
    # What is not personal survives, so the report stays useful.
    assert "could not be saved" in json.dumps(events[0])


def test_events_outside_a_company_are_tagged_public(db, sentry_events: CapturingTransport) -> None:
    sentry_sdk.capture_message("vendor console problem")
    sentry_sdk.flush()
    assert sentry_events.events()[0]["tags"]["company"] == "public"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"ID {RESIDENT_ID}", "ID [Filtered]"),
        ("old ID 110105491231002", "old ID [Filtered]"),
        ("mobile +8613912345678", "mobile [Filtered]"),
        ("mobile 139 1234 5678", "mobile [Filtered]"),
        ("landline 010-62345678", "landline [Filtered]"),
        ("mail a.b+c@mail.example.cn", "mail [Filtered]"),
        # Not personal data: left as it is.
        ("trace 4bf92f3577b34da6a3ce929d0e0e4736", "trace 4bf92f3577b34da6a3ce929d0e0e4736"),
        ("order 12345 of 2026, 3 units", "order 12345 of 2026, 3 units"),
    ],
)
def test_scrubbing_patterns(text: str, expected: str) -> None:
    assert scrub_text(text) == expected
