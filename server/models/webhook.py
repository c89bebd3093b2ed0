"""Webhooks: subscriptions of other systems to case events, and each delivery to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import Claimable, UTCDateTime, utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)


class WebhookSubscription(db.Model):  # type: ignore[name-defined,misc]
    """An endpoint of another system that receives the events it subscribed to, signed.

    The signing secret is not stored: `secret_seed` is random, and the secret is made from
    it and the server's secret key when needed (services/webhooks.py), so someone who can
    read the database but not the key cannot sign events as Plaint.
    """

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[str] = mapped_column(Text)  # space-separated public event types
    personal_data: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    secret_seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(255))

    @property
    def types(self) -> list[str]:
        """The event types subscribed to."""
        return self.event_types.split()

    def __repr__(self) -> str:
        return f"<WebhookSubscription {self.name}>"


class WebhookDelivery(Claimable, db.Model):  # type: ignore[name-defined,misc]
    """One event for one subscription, rendered when its step committed, posted later.

    Only pending deliveries have a `next_attempt_at`, so the delivery job's "anything
    due?" probe walks that index over pending rows alone.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_subscription_id_id", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))  # the webhook-id, the same every attempt
    event_type: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, rendered at enqueue
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    last_status: Mapped[int | None] = mapped_column()  # the HTTP status of the last answer
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.event_type} {self.status}>"
