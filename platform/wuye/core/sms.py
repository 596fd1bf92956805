"""Text messages to mainland mobile numbers, through a backend chosen by settings, as Django does for e-mail.

WUYE_SMS_BACKEND (settings.SMS_BACKEND) names the backend class. `ConsoleBackend`, the default, only logs
the message with the number masked; `LocmemBackend` keeps messages in `outbox` and is what the tests use
(wuye.settings.sms forces it under WUYE_ENV=test). A provider (Aliyun, Tencent Cloud, ...) is one more
subclass of `BaseSmsBackend` named in that setting.

Sending is slow and may fail: call `send_sms` from a Celery task queued with transaction.on_commit, not
inside a request's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from .errors import ServiceError
from .idnumbers import is_mobile, phone_clean, phone_mask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str  # 11 digits, as phone_clean returns it
    text: str


# What LocmemBackend sent, oldest first. Tests empty it themselves (nothing resets it between tests).
outbox: list[SmsMessage] = []


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> None:
        logger.info("SMS to %s: %s", phone_mask(message.to), message.text)


class LocmemBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


def get_backend(path: str | None = None) -> BaseSmsBackend:
    backend: BaseSmsBackend = import_string(path or settings.SMS_BACKEND)()
    return backend


def send_sms(*, to: str, text: str) -> None:
    """Send `text` to the mobile number `to` (any form phone_clean accepts). Raises ServiceError
    (phone_invalid) for a number that is not a mainland mobile number."""
    if not text.strip():
        raise ValueError("send_sms needs a text")
    number = phone_clean(to)
    if not is_mobile(number):
        raise ServiceError(
            gettext("Text messages reach mobile numbers only: enter a mainland mobile number (11 digits)."),
            code="phone_invalid",
            field="phone",
        )
    get_backend().send(SmsMessage(to=number, text=text))
