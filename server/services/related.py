"""Repeat and related complaints: other cases of the same complainant, or of the same
product and category within a window (ISO 10002 8.4: repeat complaints are a signal).

The same complainant is the same e-mail address (case ignored) or the same phone number
(digits only: spaces, dashes, dots, brackets and "+" ignored). The same product and
category is the same category code with the same product: the product code of the
reporting facts when both cases have one, else the free-text product or service as
typed (case and spacing ignored); only cases received within PLAINT_RELATED_WINDOW_DAYS
(default 90) before or after this one count. Each lookup is served by an index of
migration 0017 (expression indexes on lower(email) and the phone digits, and
(category, received_at)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select

from ..extensions import db
from ..models import Case, CaseReport
from . import visibility
from .actors import Actor

LIMIT = 50  # more than this on a case page helps nobody; the search finds the rest
SAME_COMPLAINANT, SAME_PRODUCT = "complainant", "product"
_SEPARATORS = (" ", "-", "(", ")", "+", ".")


@dataclass
class Related:
    """Another case linked to this one, and why."""

    reference: str
    received_at: datetime
    status_label: str | None
    is_open: bool
    category: str | None
    reasons: list[str] = field(default_factory=list)
    earlier: bool = True
    version_id: int | None = None  # the case's process version, whose words the status is


def phone_key(column: Any) -> ColumnElement[Any]:
    """The phone digits as the database computes them (the same text as the index)."""
    expression = column
    for separator in _SEPARATORS:
        expression = func.replace(expression, literal_column(f"'{separator}'"),
                                  literal_column("''"))
    return expression  # type: ignore[no-any-return]


def normal_phone(phone: str | None) -> str:
    """A phone number as phone_key leaves it."""
    value = phone or ""
    for separator in _SEPARATORS:
        value = value.replace(separator, "")
    return value


def _product_text(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def window() -> timedelta:
    """How far apart two complaints about the same product and category may be."""
    return timedelta(days=float(current_app.config.get("PLAINT_RELATED_WINDOW_DAYS", 90)))


def for_case(case: Case, reader: Actor | None = None) -> list[Related]:
    """The cases related to this one, newest first, each with its reasons.

    With a reader, only the cases their need-to-know lets them read.
    """
    limits = visibility.where(reader) if reader is not None else []
    found: dict[int, Related] = {}
    for row in _same_complainant(case, limits):
        _add(found, row, case, SAME_COMPLAINANT)
    for row in _same_product(case, limits):
        _add(found, row, case, SAME_PRODUCT)
    return sorted(found.values(), key=lambda r: r.received_at, reverse=True)[:LIMIT]


def _add(found: dict[int, Related], row: Any, case: Case, reason: str) -> None:
    item = found.get(row.id)
    if item is None:
        item = found[row.id] = Related(row.reference, row.received_at, row.status_label,
                                       row.is_open, row.category,
                                       earlier=row.received_at < case.received_at,
                                       version_id=row.process_version_id)
    if reason not in item.reasons:
        item.reasons.append(reason)


def _columns() -> tuple[Any, ...]:
    return (Case.id, Case.reference, Case.received_at, Case.status_label, Case.is_open,
            Case.category, Case.process_version_id)


def _same_complainant(case: Case, limits: list[ColumnElement[bool]]) -> list[Any]:
    matches = []
    email = (case.complainant_email or "").strip().lower()
    if email:
        matches.append(func.lower(Case.complainant_email) == email)
    phone = normal_phone(case.complainant_phone)
    if len(phone) >= 6:  # a fragment would link strangers
        matches.append(phone_key(Case.complainant_phone) == phone)
    if not matches:
        return []
    return list(db.session.execute(select(*_columns()).where(
        or_(*matches), Case.id != case.id, Case.kind == "complaint", *limits)
        .order_by(Case.received_at.desc()).limit(LIMIT)))


def _same_product(case: Case, limits: list[ColumnElement[bool]]) -> list[Any]:
    if not case.category:
        return []
    own_code = db.session.scalar(select(CaseReport.product).where(
        CaseReport.case_id == case.id))
    own_text = _product_text(case.product_service)
    if not own_code and not own_text:
        return []
    span = window()
    rows = db.session.execute(
        select(*_columns(), Case.product_service, CaseReport.product)
        .outerjoin(CaseReport, CaseReport.case_id == Case.id)
        .where(and_(Case.category == case.category, Case.id != case.id,
                    Case.kind == "complaint",
                    Case.received_at >= case.received_at - span,
                    Case.received_at <= case.received_at + span), *limits)
        .order_by(Case.received_at.desc()).limit(LIMIT * 10))
    # The reference process reports the intake's free text as the product, so codes are
    # compared as that text is: case and spacing ignored.
    return [row for row in rows
            if (_product_text(row.product) == _product_text(own_code) if own_code and row.product
                else bool(own_text) and _product_text(row.product_service) == own_text)][:LIMIT]
