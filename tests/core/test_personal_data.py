"""Identity documents, phone numbers, masking, the logging filter and text messages.

Expected values are worked out here, not taken from the code: check digits are computed with the weights
of GB 11643-1999 written out below, and the reference number is the standard's own example.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from wuye.core import sms
from wuye.core.errors import ServiceError
from wuye.core.idnumbers import IdType, id_number_clean, id_number_mask, phone_clean, phone_mask
from wuye.core.logfilter import PersonalDataFilter

# GB 11643-1999: weight of each of the 17 digits, and the check character for (weighted sum mod 11).
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
STANDARD_EXAMPLE = "11010519491231002X"  # the example number printed in GB 11643-1999


def with_check_digit(body: str) -> str:
    assert len(body) == 17 and body.isdigit()
    return body + CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)) % 11]


def wrong_check_digit(body: str) -> str:
    right = with_check_digit(body)[-1]
    return body + ("1" if right != "1" else "2")


SHENZHEN_1985 = with_check_digit("44030519850615123")


def refused(id_type: str, raw: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        id_number_clean(id_type, raw)
    return caught.value


# ------------------------------------------------------------------------------------ resident ID card
def test_the_check_digit_helper_agrees_with_the_standard_example() -> None:
    # The helper is the test's own oracle: it must reproduce the number the standard prints.
    assert with_check_digit(STANDARD_EXAMPLE[:17]) == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (STANDARD_EXAMPLE, STANDARD_EXAMPLE),
        (" 110105 19491231 002x ", STANDARD_EXAMPLE),  # spaces, lower-case x
        ("１１０１０５１９４９１２３１００２Ｘ", STANDARD_EXAMPLE),  # full-width, as a Chinese input method types it
        (SHENZHEN_1985, SHENZHEN_1985),
        # Tongzhou district (110112) exists since 1997; a holder born in 1960 is still valid.
        (with_check_digit("11011219600101001"), with_check_digit("11011219600101001")),
    ],
)
def test_valid_resident_id_numbers_are_cleaned(raw: str, expected: str) -> None:
    assert id_number_clean(IdType.RESIDENT_ID, raw) == expected


@pytest.mark.parametrize(
    "number",
    [
        wrong_check_digit("11010519491231002"),
        wrong_check_digit("44030519850615123"),
        # Two neighbouring digits swapped: the check digit was right for the original order.
        SHENZHEN_1985[:8] + SHENZHEN_1985[9] + SHENZHEN_1985[8] + SHENZHEN_1985[10:],
    ],
)
def test_a_wrong_check_digit_is_refused(number: str) -> None:
    error = refused(IdType.RESIDENT_ID, number)
    assert (error.code, error.field) == ("id_number_invalid", "id_number")
    with translation.override("en"):
        assert "check digit" in refused(IdType.RESIDENT_ID, number).message


@pytest.mark.parametrize(
    "body",
    [
        "44030519851315123",  # month 13
        "44030519850230123",  # 30 February
        "44030519830229123",  # 29 February in a year that is not a leap year
        "44030529990101123",  # born in 2999
    ],
)
def test_an_impossible_birth_date_is_refused_even_with_a_right_check_digit(body: str) -> None:
    error = refused(IdType.RESIDENT_ID, with_check_digit(body))
    assert error.code == "id_number_invalid"
    with translation.override("en"):
        assert "date of birth" in refused(IdType.RESIDENT_ID, with_check_digit(body)).message


def test_a_leap_day_birth_date_is_accepted() -> None:
    number = with_check_digit("44030519840229123")
    assert id_number_clean(IdType.RESIDENT_ID, number) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        STANDARD_EXAMPLE[:-1],  # 17 characters
        STANDARD_EXAMPLE + "1",  # 19
        "110105194912310",  # the first-generation 15 digits, no longer valid
        "1101051949123100XX",
        "A10105194912310021",
        with_check_digit("00010519491231002"),  # no such province
    ],
)
def test_malformed_resident_id_numbers_are_refused(raw: str) -> None:
    error = refused(IdType.RESIDENT_ID, raw)
    assert (error.code, error.field) == ("id_number_invalid", "id_number")


# ------------------------------------------------------------------------------------ other documents
VALID = [
    (IdType.PASSPORT, "E12345678", "E12345678"),
    (IdType.PASSPORT, "ea 1234567", "EA1234567"),
    (IdType.PASSPORT, "12345", "12345"),
    (IdType.PASSPORT, "AB1234567890CDEFG", "AB1234567890CDEFG"),
    (IdType.HK_MACAO_PERMIT, "H12345678", "H12345678"),
    (IdType.HK_MACAO_PERMIT, "m 1234 5678 01", "M1234567801"),
    (IdType.TAIWAN_PERMIT, "12345678", "12345678"),
    (IdType.TAIWAN_PERMIT, "1234567890", "1234567890"),
    (IdType.FOREIGN_PERMANENT, "usa 123456 789012", "USA123456789012"),
    (IdType.FOREIGN_PERMANENT, with_check_digit("93384019850615012"), with_check_digit("93384019850615012")),
    (IdType.OTHER, "军字第 2024-001 号", "军字第2024-001号"),
    (IdType.OTHER, "x" * 40, "X" * 40),
]
INVALID = [
    (IdType.PASSPORT, "E123"),  # 4 characters
    (IdType.PASSPORT, "E" + "1" * 17),  # 18
    (IdType.PASSPORT, "E1234-5678"),
    (IdType.HK_MACAO_PERMIT, "H1234567"),  # 7 digits
    (IdType.HK_MACAO_PERMIT, "H123456789"),  # 9 digits
    (IdType.HK_MACAO_PERMIT, "K12345678"),  # neither H nor M
    (IdType.HK_MACAO_PERMIT, "12345678"),
    (IdType.TAIWAN_PERMIT, "1234567"),
    (IdType.TAIWAN_PERMIT, "123456789"),
    (IdType.TAIWAN_PERMIT, "T12345678"),
    (IdType.FOREIGN_PERMANENT, "US123456789012"),  # 2 letters
    (IdType.FOREIGN_PERMANENT, "123456789012345"),  # 15 digits, no nationality letters
    (IdType.FOREIGN_PERMANENT, wrong_check_digit("93384019850615012")),
    (IdType.FOREIGN_PERMANENT, with_check_digit("83384019850615012")),  # 18 digits must start with 9
    (IdType.OTHER, "x" * 41),
    (IdType.OTHER, "AB\x07CD"),  # not printable
]


@pytest.mark.parametrize(("id_type", "raw", "expected"), VALID)
def test_valid_numbers_of_other_documents(id_type: str, raw: str, expected: str) -> None:
    assert id_number_clean(id_type, raw) == expected


@pytest.mark.parametrize(("id_type", "raw"), INVALID)
def test_invalid_numbers_of_other_documents(id_type: str, raw: str) -> None:
    error = refused(id_type, raw)
    assert (error.code, error.field) == ("id_number_invalid", "id_number")


@pytest.mark.parametrize(
    ("id_type", "words"),
    [
        (IdType.RESIDENT_ID, "resident ID card"),
        (IdType.PASSPORT, "passport"),
        (IdType.HK_MACAO_PERMIT, "Hong Kong and Macao"),
        (IdType.TAIWAN_PERMIT, "Taiwan"),
        (IdType.FOREIGN_PERMANENT, "foreign permanent resident"),
    ],
)
def test_the_message_names_the_document(id_type: str, words: str) -> None:
    with translation.override("en"):
        assert words.lower() in refused(id_type, "?").message.lower()


def test_an_unknown_document_type_is_refused() -> None:
    error = refused("driving_licence", "123456")
    assert (error.code, error.field) == ("id_type_invalid", "id_type")


def test_every_document_type_has_a_label() -> None:
    assert set(IdType.values) == {
        "resident_id",
        "passport",
        "hk_macao_permit",
        "taiwan_permit",
        "foreign_permanent",
        "other",
    }
    with translation.override("en"):
        assert str(IdType.HK_MACAO_PERMIT.label) == "Mainland travel permit for Hong Kong and Macao residents"


# ------------------------------------------------------------------------------------ masking
@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110101199003071234", "1101**********1234"),
        (STANDARD_EXAMPLE, "1101**********002X"),
        ("USA123456789012", "USA1*******9012"),
        ("E123456789", "E123**6789"),  # 10 characters: 2 hidden
        ("H1234567", "******67"),  # 8 characters or fewer: the last 2 only
        ("12345", "***45"),
        ("AB", "*B"),  # never the whole number
        ("", ""),
    ],
)
def test_id_number_mask(number: str, masked: str) -> None:
    assert id_number_mask(number) == masked


# ------------------------------------------------------------------------------------ phone numbers
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("(+86) 199 1234 5678", "19912345678"),
        ("１３８００１３８０００", "13800138000"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(0755) 1234567", "0755-1234567"),
        ("0755-1234567", "0755-1234567"),
        ("020 8765 4321", "020-87654321"),
        ("010-12345678-123", "010-12345678-123"),
        ("010-12345678 转 8001", "010-12345678-8001"),
        ("0571-87654321 ext. 12", "0571-87654321-12"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert phone_clean(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "12800138000",  # no mobile number starts with 12
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "+1 415 555 0100",
        "+85 13800138000",
        "010-123456",  # local number too short
        "0010-12345678",  # no such area code
        "call me",
    ],
)
def test_other_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ServiceError) as caught:
        phone_clean(raw)
    assert (caught.value.code, caught.value.field) == ("phone_invalid", "phone")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 139-1234-5678", "139****5678"),
        ("010-12345678", "010-****5678"),
        ("0755-1234567-8", "0755-***4567-8"),
    ],
)
def test_phone_mask(phone: str, masked: str) -> None:
    assert phone_mask(phone) == masked


# ------------------------------------------------------------------------------------ the logging filter
@pytest.fixture
def masked_log() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("wuye.tests.personal_data")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers = []
    logger.propagate = True


def test_the_filter_masks_numbers_in_the_message_and_its_arguments(
    masked_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = masked_log
    logger.info("owner %s, phone %s", STANDARD_EXAMPLE, "+86 138 0013 8000")
    logger.info("resident %s called from 13912345678", SHENZHEN_1985)
    logger.info("callback to %d", 13800138000)  # an int argument formatted with %d
    logger.info("order 2024 of unit 1-2-301 paid 1380.00")  # nothing personal: unchanged
    lines = stream.getvalue().splitlines()
    assert lines == [
        "INFO owner 1101**********002X, phone 138****8000",
        f"INFO resident {SHENZHEN_1985[:4]}**********{SHENZHEN_1985[-4:]} called from 139****5678",
        "INFO callback to 138****8000",
        "INFO order 2024 of unit 1-2-301 paid 1380.00",
    ]


def test_the_filter_masks_numbers_in_exception_text(masked_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = masked_log
    try:
        raise ValueError(f"duplicate owner {STANDARD_EXAMPLE}")
    except ValueError:
        logger.exception("import failed for %s", "13800138000")
    output = stream.getvalue()
    assert "ValueError: duplicate owner 1101**********002X" in output
    assert "import failed for 138****8000" in output
    assert STANDARD_EXAMPLE not in output and "13800138000" not in output


def test_the_settings_put_the_filter_on_the_root_handler() -> None:
    assert settings.LOGGING["handlers"]["stderr"]["filters"] == ["personal_data"]
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, PersonalDataFilter) for handler in handlers for f in handler.filters), handlers


# ------------------------------------------------------------------------------------ text messages
@pytest.fixture
def outbox() -> list[sms.SmsMessage]:
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def test_tests_send_text_messages_to_the_local_outbox() -> None:
    assert settings.SMS_BACKEND == "wuye.core.sms.LocmemBackend"


def test_send_sms_normalises_the_number(outbox: list[sms.SmsMessage]) -> None:
    sms.send_sms(to="+86 138-0013-8000", text="您的验证码是 246810")
    assert outbox == [sms.SmsMessage(to="13800138000", text="您的验证码是 246810")]


@pytest.mark.parametrize("to", ["12345", "010-12345678", ""])
def test_send_sms_refuses_a_number_that_is_not_a_mobile_one(outbox: list[sms.SmsMessage], to: str) -> None:
    with pytest.raises(ServiceError) as caught:
        sms.send_sms(to=to, text="hello")
    assert (caught.value.code, caught.value.field) == ("phone_invalid", "phone")
    assert outbox == []


def test_the_console_backend_logs_with_the_number_masked(
    caplog: pytest.LogCaptureFixture, outbox: list[sms.SmsMessage]
) -> None:
    with override_settings(SMS_BACKEND="wuye.core.sms.ConsoleBackend"), caplog.at_level(logging.INFO, "wuye.core.sms"):
        sms.send_sms(to="13800138000", text="物业费账单已出")
    assert outbox == []
    (record,) = [r for r in caplog.records if r.name == "wuye.core.sms"]
    assert "138****8000" in record.getMessage() and "物业费账单已出" in record.getMessage()
    assert "13800138000" not in record.getMessage()
