"""What can be imported: each module registers its import kinds here from its AppConfig.ready().

The platform knows nothing of units or owners (it may not import `modules.*`); a kind brings its columns,
the permission it needs, and three functions:

- `check(rows, context) -> (clean_rows, problems)`: every row, in memory, with the lookups it needs
  fetched up front (a query per kind of record, not per row). Any problem and nothing is written.
- `write(clean_rows, context) -> created records`, parents before children, with bulk inserts, calling
  `context.progress(rows_done)` as it goes. It runs inside the one transaction of the batch.
- `export(viewer) -> rows` (dicts by column key) of the records the viewer may see, in the same columns,
  so that an export is a valid import file.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import get_language

from wuye.core.errors import NotFound


@dataclass(frozen=True)
class Column:
    key: str
    header_zh: str
    header_en: str
    required: bool = False
    # The template's two example rows; `examples_en` when the English template shows other values.
    examples: tuple[str, ...] = ()
    examples_en: tuple[str, ...] | None = None
    help: str | Promise = ""

    def header(self, language: str | None = None) -> str:
        return self.header_zh if _is_chinese(language) else self.header_en

    def example(self, index: int, language: str | None = None) -> str:
        values = self.examples if _is_chinese(language) or self.examples_en is None else self.examples_en
        return values[index] if index < len(values) else ""


@dataclass(frozen=True)
class Row:
    """One data row of a file: its number in the spreadsheet (as Excel shows it) and its cells by column key
    ("" for an empty or absent cell)."""

    number: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass(frozen=True)
class Problem:
    """Why a row (or the file, row 0) cannot be imported. `column` is a column key, or the header as it
    stands in the file when the column is not one of the kind's."""

    row: int
    column: str
    value: str
    reason: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.value, self.reason]

    @classmethod
    def from_list(cls, item: list[Any]) -> Problem:
        row, column, value, reason = item
        return cls(row=int(row), column=str(column), value=str(value), reason=str(reason))


def _no_progress(done: int) -> None:
    return None


@dataclass
class Context:
    """What a kind's functions get besides the rows: who imports (permissions and scope are theirs), the
    batch (None while checking an upload), and where to report progress while writing."""

    viewer: Any
    batch_id: uuid.UUID | None = None
    progress: Callable[[int], None] = field(default=_no_progress)


CheckFunction = Callable[[list[Row], Context], tuple[list[Any], list[Problem]]]
WriteFunction = Callable[[list[Any], Context], list[models.Model]]
ExportFunction = Callable[[Any], Iterable[dict[str, Any]]]
# What the batch made, by model (children last, as written) -> why undoing it would be wrong, or None. For
# rules the database cannot see: a later record computed from an imported one, say.
UndoCheckFunction = Callable[[list[tuple[type[models.Model], list[str]]]], str | None]


@dataclass(frozen=True)
class ImportKind:
    code: str
    label: str | Promise
    columns: tuple[Column, ...]
    # The permission ("app_label.codename") needed to import this kind at all; a kind's check may require
    # more for some rows (a row that creates a building needs estate.add_building).
    permission: str
    check: CheckFunction
    write: WriteFunction
    export: ExportFunction
    description: str | Promise = ""
    order: int = 100
    undo_check: UndoCheckFunction | None = None

    def column(self, key: str) -> Column | None:
        return next((column for column in self.columns if column.key == key), None)

    def header_for(self, key: str, language: str | None = None) -> str:
        column = self.column(key)
        return column.header(language) if column is not None else key

    def headers(self, language: str | None = None) -> list[str]:
        return [column.header(language) for column in self.columns]

    def header_index(self) -> dict[str, str]:
        """Normalized header -> column key, for the Chinese and English headers and the key itself."""
        index: dict[str, str] = {}
        for column in self.columns:
            for text in (column.key, column.header_zh, column.header_en):
                index[normalize_header(text)] = column.key
        return index


_KINDS: dict[str, ImportKind] = {}
_listeners: list[Callable[[ImportKind], None]] = []


def register(kind: ImportKind) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind.code):
        raise ValueError(f"import kind {kind.code!r}: use lowercase letters, digits and underscores")
    keys = [column.key for column in kind.columns]
    if len(set(keys)) != len(keys):
        raise ValueError(f"import kind {kind.code!r}: a column key is used twice")
    normalized = [
        name for c in kind.columns for name in {normalize_header(t) for t in (c.key, c.header_zh, c.header_en)}
    ]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"import kind {kind.code!r}: two columns share a header")
    _KINDS[kind.code] = kind
    for listener in _listeners:
        listener(kind)


def unregister(code: str) -> None:
    """For tests that register a kind of their own."""
    _KINDS.pop(code, None)


def on_register(listener: Callable[[ImportKind], None]) -> None:
    """Call `listener` for every kind registered, before and after this call."""
    _listeners.append(listener)
    for kind in list(_KINDS.values()):
        listener(kind)


def kinds() -> list[ImportKind]:
    return sorted(_KINDS.values(), key=lambda kind: (kind.order, kind.code))


def kind_find(code: str) -> ImportKind | None:
    """The kind of this code, or None (a batch of a kind no longer registered)."""
    return _KINDS.get(code)


def kind_get(code: str) -> ImportKind:
    kind = _KINDS.get(code)
    if kind is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("There is no such kind of import: %(kind)s") % {"kind": code})
    return kind


def normalize_header(text: str) -> str:
    """Headers as people type them: full-width or half-width, any case, with or without spaces,
    underscores and the asterisk some templates put on required columns."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_*]+", "", text)


def _is_chinese(language: str | None) -> bool:
    return (language or get_language() or "zh-hans").lower().startswith("zh")
