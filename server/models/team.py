"""Teams (or branches) that own cases, who is in them, and who may read a confidential case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

team_members = Table(
    "team_member",
    db.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Team(db.Model):  # type: ignore[name-defined,misc]
    """A team or branch: its cases are read by its members (services/visibility.py)."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What a diagram's `team` data variable names, and what people read.
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members = relationship("User", secondary=team_members, lazy="selectin",
                           order_by="User.username")


class TeamRoute(db.Model):  # type: ignore[name-defined,misc]
    """The admin's routing table: a case of this category belongs to this team.

    Used when the diagram names no team (its `team` data variable is unset).
    """

    __tablename__ = "team_route"

    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))


class CaseViewer(db.Model):  # type: ignore[name-defined,misc]
    """A person named on a confidential case: one of the few who may read it."""

    __tablename__ = "case_viewer"

    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
