"""Staff accounts: creating them and setting passwords."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from ..database import begin_write
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..models import Role, User

MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def generate_password() -> str:
    """A random password to hand out once (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Passwords need at least {MIN_PASSWORD} characters.",
                           {"password": [f"Use at least {MIN_PASSWORD} characters."]})


def create_user(username: str, roles: list[str], password: str | None = None,
                display_name: str | None = None, email: str | None = None) -> tuple[User, str]:
    """Create an account; return it with its password (generated when none is given)."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("Usernames are 2-64 lowercase letters, digits, dots, dashes or "
                           "underscores.", {"username": ["Use letters, digits, . _ or -."]})
    password = password or generate_password()
    _check_password(password)
    begin_write()
    if db.session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"There is already an account called {username}.")
    known = {r.name: r for r in db.session.scalars(select(Role))}
    unknown = [r for r in roles if r not in known]
    if unknown or not roles:
        raise InvalidInput(f"Unknown role(s): {', '.join(unknown) or '(none given)'}. "
                           f"Roles: {', '.join(sorted(known))}.")
    user = User(username=username, display_name=display_name or username, email=email,
                roles=[known[r] for r in roles])
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user, password


def reset_password(username: str, password: str | None = None) -> str:
    """Set a new password for an account; return it."""
    password = password or generate_password()
    _check_password(password)
    begin_write()
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise InvalidInput(f"There is no account called {username}.")
    user.set_password(password)
    db.session.commit()
    return password
