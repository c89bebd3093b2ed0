"""Preview jobs: a draft replayed on recorded cases in the background, and its report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class ReplayJob(db.Model):  # type: ignore[name-defined,misc]
    """One preview of a draft on recent cases: who started it, how far it got, its report.

    The only row a preview writes (services/processes/replay.py). `heartbeat_at` moves
    while it runs, so a job whose process died is shown failed instead of running forever.
    """

    __tablename__ = "replay_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The draft may be deployed or discarded later; the report stays readable.
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_draft.id", ondelete="SET NULL"), index=True)
    draft_title: Mapped[str] = mapped_column(String(255))
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    started_by: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: which cases, what-if
    report: Mapped[str | None] = mapped_column(Text)  # JSON, once finished
    error: Mapped[str | None] = mapped_column(Text)
