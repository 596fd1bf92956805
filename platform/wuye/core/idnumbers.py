"""Identity documents and phone numbers of owners and occupants: cleaning, validation and masking.

Numbers are cleaned before they are stored (so that the same number typed two ways is one number, which
the blind index of `wuye.core.crypto` relies on) and masked wherever a person or a log sees them.

This module is also the one place for the patterns that find such numbers inside free text: the Sentry
scrubber and the logging filter both use them. It is imported while logging is configured, before the
app registry is ready, so it imports nothing that needs the apps at module level.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import NoReturn

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")
    OTHER = "other", _("Other")


# ------------------------------------------------------------------------------------ numbers inside text
_B = r"(?<![0-9A-Za-z])"  # no letter or digit before: hex ids and words are not numbers
_E = r"(?![0-9A-Za-z])"
# Resident identity numbers: 18 characters (the last may be X) or the first-generation 15 digits. The
# 2023 foreign permanent resident number has the resident number's shape and is caught too.
RESIDENT_ID_IN_TEXT = re.compile(_B + r"(?:\d{17}[\dXx]|\d{15})" + _E)
MOBILE_IN_TEXT = re.compile(_B + r"(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}" + _E)
LANDLINE_IN_TEXT = re.compile(_B + r"0\d{2,3}[\s-]?\d{7,8}" + _E)


# ------------------------------------------------------------------------------------ identity documents
# First two digits of a resident number: the provinces of GB/T 2260, and 81/82/83 that the residence
# permits of Hong Kong, Macao and Taiwan residents carry in the same number format.
_PROVINCES = frozenset(
    str(code)
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (81, 83))
    for code in range(first, last + 1)
)
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")
# The card issued since 2013: H (Hong Kong) or M (Macao), 8 digits, and on some cards 2 more that count
# how often it was issued.
_HK_MACAO_PERMIT = re.compile(r"[HM](?:\d{8}|\d{10})")
# 8 digits on the card issued since 2015, 10 on the older booklets.
_TAIWAN_PERMIT = re.compile(r"\d{8}|\d{10}")
# Until 2023: 3 letters (the nationality) and 12 digits. Since December 2023: 18 characters in the resident
# number's format, starting with 9 (no resident number does), with the same MOD 11-2 check digit.
_FOREIGN_PERMANENT_OLD = re.compile(r"[A-Z]{3}\d{12}")
_FOREIGN_PERMANENT_NEW = re.compile(r"9\d{16}[\dX]")
_OTHER_MAX_LENGTH = 40


def _refuse(message: str, *, code: str, field: str) -> NoReturn:
    # Imported here: wuye.core.errors needs the app registry (DRF), this module must not (see above).
    from .errors import ServiceError

    raise ServiceError(message, code=code, field=field)


def _invalid_number(message: str) -> NoReturn:
    _refuse(message, code="id_number_invalid", field="id_number")


def _normalise(raw: str) -> str:
    # NFKC turns full-width digits and letters (typed with a Chinese input method) into ASCII ones.
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def _check_resident_number(number: str) -> None:
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        _invalid_number(gettext("A resident ID card number has 18 characters: 17 digits, then a digit or X."))
    if number[:2] not in _PROVINCES:
        _invalid_number(gettext("This resident ID card number does not start with a province code."))
    if ric.calc_check_digit(number) != number[17]:
        _invalid_number(gettext("The check digit of this resident ID card number does not match: check every digit."))
    # The birth date only: stdnum's birth-place check compares the county code with the birth year and
    # refuses genuine numbers issued after a county was renamed (110112..., Tongzhou since 1997, born 1960).
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    # Cards were first issued in 1984: nobody holding one was born before 1870.
    if born is None or born > timezone.localdate() or born.year < 1870:
        _invalid_number(gettext("The date of birth in this resident ID card number is not a real date."))


def _check_foreign_permanent(number: str) -> None:
    if _FOREIGN_PERMANENT_OLD.fullmatch(number):
        return
    if not _FOREIGN_PERMANENT_NEW.fullmatch(number):
        _invalid_number(
            gettext(
                "A foreign permanent resident ID card number has 15 characters (3 letters, then 12 digits) "
                "or 18 (starting with 9, the last a digit or X)."
            )
        )
    if ric.calc_check_digit(number) != number[17]:
        _invalid_number(
            gettext(
                "The check digit of this foreign permanent resident ID card number does not match: check every digit."
            )
        )


def id_number_clean(id_type: str, raw: str) -> str:
    """The number of an identity document as it is stored: no spaces, upper case, checked against the rules of
    that document. Raises ServiceError (id_type_invalid, id_number_invalid) otherwise."""
    if id_type not in IdType.values:
        _refuse(gettext("Choose a known type of identity document."), code="id_type_invalid", field="id_type")
    kind = IdType(id_type)
    number = _normalise(raw)
    if not number:
        _invalid_number(gettext("Enter the number of the %(document)s.") % {"document": kind.label})
    if kind is IdType.RESIDENT_ID:
        _check_resident_number(number)
    elif kind is IdType.PASSPORT:
        if not _PASSPORT.fullmatch(number):
            _invalid_number(gettext("A passport number has 5 to 17 letters and digits."))
    elif kind is IdType.HK_MACAO_PERMIT:
        if not _HK_MACAO_PERMIT.fullmatch(number):
            _invalid_number(
                gettext(
                    "A Mainland travel permit number for Hong Kong and Macao residents is H or M, then 8 or 10 digits."
                )
            )
    elif kind is IdType.TAIWAN_PERMIT:
        if not _TAIWAN_PERMIT.fullmatch(number):
            _invalid_number(gettext("A Mainland travel permit number for Taiwan residents has 8 or 10 digits."))
    elif kind is IdType.FOREIGN_PERMANENT:
        _check_foreign_permanent(number)
    elif len(number) > _OTHER_MAX_LENGTH or not number.isprintable():
        _invalid_number(gettext("An identity document number has at most 40 printable characters."))
    return number


def id_number_mask(number: str) -> str:
    """`110101199003071234` -> `1101**********1234`; 8 characters or fewer keep the last 2 (never all)."""
    number = number.strip()
    if len(number) > 8:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    keep = min(2, max(len(number) - 1, 0))
    return "*" * (len(number) - keep) + number[len(number) - keep :]


# ------------------------------------------------------------------------------------ phone numbers
_MOBILE_DIGITS = re.compile(r"1[3-9]\d{9}")
_MOBILE = re.compile(r"(?:\+86|0086|86)?(" + _MOBILE_DIGITS.pattern + ")")
# Area codes: 010 and 02x have three digits, every other one four (03xx to 09xx).
_LANDLINE = re.compile(
    r"\(?(?P<area>010|02\d|0[3-9]\d\d)\)?[\s-]*(?P<local>\d{3,4}[\s-]?\d{4})"
    r"(?:\s*(?:-|转|EXT\.?|X|#)\s*(?P<extension>\d{1,6}))?"
)


def _parse_phone(raw: str) -> str | None:
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    mobile = _MOBILE.fullmatch(re.sub(r"[\s()-]", "", text))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE.fullmatch(text)
    if landline:
        local = re.sub(r"[\s-]", "", landline["local"])
        cleaned = f"{landline['area']}-{local}"
        return f"{cleaned}-{landline['extension']}" if landline["extension"] else cleaned
    return None


def phone_clean(raw: str) -> str:
    """A mainland mobile number as its 11 digits (`+86 138-0013-8000` -> `13800138000`), or a landline as
    `area-number[-extension]` (`(0755) 1234567` -> `0755-1234567`). Raises ServiceError (phone_invalid)."""
    cleaned = _parse_phone(raw)
    if cleaned is None:
        _refuse(
            gettext("Enter a mainland mobile number (11 digits) or a landline with its area code, like 010-12345678."),
            code="phone_invalid",
            field="phone",
        )
    return cleaned


def is_mobile(phone: str) -> bool:
    """Whether a cleaned phone number is a mobile one (text messages reach only those)."""
    return _MOBILE_DIGITS.fullmatch(phone) is not None


def phone_mask(phone: str) -> str:
    """`13800138000` -> `138****8000`; a landline keeps its area code and last 4 digits (`010-****5678`)."""
    cleaned = _parse_phone(phone)
    if cleaned is None:
        return id_number_mask(phone)
    if is_mobile(cleaned):
        return cleaned[:3] + "****" + cleaned[-4:]
    area, local, *extension = cleaned.split("-")
    return "-".join([area, "*" * (len(local) - 4) + local[-4:], *extension])
