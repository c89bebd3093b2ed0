"""Cases with known reporting facts, for the returns, evidence and pack tests.

Each case is started through the services (cheaply, as tests/test_case_search.py does);
its case_report row is then written directly with the facts the test chose, replacing
whatever the write path left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from server.extensions import db
from server.models import Case, CaseReport
from server.services import cases
from server.services.actors import Actor
from tests.support.data import INTAKE

INTAKE_ACTOR = Actor.system("test-intake")


def at(text: str) -> datetime:
    """An instant in UTC from 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Row:
    """A case's facts as a test states them (times in UTC)."""

    received: str
    closed: str | None = None
    responded: str | None = None
    response_hours: float | None = None
    response_on_target: bool | None = None
    acknowledgement_on_target: bool | None = None
    resolution_on_target: bool | None = None
    product: str | None = None
    cause: str | None = None
    category: str | None = None
    outcome: str | None = None
    remedy: tuple[str, str] | None = None  # amount, currency
    satisfaction: int | None = None
    reopen_count: int = 0
    channel: str = "web"
    extra: dict[str, Any] = field(default_factory=dict)
    reference: str = ""


def insert(rows: list[Row]) -> list[Row]:
    """Start a case per row and give it the row's facts; each row learns its reference."""
    for number, row in enumerate(rows):
        case = cases.start_case({**INTAKE, "complainant_name": f"Complainant {number}"},
                                row.channel, INTAKE_ACTOR).case
        row.reference = case.reference
        db.session.execute(delete(CaseReport).where(CaseReport.case_id == case.id))
        amount, currency = row.remedy or (None, None)
        db.session.add(CaseReport(
            case_id=case.id, received_at=at(row.received),
            closed_at=row.closed and at(row.closed), is_open=row.closed is None,
            responded_at=row.responded and at(row.responded),
            response_hours=row.response_hours, response_on_target=row.response_on_target,
            acknowledgement_on_target=row.acknowledgement_on_target,
            resolution_on_target=row.resolution_on_target, product=row.product,
            cause=row.cause, category=row.category, outcome=row.outcome,
            remedy_amount=amount and Decimal(amount), remedy_currency=currency,
            satisfaction=row.satisfaction, reopen_count=row.reopen_count,
            channel=row.channel, escalation_level=0, paused_hours=0.0, **row.extra))
        db.session.commit()
    assert len(db.session.scalars(select(Case.id)).all()) >= len(rows)
    return rows
