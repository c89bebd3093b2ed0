"""Cases, their append-only event log, and the projections the database answers from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import PackedText, UTCDateTime, utcnow


class Case(db.Model):  # type: ignore[name-defined,misc]
    """One complaint (or corrective action): its fields, its workflow state and where it stands."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    channel: Mapped[str] = mapped_column(String(32))
    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_email: Mapped[str | None] = mapped_column(String(254), index=True)
    complainant_phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    product_service: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    remedy_sought: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(String(32), index=True)
    status_label: Mapped[str | None] = mapped_column(String(255), index=True)
    is_open: Mapped[bool] = mapped_column(default=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    workflow_state: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(default=1)
    audit_head: Mapped[str | None] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(default=0)
    # The task and timer ids (with due times) last written to the projection tables, so a
    # step can change only what moved, without reading those tables back first.
    projection: Mapped[str | None] = mapped_column(Text)
    # Only the SHA-256 of the complainant's tracking token: the link itself is the secret.
    tracking_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Someone who complains on the complainant's behalf (ISO 10002 accessibility).
    representative_name: Mapped[str | None] = mapped_column(String(200))
    representative_relationship: Mapped[str | None] = mapped_column(String(100))
    representative_email: Mapped[str | None] = mapped_column(String(254))
    representative_phone: Mapped[str | None] = mapped_column(String(40))
    # The member of staff accountable for the case (services/ownership.py).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # "complaint", or "action": a corrective action runs as a case of its own
    # (models/action.py); every complaint-only list and count filters on it.
    kind: Mapped[str] = mapped_column(String(16), default="complaint",
                                      server_default="complaint", index=True)
    # The team that owns the case (models/team.py): projected by the write path from the
    # diagram's `team` variable or the admin's routing table; None: every case reader's.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"),
                                                index=True)
    # Read only by the people named on it (CaseViewer) and those who read every case.
    confidential: Mapped[bool] = mapped_column(default=False, server_default=false())

    process_version = relationship("ProcessVersion")
    owner = relationship("User", foreign_keys=[owner_id])
    team = relationship("Team")

    # One case, one writer: every UPDATE carries "AND version = <what we read>".
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Case {self.reference}>"


class CaseEvent(db.Model):  # type: ignore[name-defined,misc]
    """One entry of a case's history. Rows are only ever inserted; each hashes the last."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(500))
    # Canonical JSON: what the hash covers. Stored packed; the application sees the text.
    data: Mapped[str] = mapped_column(PackedText("history"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # "hmac1": `mac` signs `hash` and `row_digest` with the audit key (services/audit.py);
    # "sha256": written before migration 0012, only the public, unkeyed chain.
    alg: Mapped[str] = mapped_column(String(16), default="hmac1", server_default="sha256")
    # SHA-256 of the case row's audited fields after this step (None before 0012).
    row_digest: Mapped[str | None] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))


class HumanTask(db.Model):  # type: ignore[name-defined,misc]
    """Projection: one row per user task that is ready for a person."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id"),
        Index("ix_human_task_role_assignee", "role", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by the unique (case_id, task_id) index: no separate case_id index to write.
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(255))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a reminder or alert fired on the task's boundary ("Resolution overdue").
    flag: Mapped[str | None] = mapped_column(String(255))

    case: Mapped[Case] = relationship()


class Timer(db.Model):  # type: ignore[name-defined,misc]
    """Projection: one row per timer event waiting in a case, claimed when it falls due."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("case_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by the unique (case_id, task_id) index: no separate case_id index to write.
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ReferenceCounter(db.Model):  # type: ignore[name-defined,misc]
    """The last case number used in a year, for references like CMP-2026-000123."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
