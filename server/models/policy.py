"""The escalation policy: target times per kind of deadline, priority and category."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ANY = "any"  # the priority or category of a row that applies when nothing more specific does


class EscalationTarget(db.Model):  # type: ignore[name-defined,misc]
    """How long one kind of deadline runs, when to remind, and when to escalate further."""

    __tablename__ = "escalation_target"
    __table_args__ = (UniqueConstraint("kind", "priority", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # acknowledge, response, resolution
    priority: Mapped[str] = mapped_column(String(16), default=ANY)
    category: Mapped[str] = mapped_column(String(32), default=ANY)
    # Units: working_days, working_hours, calendar_days, calendar_hours.
    amount: Mapped[int] = mapped_column()
    unit: Mapped[str] = mapped_column(String(16))
    remind_amount: Mapped[int] = mapped_column()
    remind_unit: Mapped[str] = mapped_column(String(16))
    next_level_amount: Mapped[int] = mapped_column()
    next_level_unit: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
