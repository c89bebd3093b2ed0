"""The system log, and what keeps the audit trail honest: checkpoints and tombstones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class SystemEvent(db.Model):  # type: ignore[name-defined,misc]
    """One change to the installation (calendar, policy, deploys): who, what, before/after."""

    __tablename__ = "system_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(String(500))
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    # Keyed chain like a case's history (services/audit.py); None on rows written before
    # migration 0012, which are not chained.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(db.Model):  # type: ignore[name-defined,misc]
    """The newest hash of a chain that is not a case's (the system log): one row per chain.

    Writers lock this row, so two changes at the same moment cannot both chain to the same
    predecessor and fork the log.
    """

    __tablename__ = "audit_chain_head"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(db.Model):  # type: ignore[name-defined,misc]
    """A copy of a signed checkpoint; the file outside the database is the one trusted."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # canonical JSON, as signed
    signature: Mapped[str] = mapped_column(String(64))


class AuditTombstone(db.Model):  # type: ignore[name-defined,misc]
    """What is left of a case purged by `flask purge-case`: signed with the audit key.

    Its presence for a case id is what lets the database delete that case's history.
    """

    __tablename__ = "audit_tombstone"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)  # no foreign key: the case goes
    reference: Mapped[str] = mapped_column(String(32), index=True)
    event_count: Mapped[int] = mapped_column()
    head: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    signature: Mapped[str] = mapped_column(String(64))
