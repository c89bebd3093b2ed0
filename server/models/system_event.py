"""The system log: changes to settings that are not about one case."""

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
