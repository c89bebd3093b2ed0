"""The organisation's business calendar: time zone, working week, holidays and special dates."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class BusinessCalendar(db.Model):  # type: ignore[name-defined,misc]
    """The one calendar of the installation (row id 1): where and when the organisation works."""

    __tablename__ = "business_calendar"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    time_zone: Mapped[str] = mapped_column(String(64))
    # Public holidays come from the `holidays` package for this country (None: no holidays).
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    # Dates on pages, e-mails and letters also in the Hijri (Umm al-Qura) calendar.
    show_hijri: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255), default="system")


class WorkingHours(db.Model):  # type: ignore[name-defined,misc]
    """The opening hours of one working weekday; a weekday without a row is not worked."""

    __tablename__ = "working_hours"

    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendar.id", ondelete="CASCADE"), primary_key=True)
    weekday: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # Monday = 0
    opens: Mapped[time] = mapped_column()
    closes: Mapped[time] = mapped_column()


class CalendarDate(db.Model):  # type: ignore[name-defined,misc]
    """A dated exception to the working week, from first_day to last_day inclusive.

    kind is "holiday" (a custom day off), "working" (works although a public holiday or
    the weekend would close it; opens/closes empty means the weekday's usual hours) or
    "hours" (reduced hours such as Ramadan, or a half day, on days that are worked).
    """

    __tablename__ = "calendar_date"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    first_day: Mapped[date] = mapped_column(index=True)
    last_day: Mapped[date] = mapped_column(index=True)
    opens: Mapped[time | None] = mapped_column()
    closes: Mapped[time | None] = mapped_column()
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
