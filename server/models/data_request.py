"""Data-subject requests (PDPL): cases of another kind, and who they are about.

A request is a `Case` row with kind "data_request" (its tasks, statutory-deadline timers
and hash-chained history work as a complaint's do); this table holds who asks, how to
find their data, and what was done with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .case import Case
from .types import UTCDateTime, utcnow

REQUEST_KINDS = ("access", "erasure")  # a copy of their data, or its erasure


class DataRequest(db.Model):  # type: ignore[name-defined,misc]
    """What a data-subject request holds beside its case row."""

    __tablename__ = "data_request"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                         primary_key=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    # Normalised (services/person.py): lower-case e-mail, phone as its digits.
    subject_email: Mapped[str | None] = mapped_column(String(254), index=True)
    subject_phone: Mapped[str | None] = mapped_column(String(40))
    request_kind: Mapped[str] = mapped_column(String(16))  # one of REQUEST_KINDS
    identity_check: Mapped[str] = mapped_column(Text)  # how identity was (to be) checked
    reason: Mapped[str | None] = mapped_column(Text)  # the person's grounds, as recorded
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(255))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exported_by: Mapped[str | None] = mapped_column(String(255))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_by: Mapped[str | None] = mapped_column(String(255))

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
