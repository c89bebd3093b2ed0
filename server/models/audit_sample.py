"""Audit samples: a reproducible random draw of closed cases, and the auditor's checklist."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditSample(db.Model):  # type: ignore[name-defined,misc]
    """One draw: the period, the size asked for, the seed, who drew it and when."""

    __tablename__ = "audit_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    size: Mapped[int] = mapped_column()
    seed: Mapped[int] = mapped_column()
    drawn_by: Mapped[str] = mapped_column(String(255))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    population: Mapped[int] = mapped_column(default=0)  # closed cases in the period


class AuditSampleCase(db.Model):  # type: ignore[name-defined,misc]
    """A case drawn into a sample, in the order drawn."""

    __tablename__ = "audit_sample_case"
    __table_args__ = (UniqueConstraint("sample_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("audit_sample.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(32))  # kept if the case is ever purged
    position: Mapped[int] = mapped_column()


class AuditCheck(db.Model):  # type: ignore[name-defined,misc]
    """The auditor's finding on one checklist item for one sampled case."""

    __tablename__ = "audit_check"
    __table_args__ = (UniqueConstraint("sample_case_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_case_id: Mapped[int] = mapped_column(
        ForeignKey("audit_sample_case.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(8))  # pass, fail, na
    note: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(String(255))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
