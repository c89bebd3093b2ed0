"""Report tables and their files: one definition gives the screen table, CSV and XLSX.

A `Table` is columns (a stable key, a label people read, a kind) and rows of values keyed
by column. Templates draw it as an accessible table, `csv_bytes` writes it with the keys
as the header (what the README documents field by field and machines read) and
`xlsx_bytes` writes one sheet per table with the labels as the header (what people read),
right to left for Arabic. Nothing is written twice by hand (DESIGN decision 17).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_SHEET_FORBIDDEN = str.maketrans({ch: " " for ch in "[]:*?/\\"})
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell.startswith(_FORMULA) else cell


@dataclass(frozen=True)
class Column:
    """A column: its stable key (CSV header), its label and its kind.

    kind is "text", "int", "percent" (a number 0..100, one decimal), "number" (one
    decimal), "money" (two decimals) or "date".
    """

    key: str
    label: str
    kind: str = "text"


@dataclass
class Table:
    """A titled table: columns and rows (each a dict keyed by column key)."""

    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    caption: str = ""  # what the table counts, said under its title

    def cell(self, row: dict[str, Any], column: Column) -> str:
        """A value as the screen shows it ('—' for none)."""
        return show(row.get(column.key), column.kind)


def show(value: Any, kind: str = "text") -> str:
    """A value as text: numbers rounded by kind, dates ISO, none as '—'."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind in ("percent", "number") and isinstance(value, int | float | Decimal):
        return f"{float(value):.1f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _raw(value: Any, kind: str) -> Any:
    """A value as a file holds it: numbers stay numbers, text is made formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "money" and isinstance(value, int | float | Decimal):
        return f"{Decimal(value):.2f}"
    if kind in ("percent", "number") and isinstance(value, int | float | Decimal):
        return round(float(value), 1)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return safe_cell(value)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV (UTF-8 with a byte order mark, so spreadsheets read Arabic)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_raw(row.get(column.key), column.kind) for column in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_title(title: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts (31 characters, no []:*?/\\), unique in the book."""
    base = title.translate(_SHEET_FORBIDDEN).strip()[:28] or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        name, number = f"{base[:25]} {number}", number + 1
    taken.add(name.lower())
    return name


def xlsx_bytes(tables: Sequence[Table], rtl: bool = False) -> bytes:
    """The tables as an XLSX workbook, one sheet each, labels in bold as the header."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_title(table.title, taken))
        sheet.sheet_view.rightToLeft = rtl
        sheet.append([column.label for column in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(row.get(column.key), column.kind)
                          for column in table.columns])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any, kind: str) -> Any:
    """A value as an XLSX cell holds it: real numbers for numbers, safe text otherwise."""
    if kind == "money" and isinstance(value, int | float | Decimal):
        return float(Decimal(value).quantize(Decimal("0.01")))
    raw = _raw(value, kind)
    return None if raw == "" else raw


def download_headers(filename: str, content_type: str) -> dict[str, str]:
    """Headers that make a browser save a report file and keep no copy in caches."""
    return {"Content-Type": content_type, "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store"}
