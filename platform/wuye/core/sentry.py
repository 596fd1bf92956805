"""Sentry set-up: every event is tagged with the company's schema and stripped of personal data.

Property companies hold resident ID numbers, phone numbers and e-mail addresses of their owners; none of
them may leave for a third party inside an error report. Scrubbing works on the whole event (messages,
exception values, frame variables, request data, breadcrumbs), by field name and by pattern.
"""

from __future__ import annotations

import re
from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from .idnumbers import LANDLINE_IN_TEXT, MOBILE_IN_TEXT, RESIDENT_ID_IN_TEXT
from .tenancy import current_schema

FILTERED = "[Filtered]"

# Field names whose values are never sent, whatever they hold.
SENSITIVE_KEYS = re.compile(
    r"(password|passwd|secret|token|api_?key|authorization|cookie|session|csrf|"
    r"id_?number|id_?card|identity|resident_?id|passport|phone|mobile|tel|email|e-mail|address)",
    re.IGNORECASE,
)

PATTERNS = [
    # Resident identity numbers, mainland mobile numbers (with or without +86), landlines with an area
    # code: the same patterns the logging filter masks (wuye.core.idnumbers).
    RESIDENT_ID_IN_TEXT,
    MOBILE_IN_TEXT,
    LANDLINE_IN_TEXT,
    # International numbers.
    re.compile(r"\+\d{1,3}[\s-]?\d{3,4}[\s-]?\d{3,4}[\s-]?\d{0,4}(?![0-9A-Za-z])"),
    # E-mail addresses.
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
]
# Identifiers Sentry needs intact.
KEEP_KEYS = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "release", "timestamp", "start_timestamp"})


def scrub_text(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(FILTERED, text)
    return text


def scrub(value: Any, key: str | None = None) -> Any:
    if key in KEEP_KEYS:
        return value
    if key is not None and SENSITIVE_KEYS.search(key):
        return FILTERED if value not in (None, "", [], {}) else value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def current_company_tag() -> str:
    return current_schema() or "public"


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    event.setdefault("tags", {})
    if isinstance(event["tags"], dict):
        event["tags"]["company"] = current_company_tag()
    # The user is identified by id only: no e-mail, name or address.
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    tags = event.get("tags")
    scrubbed = scrub({k: v for k, v in event.items() if k != "tags"})
    scrubbed["tags"] = tags
    return scrubbed


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub(crumb)


def init_sentry(
    *,
    dsn: str,
    environment: str,
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    transport: Any = None,
) -> None:
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        # No personal data by default (the SDK's own scrubber stays on); before_send scrubs the rest.
        include_local_variables=True,
        max_request_body_size="never",
        integrations=[DjangoIntegration(), CeleryIntegration(), LoggingIntegration()],
        before_send=cast(Any, before_send),
        before_breadcrumb=cast(Any, before_breadcrumb),
        **options,
    )
