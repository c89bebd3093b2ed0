"""Documents attached to a case by the complainant or by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded file. The bytes live in the database so every web process sees them."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    # Who added it: "complainant", "user:<id>", ...; where: intake, tracking, staff.
    added_by: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Only staff see internal documents; the complainant's own uploads are never internal.
    internal: Mapped[bool] = mapped_column(default=False)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    def __repr__(self) -> str:
        return f"<Attachment {self.filename} of case {self.case_id}>"
