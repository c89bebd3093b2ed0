"""The cases behind a figure: the list a drill-down shows, and its export.

The same `conditions` that count a figure select its cases, so the list is exactly the
cases the figure counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import Case, CaseReport
from .definitions import Cell, Column, Report, Row
from .figures import Figures
from .filters import Filters, conditions
from .labels import label

PER_PAGE = 50
CHUNK = 1000


@dataclass(frozen=True)
class Page:
    """A page of the cases behind a figure."""

    rows: list[Row]
    total: int
    page: int
    pages: int


def _query(f: Filters):  # type: ignore[no-untyped-def]
    r = CaseReport
    return (select(Case.reference, r.received_at, r.is_open, r.priority, r.category,
                   r.product, r.channel, r.outcome, r.cause, r.acknowledge_hours,
                   r.resolution_hours)
            .join(Case, Case.id == r.case_id).where(*conditions(f))
            .order_by(r.received_at.desc(), r.case_id.desc()))


def _row(r: object) -> Row:
    v = r._mapping  # type: ignore[attr-defined]
    return {"reference": Cell(v["reference"]),
            "received": Cell(v["received_at"].isoformat(timespec="minutes")),
            "state": Cell(str(_l("Open") if v["is_open"] else _l("Closed"))),
            "priority": Cell(label("priority", v["priority"])),
            "category": Cell(label("category", v["category"])),
            "product": Cell(label("product", v["product"])),
            "channel": Cell(label("channel", v["channel"])),
            "outcome": Cell(label("outcome", v["outcome"]) if v["outcome"] else None),
            "cause": Cell(label("cause", v["cause"]) if v["cause"] else None),
            "acknowledge_hours": Cell(v["acknowledge_hours"]),
            "resolution_hours": Cell(v["resolution_hours"])}


def page(f: Filters, number: int) -> Page:
    """One page of the cases the filters and condition select, newest first."""
    total = db.session.scalar(select(func.count()).select_from(CaseReport)
                              .where(*conditions(f))) or 0
    pages = max(1, -(-total // PER_PAGE))
    number = min(max(1, number), pages)
    query = _query(f).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    return Page([_row(r) for r in db.session.execute(query)], total, number, pages)


def _all(fig: Figures) -> Iterator[Row]:
    for r in db.session.execute(_query(fig.asked).execution_options(yield_per=CHUNK)):
        yield _row(r)


CASE_LIST = Report(
    "cases", _l("Cases behind a figure"), _l("The cases the figure counted."),
    (Column("reference", _l("Reference"), "text"), Column("received", _l("Received"), "text"),
     Column("state", _l("Open or closed"), "text"), Column("priority", _l("Priority"), "text"),
     Column("category", _l("Category"), "text"),
     Column("product", _l("Product or service"), "text"),
     Column("channel", _l("Channel"), "text"), Column("outcome", _l("Outcome"), "text"),
     Column("cause", _l("Root cause"), "text"),
     Column("acknowledge_hours", _l("Hours to acknowledge"), "hours"),
     Column("resolution_hours", _l("Hours to resolve"), "hours")),
    _all)
