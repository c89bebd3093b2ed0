"""Process drafts: one person's unfinished edit of a process, kept until deployed or discarded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .process import ProcessVersion
from .types import UTCDateTime, utcnow


class ProcessDraft(db.Model):  # type: ignore[name-defined,misc]
    """A working copy of a process's files that belongs to one user.

    A draft may be broken: it is checked on every save, and only a draft that passes every
    check becomes a version. `base_version` is what it was made from (the diff of a deploy
    is taken against it).
    """

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The role its tasks outside any lane go to once deployed (None: the deploy's default).
    default_role: Mapped[str | None] = mapped_column(String(64))

    base_version: Mapped[ProcessVersion | None] = relationship()
    files: Mapped[list[DraftFile]] = relationship(
        back_populates="draft", order_by="DraftFile.name", cascade="all, delete-orphan")

    def file(self, name: str) -> DraftFile | None:
        """Return one of the draft's files by name."""
        return next((f for f in self.files if f.name == name), None)

    def contents(self) -> dict[str, bytes]:
        """The draft's files as a bundle: name -> bytes."""
        return {f.name: f.content for f in self.files}

    def __repr__(self) -> str:
        return f"<ProcessDraft {self.id} of user {self.owner_id}>"


class DraftFile(db.Model):  # type: ignore[name-defined,misc]
    """A BPMN, DMN or form file of a draft, as last saved."""

    __tablename__ = "process_draft_file"
    __table_args__ = (UniqueConstraint("draft_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("process_draft.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    draft: Mapped[ProcessDraft] = relationship(back_populates="files")
