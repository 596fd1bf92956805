"""Reading uploaded spreadsheets (.xlsx, .csv) into text cells, and writing .xlsx and .csv files.

What a file is comes from its content, not its name: a workbook is a ZIP holding `xl/workbook.xml`; a CSV
is text (UTF-8 with or without a byte order mark, UTF-16 with one, else GB18030, which is what Chinese
Excel saves "CSV" in) without control characters. Anything else is refused before it reaches a parser.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.utils.translation import gettext as _

from wuye.core.errors import ServiceError

# The largest upload read at all. The example of a file to refuse is 50 MB; 20 MB of .xlsx holds
# far more than MAX_ROWS rows, so nothing a company needs is refused. Not a setting: the limit protects
# the web process's memory (uploads are kept in memory, never on disk), not a company's preference.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# A workbook is compressed XML; a few hundred kB can inflate to gigabytes (a "zip bomb").
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_COLUMNS = 200

EXTENSIONS = (".xlsx", ".csv")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc: the Office formats before 2007
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Unreadable(ServiceError):
    """The file is not one we read: nothing in it was looked at as data."""

    code = "file_unreadable"


@dataclass
class Sheet:
    headers: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells), empty rows left out


def extension_of(file_name: str) -> str:
    return PurePath(file_name or "").suffix.lower()


def format_of(data: bytes, file_name: str) -> str:
    """ "xlsx" or "csv", from the content; Unreadable otherwise."""
    extension = extension_of(file_name)
    if extension not in EXTENSIONS:
        raise Unreadable(
            _("Only .xlsx and .csv files can be imported; this one is %(ext)s.") % {"ext": extension or _("unnamed")},
            code="not_a_spreadsheet",
        )
    if not data.strip():
        raise Unreadable(_("The file is empty."), code="file_empty")
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise Unreadable(
                _("The file is damaged: it cannot be opened as a workbook."), code="not_a_spreadsheet"
            ) from None
        if "xl/workbook.xml" not in names:
            raise Unreadable(
                _("This is not a spreadsheet (it is another kind of document). Save it as .xlsx or .csv."),
                code="not_a_spreadsheet",
            )
        if unpacked > MAX_UNPACKED_BYTES:
            raise Unreadable(_("The workbook is too large once unpacked."), code="file_too_big")
        return "xlsx"
    if data.startswith(_OLE2):
        raise Unreadable(
            _("This is an old Excel file (.xls) or another Office document. Save it as .xlsx and upload that."),
            code="not_a_spreadsheet",
        )
    if extension == ".xlsx":
        raise Unreadable(_("This file is named .xlsx but is not a workbook."), code="not_a_spreadsheet")
    return "csv"


def decode_text(data: bytes) -> str:
    """The text of a CSV file; Unreadable when the bytes are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: Sequence[str] = ("utf-16",)  # Excel's "Unicode text"
    elif b"\x00" in data:
        raise Unreadable(_("This is not a spreadsheet or a text file."), code="not_a_spreadsheet")
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes most byte strings; binary content still gives control characters.
        if any(unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in text):
            break
        return text
    raise Unreadable(
        _("This is not a spreadsheet or a text file (its characters are neither UTF-8 nor GB18030)."),
        code="not_a_spreadsheet",
    )


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 12 not 12.0, dates as 2026-03-01, no surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(decimal.Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _csv_cell(text: str) -> str:
    text = text.strip()
    # Undo the apostrophe our exports put before text Excel would take for a formula.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    # calamine (Rust) reads a sheet of 10,000 rows in a tenth of the time openpyxl takes: a second of an
    # import of 10,000 owners. openpyxl still writes the templates, exports and reports.
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not workbook.sheet_names:
            return
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # a broken file raises many kinds of error; all mean the same to the user
        raise Unreadable(
            _("The workbook cannot be read. Open it in Excel, save it as .xlsx again and upload that."),
            code="not_a_spreadsheet",
        ) from None
    for values in rows:
        yield [cell_text(value) for value in values[:MAX_COLUMNS]]


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [_csv_cell(value) for value in values[:MAX_COLUMNS]]
    except csv.Error as error:
        raise Unreadable(
            _("The CSV file cannot be read: %(error)s") % {"error": error}, code="not_a_spreadsheet"
        ) from None


def read_sheet(data: bytes, file_name: str) -> Sheet:
    """The first sheet: its header (the first row with anything in it) and its non-empty rows, numbered as
    Excel numbers them. Unreadable for anything that is not a spreadsheet, has no header or no data rows,
    or has more than MAX_ROWS rows."""
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(too_big_message(), code="file_too_big")
    rows = _xlsx_rows(data) if format_of(data, file_name) == "xlsx" else _csv_rows(data)
    sheet: Sheet | None = None
    for number, cells in enumerate(rows, start=1):
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if sheet is None:
            sheet = Sheet(headers=cells, header_row=number)
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise Unreadable(
                _("The file has more than %(max)s rows. Split it into files of at most %(max)s rows.")
                % {"max": f"{MAX_ROWS:,}"},
                code="too_many_rows",
            )
        sheet.rows.append((number, cells))
    if sheet is None:
        raise Unreadable(_("The file is empty."), code="file_empty")
    if not sheet.rows:
        raise Unreadable(_("The file has a header row but no rows under it."), code="file_empty")
    return sheet


def too_big_message() -> str:
    return _("The file is larger than %(max)s MB. Split it into smaller files.") % {
        "max": MAX_FILE_BYTES // (1024 * 1024)
    }


# ------------------------------------------------------------------------------------------ writing
@dataclass
class Table:
    title: str
    headers: list[str]
    rows: Iterable[Sequence[Any]]
    # Columns (indexes) Excel must keep as text: unit numbers like 0101 would otherwise lose their zero.
    text_columns: frozenset[int] = frozenset()
    widths: Sequence[int] = ()


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal | int | float | dt.date):
        return value
    return str(value)


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with one sheet per table, written in openpyxl's streaming mode (large exports)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        for index, width in enumerate(table.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        header_cells = []
        for header in table.headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in table.rows:
            cells = []
            for index, value in enumerate(row):
                cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl takes "=..." for a formula; a cell here is never one
                    if index in table.text_columns:
                        cell.number_format = "@"  # and Excel keeps what is typed over it as text
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        try:
            decimal.Decimal(text)
        except decimal.InvalidOperation:
            return "'" + text  # Excel would run it as a formula (CSV injection)
    return text


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a byte order mark: without it, Excel in a Chinese locale reads UTF-8 as GB18030."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
