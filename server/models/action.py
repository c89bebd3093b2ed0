"""Corrective actions (ISO 10002 8.7): cases of another kind, and the complaints they answer.

An action is a `Case` row with kind "action" (so its tasks, timers, deadlines, owner and
hash-chained history work as a complaint's do); this table holds what only an action has.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .case import Case
from .types import UTCDateTime, utcnow

ORIGINS = ("close", "register")  # started by a case's Close step, or by hand


class CorrectiveAction(db.Model):  # type: ignore[name-defined,misc]
    """What a corrective action holds beside its case row."""

    __tablename__ = "corrective_action"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                         primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(64), index=True)  # a code of the causes list
    origin: Mapped[str] = mapped_column(String(16))  # one of ORIGINS
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(255))
    # When the diagram last reached its `implemented` milestone: recurrence counts from it.
    implemented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])


class ActionComplaint(db.Model):  # type: ignore[name-defined,misc]
    """A complaint linked to a corrective action (many to many)."""

    __tablename__ = "action_complaint"

    action_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                           primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                              primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by: Mapped[str] = mapped_column(String(255))
