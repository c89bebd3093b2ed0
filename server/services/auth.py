"""Signing in: password checks, slowed down after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ..database import begin_write
from ..errors import Forbidden, InvalidInput, TooManyAttempts
from ..extensions import db
from ..models import LoginAttempt, User, utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
_WRONG = "The username or password is not right."
_dummy_hash: list[str] = []


def _failures(column: Any, value: str) -> int:
    since = utcnow() - WINDOW
    return int(db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
        column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))) or 0)


def authenticate(username: str, password: str, address: str) -> User:
    """Return the active user with these credentials, or raise a message to show."""
    username = (username or "").strip().lower()[:64]
    address = (address or "unknown")[:64]
    if not username or not password:
        raise InvalidInput("Enter your username and password.", {
            **({"username": ["Enter your username."]} if not username else {}),
            **({"password": ["Enter your password."]} if not password else {})})
    if _failures(LoginAttempt.username, username) >= MAX_FAILURES_PER_ACCOUNT or \
            _failures(LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("Too many failed sign-ins. Wait 15 minutes and try again, or ask an "
                        "administrator to reset your password.")
    user = db.session.scalar(select(User).where(User.username == username))
    ok = user.check_password(password) if user is not None else _burn(password)
    begin_write()
    db.session.add(LoginAttempt(username=username, address=address, succeeded=ok, at=utcnow()))
    db.session.commit()
    if not ok or user is None:
        raise InvalidInput(_WRONG, {"password": [_WRONG]})
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise Forbidden("This account is switched off. Ask an administrator.")
    return user


def _burn(password: str) -> bool:
    """Spend the time a real check costs, so a missing account is not told apart by timing."""
    from werkzeug.security import check_password_hash, generate_password_hash

    if not _dummy_hash:
        _dummy_hash.append(generate_password_hash("not-a-password"))
    check_password_hash(_dummy_hash[0], password)
    return False
