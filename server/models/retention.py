"""Retention rules, legal holds, and the record of erasures that keeps the history verifiable.

`CaseEventRedaction` rows are only ever inserted: listing an event there is what lets the
database's UPDATE trigger on case_event change that event's `data` and `summary`, and
nothing else (migration 0036). The erasure event written with them vouches, under the
audit key, for each redacted event's hash and new digests (services/anonymisation.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ANONYMISE, DOCUMENTS = "anonymise", "documents"
ACTIONS = (ANONYMISE, DOCUMENTS)
ANY_OUTCOME = "any"


class RetentionRule(db.Model):  # type: ignore[name-defined,misc]
    """Erase the personal data (or only the documents) of closed cases of an outcome, N
    months after they closed."""

    __tablename__ = "retention_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))  # one of report.OUTCOMES, or "any"
    action: Mapped[str] = mapped_column(String(16))   # ANONYMISE or DOCUMENTS
    after_months: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))


class LegalHold(db.Model):  # type: ignore[name-defined,misc]
    """A case that retention and erasure must leave alone until the hold is lifted."""

    __tablename__ = "legal_hold"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(500))
    placed_by: Mapped[str] = mapped_column(String(255))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseEventRedaction(db.Model):  # type: ignore[name-defined,misc]
    """A history entry whose personal values were erased (insert-only)."""

    __tablename__ = "case_event_redaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_event.id", ondelete="CASCADE"),
                                          index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseErasure(db.Model):  # type: ignore[name-defined,misc]
    """One erasure of a case's personal data (or of its documents only)."""

    __tablename__ = "case_erasure"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    documents_only: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(500))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("retention_rule.id", ondelete="SET NULL"))
