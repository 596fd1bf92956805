"""Printable documents of fees, as PDF: the receipt (收款收据) and the reminder letter (催缴通知书).

Chinese is set in ReportLab's built-in CID font STSong-Light: the PDF names Adobe's standard Song typeface
and the reader supplies it (Acrobat, browsers, macOS and Windows all carry one; on Linux, poppler maps it to
any installed CJK font), so no font file ships with the code and the files stay small. Labels are printed
in Chinese with English beside them: a receipt is the same paper whoever prints it.

Nothing here reads the database: the caller passes what the document shows (selectors.receipt for a
receipt, modules.fees.notices for a reminder).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import selectors
from .models import PaymentMethod

FONT = "STSong-Light"

# ------------------------------------------------------------------------------------------ 大写金额
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")  # within a group of four digits
_GROUPS = ("", "万", "亿", "万亿")  # a group of four digits each


def _integer_in_words(number: int) -> str:
    """A whole number of yuan in capital numerals: one 零 for any run of zeros between digits (also across
    a 万 or 亿), none at the end of a group; 壹拾 is written in full, as on a cheque."""
    digits = str(number)
    words: list[str] = []
    zero_pending = False
    for index, character in enumerate(digits):
        power = len(digits) - 1 - index
        digit = int(character)
        if digit == 0:
            zero_pending = True
        else:
            if zero_pending and words:
                words.append("零")
            zero_pending = False
            words.append(_DIGITS[digit] + _PLACES[power % 4])
        if power % 4 == 0 and power > 0 and (number // 10**power) % 10000:
            words.append(_GROUPS[power // 4])
    return "".join(words)


def amount_in_words(amount: Decimal | int | str) -> str:
    """An amount of yuan in Chinese capital numerals (大写金额), as receipts and cheques write it:
    120.50 -> 壹佰贰拾元伍角整, 1005.07 -> 壹仟零伍元零柒分, 0.50 -> 伍角整, 10 -> 壹拾元整.
    Rounded half-up to the fen first; 整 closes an amount without fen."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    if fen_total == 0:
        return "零元整"
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if yuan >= 10**16:
        raise ValueError("amount too large for capital numerals")
    words = [sign]
    if yuan:
        words.append(_integer_in_words(yuan) + "元")
    if jiao:
        words.append(_DIGITS[jiao] + "角")
    elif fen and yuan:
        words.append("零")  # 壹元零伍分: the zero jiao is said
    words.append(_DIGITS[fen] + "分" if fen else "整")
    return "".join(words)


# ------------------------------------------------------------------------------------------ typesetting
LATIN_FONT = "Helvetica"  # one of the PDF standard fonts: every reader has it, with the metrics ReportLab uses
_LATIN_RUN = re.compile(r"([\x20-\x7e]+)")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _markup(text: Any) -> str:
    """Plain text as paragraph markup: escaped (what a company or a clerk typed is never read as markup),
    line breaks kept, and runs of ASCII set in Helvetica. The CID font's own Latin letters take their
    widths from whichever CJK font the reader substitutes, and come out gappy; Helvetica's do not."""
    parts = []
    for piece in _LATIN_RUN.split(str(text)):
        if not piece:
            continue
        escaped = escape(piece)
        parts.append(f'<font name="{LATIN_FONT}">{escaped}</font>' if _LATIN_RUN.fullmatch(piece) else escaped)
    return "".join(parts).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "base": base,
        "company": ParagraphStyle("company", parent=base, fontSize=13, leading=17, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=4),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "void": ParagraphStyle("void", parent=base, textColor=colors.HexColor("#c0392b"), fontSize=10.5, leading=14),
        "text": ParagraphStyle("text", parent=base, fontSize=10.5, leading=17, firstLineIndent=21, spaceAfter=4),
        "english": ParagraphStyle("english", parent=base, fontSize=9, leading=12, textColor=colors.HexColor("#444444")),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_markup(text), style)


def _label(chinese: str, english: str, style: ParagraphStyle) -> Paragraph:
    """A label in Chinese with its English in small grey letters."""
    return Paragraph(
        f'{escape(chinese)} <font name="{LATIN_FONT}" size="7" color="#666666">{escape(english)}</font>', style
    )


def _in_words(amount: Decimal, style: ParagraphStyle) -> Paragraph:
    return Paragraph(
        f'大写金额 <font name="{LATIN_FONT}" size="7" color="#666666">In words</font>　'
        f"人民币 {escape(amount_in_words(amount))}",
        style,
    )


def yuan(amount: Decimal) -> str:
    """An amount in figures, with thousands separators: 1,120.50."""
    return f"{amount:,.2f}"


def _period(period: dt.date | None) -> str:
    return f"{period:%Y-%m}" if period else ""


def _grid(extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#333333")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            *extra,
        ]
    )


def _items_table(
    header_amount: tuple[str, str],
    rows: Sequence[tuple[str, dt.date | None, Decimal]],
    extra_rows: Sequence[tuple[tuple[str, str], Decimal]],
    total: Decimal,
    width: float,
    styles: dict[str, ParagraphStyle],
) -> Table:
    """Item, period, amount; then labelled rows (prepayment), the total, and the total in words."""
    amount_label = Paragraph(
        f'{escape(header_amount[0])} <font name="{LATIN_FONT}" size="7" color="#666666">'
        f'{escape(header_amount[1])}</font><font size="7" color="#666666">（￥）</font>',
        styles["right"],
    )
    body: list[list[Any]] = [
        [_label("收费项目", "Item", styles["base"]), _label("所属期", "Period", styles["base"]), amount_label]
    ]
    for name, period, amount in rows:
        body.append([_p(name, styles["base"]), _p(_period(period), styles["base"]), _p(yuan(amount), styles["right"])])
    labelled = [(label, yuan(amount)) for label, amount in extra_rows] + [(("合计", "Total"), f"￥{yuan(total)}")]
    spans = []
    for (chinese, english), figure in labelled:
        spans.append(("SPAN", (0, len(body)), (1, len(body))))
        body.append([_label(chinese, english, styles["base"]), "", _p(figure, styles["right"])])
    spans.append(("SPAN", (0, len(body)), (-1, len(body))))
    body.append([_in_words(total, styles["base"]), "", ""])
    table = Table(body, colWidths=[width * 0.5, width * 0.2, width * 0.3], repeatRows=1)
    table.setStyle(_grid([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")), *spans]))
    return table


def _build(story: list[Any], *, pagesize: tuple[float, float], title: str, author: str, void: bool = False) -> bytes:
    buffer = io.BytesIO()
    margin = 12 * mm
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=10 * mm,
        bottomMargin=12 * mm,
        title=title,
        author=author,
        creator="Wuye",
    )

    def page(canvas: Any, doc: Any) -> None:
        width, height = doc.pagesize
        if void:
            # On every page, under the text, so that no page of a voided receipt passes for a good one.
            canvas.saveState()
            canvas.setFillColor(colors.HexColor("#c0392b"))
            canvas.setFillAlpha(0.25)
            size = min(width, height) / 4.5
            canvas.translate(width / 2, height / 2)
            canvas.rotate(24)
            canvas.setFont(_font(), size)
            canvas.drawRightString(-size * 0.1, -size * 0.35, "作废")
            canvas.setFont("Helvetica-Bold", size * 0.8)
            canvas.drawString(size * 0.1, -size * 0.35, "VOID")
            canvas.restoreState()
        canvas.saveState()
        canvas.setFont(LATIN_FONT, 7)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawRightString(width - margin, 6 * mm, str(doc.page))
        canvas.restoreState()

    document.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ the receipt
def receipt_pdf(receipt: selectors.Receipt, *, company_name: str) -> bytes:
    """A receipt (收款收据) on A5 landscape: who paid how much for which account, each item and period paid,
    what went to prepayment, the total in figures and in capital numerals, the clerk; marked 作废 VOID on
    every page, with the reason, when the receipt was voided."""
    styles = _styles()
    base = styles["base"]
    payment = receipt.payment
    account = payment.account
    method = PaymentMethod(payment.method).label if payment.method in PaymentMethod.values else payment.method
    received = payment.booked_on or timezone.localtime(payment.received_at).date()
    clerk = getattr(payment.by, "name", "") if payment.by_id else ""
    project_name = getattr(getattr(account, "project", None), "name", "")
    width = landscape(A5)[0] - 24 * mm
    label_width, value_width = 30 * mm, width / 2 - 30 * mm
    shaded = colors.HexColor("#f2f2f2")

    info = Table(
        [
            [_label("收据编号", "No.", base), _p(payment.receipt_number, base),
             _label("日期", "Date", base), _p(received.isoformat(), base)],
            [_label("账户", "Account", base), _p(f"{project_name} {account.label}".strip(), base),
             _label("交款人", "Paid by", base), _p(payment.payer_name or "—", base)],
            [_label("付款方式", "Method", base), _p(method, base),
             _label("交易号", "Reference", base), _p(payment.reference or "—", base)],
        ],
        colWidths=[label_width, value_width, label_width, value_width],
    )  # fmt: skip
    info.setStyle(_grid([("BACKGROUND", (0, 0), (0, -1), shaded), ("BACKGROUND", (2, 0), (2, -1), shaded)]))
    prepaid = [(("预存", "Prepayment"), receipt.prepaid)] if receipt.prepaid > 0 else []
    story: list[Any] = [
        _p(company_name, styles["company"]),
        Paragraph(f'收款收据 <font name="{LATIN_FONT}" size="10">RECEIPT</font>', styles["title"]),
        info,
        Spacer(1, 3 * mm),
        _items_table(("金额", "Amount"), receipt.paid, prepaid, payment.amount, width, styles),
        Spacer(1, 3 * mm),
    ]
    if receipt.refunded > 0:
        story.append(_p(f"已退款 Refunded: ￥{yuan(receipt.refunded)}", base))
    if payment.note:
        story.append(_p(f"备注 Note: {payment.note}", base))
    if receipt.voided:
        story.append(_p(f"本收据已作废 This receipt is VOID. 原因 Reason: {receipt.void_reason}", styles["void"]))
    signature = Table(
        [[_label("收款人", "Received by", base), _p(clerk or "—", base), _label("盖章", "Stamp", base), ""]],
        colWidths=[label_width, value_width, label_width, value_width],
        rowHeights=[14 * mm],
    )
    signature.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 2 * mm), signature]
    return _build(
        story,
        pagesize=landscape(A5),
        title=f"收款收据 {payment.receipt_number}",
        author=company_name,
        void=receipt.voided,
    )


# ------------------------------------------------------------------------------------------ the reminder
DEFAULT_REMINDER_TEXT = (
    "经核对，贵户尚有下列费用逾期未缴。请于收到本通知后七日内到物业服务中心或通过线上缴费渠道缴清；"
    "如已缴纳，请忽略本通知。如有疑问，请与物业服务中心联系。"
)
DEFAULT_REMINDER_ENGLISH = (
    "Our records show that the charges below are overdue. Please pay them within seven days at the property "
    "service centre or online. If you have paid already, please disregard this notice."
)


def reminder_pdf(
    *,
    company_name: str,
    account_label: str,
    owner_name: str,
    rows: Sequence[tuple[str, dt.date, Decimal]],
    total: Decimal,
    text: str,
    on: dt.date,
) -> bytes:
    """A reminder letter (催缴通知书) on A4 to the owner of an account: the company's reminder text (the fee
    settings' `reminder_text`, else a standard one), each overdue item with its period and what is still
    owed, the total in figures and in capital numerals, the company and the date."""
    styles = _styles()
    base = styles["base"]
    width = A4[0] - 24 * mm
    story: list[Any] = [
        _p(company_name, styles["company"]),
        Paragraph(f'催缴通知书 <font name="{LATIN_FONT}" size="10">PAYMENT REMINDER</font>', styles["title"]),
        Spacer(1, 4 * mm),
        _p(f"尊敬的 {owner_name or '业主'}（{account_label}）：", base),
        _p(f"Dear {owner_name or 'owner'} ({account_label}),", styles["english"]),
        Spacer(1, 3 * mm),
    ]
    paragraphs = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if paragraphs:
        story += [_p(line, styles["text"]) for line in paragraphs]
    else:
        story += [_p(DEFAULT_REMINDER_TEXT, styles["text"]), _p(DEFAULT_REMINDER_ENGLISH, styles["english"])]
    story += [
        Spacer(1, 4 * mm),
        _p(f"截至 {on.isoformat()} 逾期未缴费用如下 / Overdue as of {on.isoformat()}:", base),
        Spacer(1, 2 * mm),
        _items_table(("欠费金额", "Amount owed"), rows, [], total, width, styles),
        Spacer(1, 12 * mm),
        _p(company_name, styles["right"]),
        _p(f"{on.year}年{on.month}月{on.day}日", styles["right"]),
    ]
    return _build(story, pagesize=A4, title=f"催缴通知书 {account_label}", author=company_name)
