"""Reporting facts: one typed row per case, the vocabulary every report groups and counts on.

The write path (services/recording.py, through services/reporting.py) rewrites a case's
row after every step, from the workflow variables the diagram maps with `reportAs` and
from the case's own times; reports, returns and the dashboard read only these rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# The outcomes reports know; a diagram's own values are mapped onto these with reportAs.
OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn", "out_of_scope")
# Deadline kinds with an on-target flag of their own.
TARGET_KINDS = ("acknowledgement", "response", "resolution")
# The columns of the dashboard's covering indexes (migration 0022): the period's counts,
# times and compensation read by receipt time; the open backlog and workload by owner.
PERIOD_COLUMNS = ("received_at", "is_open", "escalation_level", "reopen_count", "satisfaction",
                  "first_contact_resolution", "outcome", "acknowledgement_on_target",
                  "response_on_target", "resolution_on_target", "acknowledge_hours",
                  "resolution_hours", "remedy_amount", "remedy_currency")
OPEN_COLUMNS = ("is_open", "owner_id", "received_at", "acknowledgement_on_target",
                "response_on_target", "resolution_on_target")


class CaseReport(db.Model):  # type: ignore[name-defined,misc]
    """The reporting facts of one case (ISO 10002 clause 8: collection of information)."""

    __tablename__ = "case_report"
    __table_args__ = (
        Index("ix_case_report_received", "received_at"),
        Index("ix_case_report_closed", "closed_at"),
        Index("ix_case_report_category", "category", "received_at"),
        Index("ix_case_report_product", "product", "received_at"),
        Index("ix_case_report_channel", "channel", "received_at"),
        Index("ix_case_report_cause", "cause", "received_at"),
        Index("ix_case_report_open", "is_open", "received_at"),
        # Migration 0022: what the dashboard reads, so its passes never visit a table row.
        Index("ix_case_report_period", *PERIOD_COLUMNS),
        Index("ix_case_report_open_state", *OPEN_COLUMNS),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_open: Mapped[bool] = mapped_column(default=True)
    priority: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(64))  # a code of the products list
    category: Mapped[str | None] = mapped_column(String(64))  # a code of the categories list
    cause: Mapped[str | None] = mapped_column(String(64))  # a code of the causes list
    outcome: Mapped[str | None] = mapped_column(String(32))  # one of OUTCOMES
    remedy_type: Mapped[str | None] = mapped_column(String(64))
    remedy_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    remedy_currency: Mapped[str | None] = mapped_column(String(3))
    vulnerable: Mapped[bool | None] = mapped_column()
    regulator: Mapped[bool | None] = mapped_column()
    first_contact_resolution: Mapped[bool | None] = mapped_column()
    # Business hours from receipt (working calendar), net of the time the clock was paused.
    acknowledge_hours: Mapped[float | None] = mapped_column()
    response_hours: Mapped[float | None] = mapped_column()
    resolution_hours: Mapped[float | None] = mapped_column()
    close_hours: Mapped[float | None] = mapped_column()
    paused_hours: Mapped[float] = mapped_column(default=0.0)
    # None while the deadline is neither met nor missed yet.
    acknowledgement_on_target: Mapped[bool | None] = mapped_column()
    response_on_target: Mapped[bool | None] = mapped_column()
    resolution_on_target: Mapped[bool | None] = mapped_column()
    escalation_level: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    satisfaction: Mapped[int | None] = mapped_column()  # 1 (very dissatisfied) .. 5
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
