"""A logging filter that masks identity numbers and mobile numbers before a record is written.

Logs are read by operators and kept by log collectors; an owner's resident ID number or phone number in
a message (`"owner %s not found", id_number`) must not end up there in full. The masked forms keep
enough to tell records apart (`1101**********1234`, `138****8000`). The patterns are those of the Sentry
scrubber, defined once in `wuye.core.idnumbers`.
"""

from __future__ import annotations

import logging

from .idnumbers import MOBILE_IN_TEXT, RESIDENT_ID_IN_TEXT, id_number_mask, phone_mask


def mask_personal_data(text: str) -> str:
    text = RESIDENT_ID_IN_TEXT.sub(lambda match: id_number_mask(match.group()), text)
    return MOBILE_IN_TEXT.sub(lambda match: phone_mask(match.group()), text)


class PersonalDataFilter(logging.Filter):
    """Attach to handlers. Never drops a record; rewrites those that hold personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string or argument: the handler reports it as logging does
            return True
        masked = mask_personal_data(message)
        if masked != message:
            # The number may come from the message, from an argument, or from both together, and an
            # argument may be an int formatted with %d: masking the formatted text covers every case.
            record.msg = masked
            record.args = ()
        if record.exc_info and not record.exc_text:
            # Exception messages carry numbers as often as log messages do. Formatters reuse exc_text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True
