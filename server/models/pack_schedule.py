"""The management-review pack's monthly schedule: who receives it, and the months sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

FORMATS = ("pdf", "xlsx")


class PackRecipient(db.Model):  # type: ignore[name-defined,misc]
    """Someone the monthly pack goes to: a member of staff or an e-mail address."""

    __tablename__ = "pack_recipient"
    __table_args__ = (UniqueConstraint("user_id", name="uq_pack_recipient_user"),
                      UniqueConstraint("email", name="uq_pack_recipient_email"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # A member of staff (their current address is used at each sending) ...
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"))
    # ... or an address outside Plaint (a board member, the regulator's liaison).
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))  # "en" or "ar"
    formats: Mapped[str] = mapped_column(String(16))  # "pdf", "xlsx" or "pdf,xlsx"
    added_by: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def format_list(self) -> list[str]:
        """The formats attached, in a fixed order."""
        chosen = set(self.formats.split(","))
        return [name for name in FORMATS if name in chosen]


class PackRun(db.Model):  # type: ignore[name-defined,misc]
    """One month's pack sent by the schedule; the unique month makes it happen once."""

    __tablename__ = "pack_run"
    __table_args__ = (UniqueConstraint("month", name="uq_pack_run_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # the month covered: 2026-03
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    messages: Mapped[int] = mapped_column(default=0)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ran_by: Mapped[str] = mapped_column(String(255))
