"""Incidents: a case whose timer step failed, stopped until it succeeds or someone retries it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .case import Case
from .types import UTCDateTime, utcnow


class Incident(db.Model):  # type: ignore[name-defined,misc]
    """What failed in a case, where and how often; open until a run of it succeeds.

    A case has at most one open incident (a partial unique index): a later failure of the
    same case counts as another attempt. `retry_at` is when the scheduler tries again by
    itself; None once it stopped (PLAINT_TIMER_MAX_ATTEMPTS) or the incident closed.
    """

    __tablename__ = "incident"
    __table_args__ = (
        Index("uq_incident_open_case", "case_id", unique=True,
              sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
        Index("ix_incident_closed_at_opened_at", "closed_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32), default="timer")  # what was running
    element_id: Mapped[str | None] = mapped_column(String(255))  # where in the diagram
    element_title: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)  # the last failure, as a person can read it
    attempts: Mapped[int] = mapped_column(default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the last one
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    resolution: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship()

    @property
    def is_open(self) -> bool:
        """Whether the case is still stopped on this incident."""
        return self.closed_at is None
