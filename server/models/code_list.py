"""Administered code lists (products, categories, causes) and the systemic-issue alerts.

Reports group on codes; people see a code's label in their language. A code is never
deleted once used, only switched off, so old cases keep their label.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# The lists Plaint knows, and the form field whose answers each one titles.
LISTS = ("products", "categories", "causes")
FIELD_LISTS = {"product": "products", "category": "categories", "root_cause": "causes",
               "cause": "causes"}


class CodeEntry(db.Model):  # type: ignore[name-defined,misc]
    """One code of an administered list, with its English and Arabic labels."""

    __tablename__ = "code_entry"
    __table_args__ = (UniqueConstraint("list_name", "code", name="uq_code_entry_list_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(200))
    label_ar: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def label(self, locale: str | None) -> str:
        """The label in a language (Arabic when asked and given, else English)."""
        return self.label_ar if (locale or "").startswith("ar") and self.label_ar \
            else self.label_en


class SystemicAlert(db.Model):  # type: ignore[name-defined,misc]
    """A category or product whose complaints rose beyond its recent range, alerted once."""

    __tablename__ = "systemic_alert"
    __table_args__ = (UniqueConstraint("dimension", "code", "raised_on",
                                       name="uq_systemic_alert_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16))  # "category" or "product"
    code: Mapped[str] = mapped_column(String(64))
    raised_on: Mapped[date] = mapped_column(Date)  # the day the job saw the rise
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    count: Mapped[int] = mapped_column()  # complaints in the 7 days before raised_at
    mean: Mapped[float] = mapped_column()  # weekly mean of the 8 weeks before
    stdev: Mapped[float] = mapped_column()
    threshold: Mapped[float] = mapped_column()  # what the count had to exceed
