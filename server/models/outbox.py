"""The outbox: e-mails written with the step that caused them, delivered later with retries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import Claimable, UTCDateTime, utcnow

PENDING, SENT, FAILED, HELD = "pending", "sent", "failed", "held"
STATUSES = (PENDING, SENT, FAILED, HELD)


class OutboxMessage(Claimable, db.Model):  # type: ignore[name-defined,misc]
    """One e-mail to one recipient, rendered when its step committed.

    Only pending messages have a `next_attempt_at`, so the delivery job's "anything
    due?" probe walks that index over pending rows alone.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case.id", ondelete="SET NULL"), index=True)
    event: Mapped[str] = mapped_column(String(64))  # the template: "acknowledgement", ...
    element: Mapped[str | None] = mapped_column(String(255))  # the diagram element that asked
    language: Mapped[str] = mapped_column(String(8))
    # "complainant", "assignee", or the role/lane the diagram named (notifyTo).
    recipient_kind: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str | None] = mapped_column(String(254))  # None: nobody to send to (held)
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255))  # the same on every attempt
    # The seed of the complainant's secret link (services/links.py): the link is made
    # from it and the server's secret key when the mail is sent, and it is cleared then.
    # The stored bodies hold a placeholder, so the database never holds the link itself.
    link_seed: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.event} {self.status}>"


class OutboxAttachment(db.Model):  # type: ignore[name-defined,misc]
    """A file sent with an outbox message, made when the message was written.

    Like the bodies, it is rendered at enqueue and kept with the row, so every attempt
    sends the same bytes; services/outbox.py limits the size a message may carry.
    """

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column()
