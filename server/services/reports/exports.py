"""Any report as a CSV or XLSX file, from its definition (the screen's own rows).

Text cells that a spreadsheet would read as a formula get a leading quote (tables.safe_cell);
numbers stay numbers in XLSX. Both files name the period and filters on their first rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook

from ..tables import safe_cell
from .definitions import Report, Row, plain
from .figures import Figures

FORMATS = ("csv", "xlsx")
MIMETYPES = {"csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _heading(report: Report, figures: Figures) -> list[list[str]]:
    f = figures.asked
    period = (_("Cases open now") if report.scope == "open" or f.scope == "open"
              else _("Received %(start)s to %(end)s", start=f.start.isoformat(),
                     end=f.end.isoformat()))
    asked = "; ".join(f"{k}={v}" for k, v in f.query_args().items()
                      if k not in ("from", "to", "preset"))
    return [[str(report.title)], [period], [asked] if asked else []]


def _values(report: Report, row: Row) -> list[Any]:
    return [plain(row[c.key].value) for c in report.columns]


def to_csv(report: Report, figures: Figures, rows: Iterable[Row]) -> str:
    """The report as CSV text (UTF-8 with a BOM, so spreadsheets read Arabic right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _heading(report, figures):
        if line:
            writer.writerow([safe_cell(v) for v in line])
    writer.writerow([safe_cell(str(c.title)) for c in report.columns])
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) if not isinstance(v, int | float)
                         else v for v in _values(report, row)])
    return "\ufeff" + buffer.getvalue()


def to_xlsx(report: Report, figures: Figures, rows: Iterable[Row]) -> bytes:
    """The report as an XLSX workbook, written row by row (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=report.name[:31])
    for line in _heading(report, figures):
        if line:
            sheet.append([safe_cell(v) for v in line])
    sheet.append([safe_cell(str(c.title)) for c in report.columns])
    for row in rows:
        sheet.append([v if v is None or isinstance(v, int | float) else safe_cell(v)
                      for v in _values(report, row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
