"""Documents attached to a case by the complainant or by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """One uploaded file. The bytes live in the database so every web process sees them.

    A document sent with an intake form that came back with errors has no case yet: it
    is staged, found again only by the keyed hash of its staging token and the
    submitter's session, until the form goes through or the staging expires.
    """

    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint("case_id IS NOT NULL OR staging_token_hash IS NOT NULL",
                        name="ck_attachment_case_or_staged"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"),
                                                index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    # Who added it: "complainant" or a username; where: intake, tracking, staff.
    added_by: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Only staff see internal documents; the complainant's own uploads are never internal.
    internal: Mapped[bool] = mapped_column(default=False)
    staging_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    staged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    def __repr__(self) -> str:
        return f"<Attachment {self.filename} of case {self.case_id}>"
