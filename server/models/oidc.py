"""Single sign-on: identities at the OpenID Connect provider, and groups that give roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User


class OidcIdentity(db.Model):  # type: ignore[name-defined,misc]
    """A person at the provider (issuer + subject), linked to the one account they use here.

    The subject is the provider's stable id for the person; names and e-mail addresses can
    change or be reused, so they never decide which account someone signs in to.
    """

    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_oidc_identity_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    groups: Mapped[str] = mapped_column(Text, default="[]")  # JSON: at the last sign-in

    user: Mapped[User] = relationship(lazy="joined")


class GroupRole(db.Model):  # type: ignore[name-defined,misc]
    """A group at the provider whose members hold a role here (read at every sign-in)."""

    __tablename__ = "oidc_group_role"

    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("role.name", ondelete="CASCADE"),
                                           primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
