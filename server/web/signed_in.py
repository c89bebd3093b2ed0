"""The signed-in member of staff as every request sees them: read in one Core query.

Flask-Login asks for the user on every request. Loading the ORM `User` with its roles cost
more than the query itself, and the object went stale at the first write of the request
(begin_write rolls the read back), so a page after a write read it again. Requests only
read who is signed in; what changes an account loads the `User` row itself.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Role, User
from ..models.user import user_roles

_USERS = User.__table__
_ROLES = Role.__table__
# One row per role held (one with no role for an account without roles).
_SIGNED_IN = (
    select(_USERS.c.id, _USERS.c.username, _USERS.c.display_name, _USERS.c.email,
           _USERS.c.active, _USERS.c.session_epoch, _USERS.c.language, _USERS.c.totp_secret,
           _ROLES.c.name.label("role_name"), _ROLES.c.requires_second_factor)
    .select_from(_USERS.outerjoin(user_roles, user_roles.c.user_id == _USERS.c.id)
                 .outerjoin(_ROLES, _ROLES.c.name == user_roles.c.role_name))
    .where(_USERS.c.id == bindparam("id")))


class HeldRole(NamedTuple):
    """A role the signed-in person holds, with what services/mfa.py asks of it."""

    name: str
    requires_second_factor: bool


class SignedIn:
    """Who is signed in, as read at the start of this request (read-only)."""

    __slots__ = ("active", "display_name", "email", "id", "language", "role_names", "roles",
                 "session_epoch", "totp_secret", "username")

    is_authenticated = True
    is_anonymous = False

    def __init__(self, id: int, username: str, display_name: str, email: str | None,
                 active: bool, session_epoch: int, language: str | None,
                 totp_secret: str | None, roles: tuple[HeldRole, ...]) -> None:
        self.id = id
        self.username = username
        self.display_name = display_name
        self.email = email
        self.active = active
        self.session_epoch = session_epoch
        self.language = language
        self.totp_secret = totp_secret
        self.roles = roles
        self.role_names = frozenset(role.name for role in roles)

    @property
    def is_active(self) -> bool:
        """Flask-Login's question: only active accounts are ever loaded."""
        return self.active

    def get_id(self) -> str:
        """What the session holds: the account and its session epoch (as User.get_id)."""
        return f"{self.id}:{self.session_epoch}"

    def has_role(self, *names: str) -> bool:
        """Whether the person holds any of the named roles."""
        return not self.role_names.isdisjoint(names)

    def __repr__(self) -> str:
        return f"<SignedIn {self.username}>"


def load(account: int, epoch: int) -> SignedIn | None:
    """The account if it is active and still at this session epoch, else None."""
    rows = db.session.connection().execute(_SIGNED_IN, {"id": account}).all()
    if not rows:
        return None
    first = rows[0]
    if not first.active or first.session_epoch != epoch:
        return None
    return SignedIn(first.id, first.username, first.display_name, first.email, first.active,
                    first.session_epoch, first.language, first.totp_secret,
                    tuple(HeldRole(row.role_name, bool(row.requires_second_factor))
                          for row in rows if row.role_name is not None))
