"""Process versions: immutable bundles of diagrams, forms and the parsed spec."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class ProcessVersion(db.Model):  # type: ignore[name-defined,misc]
    """One deployed version of the complaint process. Never changed once written."""

    __tablename__ = "process_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    process_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    spec_json: Mapped[str] = mapped_column(Text)
    role_map: Mapped[dict[str, str]] = mapped_column(JSON)
    state_format: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)

    files: Mapped[list[ProcessFile]] = relationship(
        back_populates="version", order_by="ProcessFile.name", cascade="all, delete-orphan")

    def file(self, name: str) -> ProcessFile | None:
        """Return one of this version's files by name."""
        return next((f for f in self.files if f.name == name), None)

    def __repr__(self) -> str:
        return f"<ProcessVersion {self.number} {self.process_id}>"


class ProcessFile(db.Model):  # type: ignore[name-defined,misc]
    """A BPMN, DMN or form file as it was deployed."""

    __tablename__ = "process_file"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # bpmn, dmn, form
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))

    version: Mapped[ProcessVersion] = relationship(back_populates="files")
