"""Service calls: a service task's call, written with the step that reached it, made later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import Claimable, UTCDateTime, utcnow

PENDING, DONE, FAILED, CANCELLED = "pending", "done", "failed", "cancelled"


class ServiceCall(Claimable, db.Model):  # type: ignore[name-defined,misc]
    """One call of a service task (spiffworkflow:serviceTaskOperator) of one case.

    Written in the transaction of the step that reached the task, claimed by a worker
    like an outbox message (services/claims.py), made outside any transaction, and
    finished in the step that puts its result into the case. Only pending calls have a
    `next_attempt_at`, so the worker's "anything due?" probe walks pending rows alone.
    """

    __tablename__ = "service_call"
    __table_args__ = (UniqueConstraint("case_id", "task_id", name="uq_service_call_task"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))  # the waiting SpiffWorkflow task
    bpmn_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    operator: Mapped[str] = mapped_column(String(255))
    params: Mapped[str] = mapped_column(Text)  # JSON, as evaluated when the task was reached
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ServiceCall {self.id} {self.operator} {self.status}>"
