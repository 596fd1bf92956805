"""Receipts and reminder letters as PDF: the capital-numeral amount (大写金额) worked out on examples by the
rules receipts and cheques follow, and the text that lands in the file (read back from the PDF's own
content streams, not from the code under test)."""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import subprocess
import zlib
from decimal import Decimal

import pytest

from modules.fees import documents, selectors, services
from modules.fees.models import Payment
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.testing.plugin import in_company

MARCH = dt.date(2026, 3, 1)


# ------------------------------------------------------------------------------------------ reading a PDF
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    out, index = bytearray(), 0
    while index < len(literal):
        byte = literal[index : index + 1]
        if byte != b"\\":
            out += byte
            index += 1
            continue
        following = literal[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            index += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """The strings a PDF shows, in order: the page streams inflated, each string decoded by its font (the
    CID font's strings are UCS-2 big-endian, the standard fonts' are single bytes)."""
    fonts = {}  # resource name -> base font
    for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", data):
        found = re.search(rb"\n" + number + rb" 0 obj\s*<<(.*?)>>", data, re.S)
        if found:
            base = re.search(rb"/BaseFont /([^\s/]+)", found.group(1))
            fonts[name] = base.group(1) if base else b""
    texts = []
    for header, stream in re.findall(rb"<<((?:(?!<<).)*?)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        if b"/ASCII85Decode" in header:
            stream = base64.a85decode(stream.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in header:
            stream = zlib.decompress(stream)
        font = b""
        for token in re.finditer(rb"/(F\d+) [\d.]+ Tf|" + _STRING.pattern, stream):
            if token.group(1):
                font = fonts.get(token.group(1), b"")
                continue
            raw = _unescape(token.group()[1:-1])
            texts.append(raw.decode("utf-16-be", "replace") if font.startswith(b"STSong") else raw.decode("latin-1"))
    return "".join(texts)


# ------------------------------------------------------------------------------------------ 大写金额
@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0.00", "零元整"),
        ("10.00", "壹拾元整"),
        ("15", "壹拾伍元整"),
        ("110", "壹佰壹拾元整"),
        ("120.50", "壹佰贰拾元伍角整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("1.05", "壹元零伍分"),
        ("3.60", "叁元陆角整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("20000.10", "贰万元壹角整"),
        ("101000", "壹拾万零壹仟元整"),
        ("1010000", "壹佰零壹万元整"),
        ("10000100", "壹仟万零壹佰元整"),
        ("100000000.00", "壹亿元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("123456789.99", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元玖角玖分"),
        ("1.005", "壹元零壹分"),  # half-up to the fen first
    ],
)
def test_amount_in_capital_numerals(amount: str, words: str) -> None:
    assert documents.amount_in_words(Decimal(amount)) == words


def test_amount_in_words_takes_numbers_and_text() -> None:
    assert documents.amount_in_words(120) == "壹佰贰拾元整"
    assert documents.amount_in_words("0.5") == "伍角整"
    assert documents.amount_in_words(Decimal("-3.00")) == "负叁元整"


# ------------------------------------------------------------------------------------------ receipts
def _payment(company, *, amount: str, **values):
    admin = company.admin()
    project = estate_support.project(admin, name="华庭")
    fees_support.tariff(admin, project, "property", "2.50")
    unit = fees_support.owned_unit(admin, project=project, area="89.50", owner_from=dt.date(2026, 1, 1))
    fees_support.post_month(admin, project, MARCH)
    account = fees_support.account(unit)
    payment = services.payment_record(
        by=admin, account=account, amount=amount, method="wechat", payer_name="王伟", **values
    )
    return admin, Payment.objects.select_related("account__project", "by").get(pk=payment.pk)


def test_receipt_shows_number_items_total_and_amount_in_words(company_a) -> None:
    with in_company(company_a):
        admin, payment = _payment(company_a, amount="500.00", reference="4200001234", note="预收 & 预存")
        pdf = documents.receipt_pdf(selectors.receipt(payment=payment), company_name="华庭物业服务有限公司")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    # 89.50 m² × 2.50 = 223.75 for March; the rest, 276.25, is prepaid.
    for shown in (
        payment.receipt_number,
        "华庭物业服务有限公司",
        "收款收据",
        "物业服务费",
        "2026-03",
        "223.75",
        "276.25",
        "500.00",
        "伍佰元整",
        "王伟",
        "4200001234",
        "预收 & 预存",
        admin.name,
    ):
        assert shown in text, shown
    assert "作废" not in text


def test_a_voided_receipt_is_marked_void_with_its_reason(company_a) -> None:
    with in_company(company_a):
        admin, payment = _payment(company_a, amount="120.50")
        services.payment_void(by=admin, payment=payment, reason="金额开错")
        payment = Payment.objects.select_related("account__project", "by", "void").get(pk=payment.pk)
        pdf = documents.receipt_pdf(selectors.receipt(payment=payment), company_name="华庭物业")
    text = pdf_text(pdf)
    assert payment.receipt_number in text
    assert "壹佰贰拾元伍角整" in text
    assert "作废" in text and "VOID" in text
    assert "金额开错" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed")
def test_a_pdf_reader_finds_the_same_text(company_a, tmp_path) -> None:
    with in_company(company_a):
        _admin, payment = _payment(company_a, amount="223.75")
        pdf = documents.receipt_pdf(selectors.receipt(payment=payment), company_name="华庭物业")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    shown = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()
    assert payment.receipt_number in shown
    assert "贰佰贰拾叁元柒角伍分" in shown


# ------------------------------------------------------------------------------------------ reminder letters
def test_reminder_letter_lists_overdue_items_and_the_total() -> None:
    pdf = documents.reminder_pdf(
        company_name="华庭物业",
        account_label="1栋 1-1201",
        owner_name="王伟",
        rows=[("物业服务费", dt.date(2026, 1, 1), Decimal("223.75")), ("电费", dt.date(2026, 2, 1), Decimal("781.32"))],
        total=Decimal("1005.07"),
        text="请于本月底前缴清。<b>逾期</b>将按合同处理。\n第二段。",
        on=dt.date(2026, 3, 15),
    )
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for shown in (
        "催缴通知书",
        "王伟",
        "1栋 1-1201",
        "物业服务费",
        "2026-01",
        "223.75",
        "电费",
        "781.32",
        "1,005.07",
        "壹仟零伍元零柒分",
        "2026-03-15",
        "<b>逾期</b>",  # the company's text is printed as typed, never read as markup
        "第二段",
    ):
        assert shown in text, shown


def test_reminder_letter_without_company_text_uses_the_standard_one() -> None:
    pdf = documents.reminder_pdf(
        company_name="华庭物业",
        account_label="车位 B-001",
        owner_name="",
        rows=[("车位服务费", dt.date(2026, 1, 1), Decimal("150.00"))],
        total=Decimal("150.00"),
        text="",
        on=dt.date(2026, 3, 15),
    )
    text = pdf_text(pdf)
    assert "逾期未缴" in text
    assert "壹佰伍拾元整" in text
    assert "业主" in text


def test_a_long_letter_runs_onto_more_pages_with_its_header() -> None:
    rows = [("物业服务费", dt.date(2020 + n // 12, n % 12 + 1, 1), Decimal("223.75")) for n in range(80)]
    pdf = documents.reminder_pdf(
        company_name="华庭物业",
        account_label="1栋 1-1201",
        owner_name="王伟",
        rows=rows,
        total=Decimal("17900.00"),
        text="",
        on=dt.date(2026, 11, 1),
    )
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 2
    text = pdf_text(pdf)
    assert text.count("收费项目") >= 2  # the table's header on every page
    assert "2026-08" in text and "壹万柒仟玖佰元整" in text
