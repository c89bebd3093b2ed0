"""The access log: who read which case's record, when, and what exactly, allowed or refused.

Every place that shows a case's record sends `signals.case_read` (the need-to-know check
sends `case_read_refused`); web/access_log.py connects both to `record`, which writes one
row per case read. A read is logged in a transaction of its own, committed at once, so a
refused read stays logged when the refusal rolls the request back; when the caller is in
the middle of a write of its own, the row joins that write instead (web/access_log.py
holds a refusal made during a write back until the request ends, and logs it then).

The table is append-only in the database (migration 0035): no UPDATE, and DELETE only of
rows older than 90 days. `purge` (daily, by the scheduler) deletes the rows older than
PLAINT_ACCESS_LOG_DAYS. Every allowed read also runs the bulk-access rule
(services/bulk_access.py), but for a case the same person read in this process within the
last minute (bulk_access.read_again: such a read cannot add to the count).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select

from ..database import WRITE, begin_write, commit_keeping_loaded
from ..extensions import db
from ..models import AccessLogEntry, Case, utcnow
from ..models.access_log import WHATS
from . import bulk_access, localtime, report_period
from .actors import Actor
from .tables import safe_cell

PER_PAGE = 50
CASE_PAGE_ENTRIES = 10  # "who opened this case" on the case page
CHUNK = 500


def writing() -> bool:
    """Whether the session is inside a write transaction the caller will commit."""
    return db.session().in_transaction() and bool(
        db.session.connection().get_execution_options().get(WRITE))


def record(actor: Actor, cases: Sequence[tuple[int | None, str | None]], what: str,
           detail: str | None = None, *, allowed: bool = True, address: str | None = None,
           now: datetime | None = None) -> None:
    """Log one read per (case id, reference) by `actor`; check bulk access if allowed."""
    if not cases:
        return
    now = now or utcnow()
    own = not writing()
    if own:  # only rows are added: what the page loaded stays loaded
        begin_write(keep_loaded=True)
    rows = _complete(cases)
    db.session.execute(insert(AccessLogEntry), [
        {"at": now, "user_id": actor.user_id, "actor": actor.name[:255],
         "on_behalf": actor.on_behalf, "case_id": case_id, "reference": reference,
         "what": what[:16], "detail": detail[:500] if detail else None, "allowed": allowed,
         "address": address[:64] if address else None}
        for case_id, reference in rows])
    ids = [case_id for case_id, _reference in rows]
    # Counted and found within the limit: this read may spare the next minute's the count.
    counted = allowed and not bulk_access.read_again(actor, ids, now) \
        and bulk_access.checked(actor, now)[1]
    if own:
        commit_keeping_loaded()
        if counted:  # only a committed row may spare a later read the count
            bulk_access.remember(actor, ids, now)


def _complete(cases: Sequence[tuple[int | None, str | None]]
              ) -> list[tuple[int | None, str | None]]:
    """Each case's id and reference, whichever of the two the sender gave."""
    ids = [case_id for case_id, reference in cases if reference is None and case_id]
    references = [reference for case_id, reference in cases if case_id is None and reference]
    found: list[tuple[int, str]] = []
    if ids or references:
        found = [(row.id, row.reference) for row in db.session.execute(
            select(Case.id, Case.reference).where(
                or_(Case.id.in_(ids), Case.reference.in_(references))))]
    by_id, by_reference = dict(found), {reference: case_id for case_id, reference in found}
    return [(case_id if case_id is not None else by_reference.get(reference or ""),
             reference if reference is not None else by_id.get(case_id or 0))
            for case_id, reference in cases]


def purge(now: datetime | None = None) -> int:
    """Delete the reads older than PLAINT_ACCESS_LOG_DAYS; how many went."""
    days = int(current_app.config["PLAINT_ACCESS_LOG_DAYS"])
    begin_write()
    gone = db.session.execute(delete(AccessLogEntry).where(
        AccessLogEntry.at < (now or utcnow()) - timedelta(days=days)))
    db.session.commit()
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


@dataclass
class Filters:
    """What the auditors' page asked for, as typed (kept on error) and as understood."""

    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as a query string's arguments (empty ones left out)."""
        return {key: value for key, value in self.typed.items() if value}


FIELDS = ("person", "reference", "what", "refused", "from", "to")


def parse(args: Mapping[str, str]) -> Filters:
    """The filters of a query string, or the messages that say what to fix."""
    typed = {name: (args.get(name) or "").strip()[:100] for name in FIELDS}
    found = Filters(typed)
    if typed["what"] and typed["what"] not in WHATS:
        found.errors["what"] = [_("Choose what was read from the list.")]
    typed["refused"] = "1" if typed["refused"] in ("1", "on", "true", "yes") else ""
    days = {name: report_period.date_field(typed, name, found.errors) for name in ("from", "to")}
    zone = localtime.organisation_zone()
    first, last = days["from"], days["to"]
    if first and last and last < first:
        found.errors["to"] = [_("The last day must not come before the first day.")]
    if not found.errors:
        if first:
            found.start = report_period.Period(first, first, zone).start
        if last:
            found.end = report_period.Period(last, last, zone).end
    return found


def _conditions(f: Filters) -> list[ColumnElement[bool]]:
    typed, conditions = f.typed, []
    if typed["person"]:
        conditions.append(or_(AccessLogEntry.actor == typed["person"],
                              AccessLogEntry.on_behalf == typed["person"]))
    if typed["reference"]:
        conditions.append(AccessLogEntry.reference == typed["reference"].upper())
    if typed["what"]:
        conditions.append(AccessLogEntry.what == typed["what"])
    if typed["refused"]:
        conditions.append(AccessLogEntry.allowed.is_(False))
    if f.start:
        conditions.append(AccessLogEntry.at >= f.start)
    if f.end:
        conditions.append(AccessLogEntry.at < f.end)
    return conditions


def _query(f: Filters) -> Select[Any]:
    return select(AccessLogEntry).where(*_conditions(f)).order_by(
        AccessLogEntry.at.desc(), AccessLogEntry.id.desc())


def listing(f: Filters, page: int = 1) -> tuple[list[AccessLogEntry], int]:
    """One page of the reads the filters match, newest first, and how many match."""
    total = db.session.scalar(select(func.count(AccessLogEntry.id))
                              .where(*_conditions(f))) or 0
    rows = db.session.scalars(_query(f).limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return list(rows), int(total)


def for_case(case_id: int, limit: int = CASE_PAGE_ENTRIES) -> list[AccessLogEntry]:
    """The newest reads of one case."""
    return list(db.session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc()).limit(limit)))


def _header() -> list[str]:
    return [_("When (UTC)"), _("Person"), _("On behalf of"), _("Case"), _("What"),
            _("Detail"), _("Allowed"), _("Address")]


def csv_chunks(f: Filters) -> Iterator[str]:
    """Every read the filters match as CSV, newest first, read and sent chunk by chunk."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    header = _header()
    answers = {True: _("allowed"), False: _("refused")}
    query = _query(f).execution_options(yield_per=CHUNK)

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield "\ufeff" + _drain(buffer)
        with app.app_context():
            for count, row in enumerate(db.session.scalars(query), start=1):
                writer.writerow([safe_cell(value) for value in (
                    row.at.isoformat(), row.actor, row.on_behalf or "", row.reference or "",
                    row.what, row.detail or "", answers[row.allowed], row.address or "")])
                if count % CHUNK == 0:
                    yield _drain(buffer)
        yield _drain(buffer)

    return generate()


def _drain(buffer: io.StringIO) -> str:
    chunk = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return chunk


def shown_what(what: str) -> str:
    """What was read, in the reader's language."""
    words: dict[str, Any] = {"case": _("case page"), "document": _("document"),
                             "bundle": _("case bundle"), "letter": _("letter"),
                             "export": _("export"), "api": _("API read")}
    return str(words.get(what, what))
