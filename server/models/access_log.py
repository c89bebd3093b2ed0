"""The access log: every read of a case's record, and the bulk-access alerts it raises."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# What was read (the `what` column); the words the auditors' page filters by.
WHATS = ("case", "document", "bundle", "letter", "export", "api")


class AccessLogEntry(db.Model):  # type: ignore[name-defined,misc]
    """One read (or refused read) of a case's record: who, when, which case, what.

    Append-only: the database refuses UPDATE, and DELETE of rows younger than the purge
    floor (migration 0035). No foreign keys, so a row outlives its case and its user.
    """

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_user_at", "user_id", "at"),
                      Index("ix_access_log_case_at", "case_id", "at"),
                      Index("ix_access_log_actor_at", "actor", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The person: a member of staff, or an API client's acting user (None: a client alone).
    user_id: Mapped[int | None] = mapped_column()
    actor: Mapped[str] = mapped_column(String(255))  # "hana", "api:crm"
    on_behalf: Mapped[str | None] = mapped_column(String(255))  # an API client's acting user
    case_id: Mapped[int | None] = mapped_column()
    reference: Mapped[str | None] = mapped_column(String(32), index=True)
    what: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(500))  # e.g. a document's file name
    allowed: Mapped[bool] = mapped_column(default=True)
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP address


class BulkAccessAlert(db.Model):  # type: ignore[name-defined,misc]
    """One person opened more distinct cases in a short window than the limit allows."""

    __tablename__ = "bulk_access_alert"
    __table_args__ = (Index("ix_bulk_access_alert_person", "person", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    person: Mapped[str] = mapped_column(String(255))  # the username (or API client) alerted
    user_id: Mapped[int | None] = mapped_column()
    case_count: Mapped[int] = mapped_column()
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_minutes: Mapped[int] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
