"""The case search's result as a file: CSV streamed as it is read, or an XLSX workbook.

Both carry the same columns, in the reader's language (headers and values alike: a
case's status label in the words of its process version), with text a spreadsheet would
take for a formula made safe. A CSV has no size limit; a workbook holds at most MAX_XLSX_ROWS
cases (beyond that the search must be narrowed, or the CSV taken). Every export is noted
in the system log (personal data leaving Plaint).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..errors import InvalidInput
from ..extensions import db
from ..models import Case
from . import choice_titles, export_log, process_texts
from .actors import Actor
from .search import Filters, label, matching
from .tables import safe_cell

CHUNK = 500
MAX_XLSX_ROWS = 100_000


def _header() -> list[str]:
    return [_("Reference"), _("Received"), _("Status"), _("Open or closed"), _("Priority"),
            _("Category"), _("Channel"), _("Product or service"), _("Complainant"),
            _("E-mail"), _("Next due")]


def _cells() -> Any:
    """A function from a result row to its cells (texts translated now, in the request)."""
    state = {True: _("Open"), False: _("Closed")}
    category = choice_titles.titles("category")
    reader = process_texts.reading()  # the CSV's rows are read after the request has gone

    def cells(r: Any) -> list[str]:
        status = process_texts.text(r.process_version_id, r.status_label, reader)
        return [safe_cell(value) for value in (
            r.reference, r.received_at.isoformat(), status, state[r.is_open],
            label(r.priority), category.get(r.category) or label(r.category),
            label(r.channel), r.product_service, r.complainant_name, r.complainant_email,
            r.due_at.isoformat() if r.due_at else "")]

    return cells


def csv_chunks(filters: Filters) -> Iterator[str]:
    """Every matching case as CSV text, chunk by chunk (streamed, not held in memory).

    The rows are read while the response is sent, after the request's context is gone,
    so the reading runs in an app context of its own; texts are translated before.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    header, cells = _header(), _cells()
    query = matching(filters)[0].execution_options(yield_per=CHUNK)

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield "\ufeff" + _drain(buffer)  # the BOM tells spreadsheets the file is UTF-8
        with app.app_context():
            for count, row in enumerate(db.session.execute(query), start=1):
                writer.writerow(cells(row))
                if count % CHUNK == 0:
                    yield _drain(buffer)
        yield _drain(buffer)

    return generate()


def workbook(filters: Filters, rtl: bool = False) -> bytes:
    """Every matching case as an XLSX workbook; refused, with what to do, past the limit."""
    query, total = matching(filters)
    if total > MAX_XLSX_ROWS:
        message = _("A workbook holds at most %(most)s cases and this search finds %(found)s: "
                    "narrow the search, or export CSV, which has no limit.",
                    most=f"{MAX_XLSX_ROWS:,}", found=f"{total:,}")
        raise InvalidInput(message, {"_form": [message]})
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Cases"))
    sheet.sheet_view.rightToLeft = rtl
    sheet.freeze_panes = "A2"
    cells = _cells()
    sheet.append([_bold(sheet, text) for text in _header()])
    for row in db.session.execute(query.execution_options(yield_per=CHUNK)):
        sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bold(sheet: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    return cell


def cases_in(filters: Filters) -> list[tuple[int, str]]:
    """(id, reference) of every case the filters match: what an export hands over."""
    query = matching(filters)[0].with_only_columns(Case.id, Case.reference)
    return [(case_id, reference) for case_id, reference in db.session.execute(query)]


def record(filters: Filters, actor: Actor, kind: str) -> None:
    """Note in the system log who exported which cases, and as what."""
    export_log.record(actor, export_log.CASES, "Case search", kind, filters.query_args())


def _drain(buffer: io.StringIO) -> str:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk
