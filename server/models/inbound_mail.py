"""E-mails read from the complaints mailbox, each with what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# What a message became: a new case, information added to a case, ignored (auto-reply,
# bounce, loop, a copy already read), kept for a person, or discarded by a person. A case
# or an addition a person made from a kept message has `handled_by` set.
CASE, ADDED, IGNORED, HELD, DISCARDED = "case", "added", "ignored", "held", "discarded"
OUTCOMES = (HELD, CASE, ADDED, IGNORED, DISCARDED)


class InboundMail(db.Model):  # type: ignore[name-defined,misc]
    """One message read from the mailbox, its raw bytes kept (within the size limit).

    The server's UID with the folder's UIDVALIDITY names the message in the mailbox:
    unique, so a message read twice (a crash before it was flagged) is recorded once.
    """

    __tablename__ = "inbound_mail"
    __table_args__ = (
        UniqueConstraint("folder", "uidvalidity", "uid", name="uq_inbound_mail_uid"),
        Index("ix_inbound_mail_outcome_id", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    sender: Mapped[str | None] = mapped_column(String(254))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int] = mapped_column()
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: over the size limit
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)  # why ignored or kept; refused documents
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"),
                                                index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[str | None] = mapped_column(String(200))  # who filed or discarded it
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<InboundMail {self.id} {self.outcome}>"


class MailboxLease(db.Model):  # type: ignore[name-defined,misc]
    """Whose turn it is to read a mailbox: one reader at a time across every process.

    A reader takes the row with a conditional UPDATE (free, expired, or already its own)
    and renews it while it works; a reader that died frees it when `held_until` passes.
    """

    __tablename__ = "mailbox_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    held_by: Mapped[str | None] = mapped_column(String(64))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
