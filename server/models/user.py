"""Staff accounts, their roles, and which diagram lanes map to which role."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES: dict[str, str] = {
    "handler": "Handler: works the tasks of the complaints process",
    "supervisor": "Supervisor: escalated and approval tasks, reassigns work",
    "complaints_manager": "Complaints manager: the second level of escalation",
    "specialist": "Specialist: consulted during investigations (legal, compliance, product)",
    "process_owner": "Process owner: edits and deploys diagrams and forms",
    "admin": "Administrator: users, roles, escalation policy, calendar",
    "auditor": "Auditor: reads everything, changes nothing",
    "privacy_officer": "Privacy officer: data-subject requests (copies and erasure)",
}

user_roles = Table(
    "user_role",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_name", ForeignKey("role.name", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model):  # type: ignore[name-defined,misc]
    """A role; BPMN lanes map to roles, and tasks go to the people who hold them."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    # Chosen by an administrator on the security page; admin and process_owner always need
    # a second factor whatever this says (services/mfa.py ALWAYS).
    requires_second_factor: Mapped[bool] = mapped_column(default=False, server_default=false())


class LaneMapping(db.Model):  # type: ignore[name-defined,misc]
    """A lane name that maps to a role of a different name."""

    __tablename__ = "lane_mapping"

    lane: Mapped[str] = mapped_column(String(255), primary_key=True)
    role_name: Mapped[str] = mapped_column(ForeignKey("role.name", ondelete="CASCADE"))


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A member of staff who signs in."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every session and remember cookie: raising it ends them all (see get_id).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The language Plaint speaks to them ("en", "ar"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    # The TOTP secret, encrypted under a key derived from SECRET_KEY (services/mfa.py);
    # None: no second factor. The last time step accepted, so no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Dormant accounts (services/dormant.py) count from the latest of these and created_at.
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # switched on again

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login refuses sign-in to deactivated accounts."""
        return self.active

    def get_id(self) -> str:
        """What a session holds: the account and its epoch, checked on every request.

        Flask-Login cookies are signed, not stored, so a captured one stays valid until
        what it names changes; the user loader refuses it once the epoch has moved on.
        """
        return f"{self.id}:{self.session_epoch}"

    @property
    def role_names(self) -> set[str]:
        """The names of this user's roles."""
        return {r.name for r in self.roles}

    def has_role(self, *names: str) -> bool:
        """Whether the user holds any of the named roles."""
        return bool(self.role_names.intersection(names))

    def set_password(self, password: str) -> None:
        """Store only a salted hash of the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Check a password against the stored hash."""
        return check_password_hash(self.password_hash, password)


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A one-time code that stands in for the second factor; only its SHA-256 is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(db.Model):  # type: ignore[name-defined,misc]
    """Recent failed sign-ins of one bucket: an account from one address, or an address.

    One row per bucket, changed only under its row lock (the write lock on SQLite), so
    parallel guesses are counted one after another before any password is checked.
    """

    __tablename__ = "sign_in_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)  # "": the address
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
