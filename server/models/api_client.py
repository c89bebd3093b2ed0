"""API clients: other systems that call /api/v1 with a bearer token, and what they spent.

A client's token is shown once; only its SHA-256 is stored. The rate window and the
idempotency answers live in the database so that every gunicorn worker (and every
machine) counts and replays the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class ApiClient(db.Model):  # type: ignore[name-defined,misc]
    """Another system allowed to call the API, with its scopes and limits."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="")  # space-separated
    # The member of staff whose roles work-scope calls act with (required for "work").
    acting_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(16))  # the token's start, to recognise it
    rate_limit: Mapped[int] = mapped_column(Integer, default=60)  # requests per minute
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_set(self) -> frozenset[str]:
        """The client's scopes."""
        return frozenset(self.scopes.split())

    @property
    def active(self) -> bool:
        """Whether the client's token still opens the API."""
        return self.revoked_at is None


class ApiRateWindow(db.Model):  # type: ignore[name-defined,misc]
    """How many calls a client made in the current one-minute window (one row per client)."""

    __tablename__ = "api_rate_window"

    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"),
                                           primary_key=True)
    window: Mapped[int] = mapped_column(Integer, default=0)  # minutes since the epoch
    count: Mapped[int] = mapped_column(Integer, default=0)


class ApiIdempotency(db.Model):  # type: ignore[name-defined,misc]
    """The answer to a POST sent with an Idempotency-Key, kept for 24 hours.

    `status` 0 means the first request with the key is still being answered.
    """

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
