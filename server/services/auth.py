"""Signing in and out: password checks paced per account and address, in a way that
parallel guesses cannot race and an attacker elsewhere cannot turn against the owner."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..database import begin_write
from ..errors import Forbidden, InvalidInput, TooManyAttempts
from ..extensions import db
from ..models import SignInThrottle, User, utcnow
from . import users

ADDRESS_ONLY = ""  # the username of an address's own bucket: no account is called ""
CODE_BUCKET = "code:"  # the start of an account's second-factor buckets
_WRONG = "The username or password is not right."
_dummy_hash: list[str] = []
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pace:
    """How one kind of bucket slows guessing: free attempts, then doubling pauses."""

    limit: int  # failures allowed before the first pause
    forget: timedelta  # failures are forgotten after this long without an attempt
    first_pause: int = 16  # seconds; each failure after the limit doubles it
    longest_pause: int = 15 * 60

    def pause(self, failures: int) -> timedelta | None:
        """The pause that follows this many failures; None below the limit."""
        if failures < self.limit:
            return None
        doublings = min(failures - self.limit, 32)  # the cap is reached long before this
        return timedelta(seconds=min(self.first_pause * 2 ** doublings, self.longest_pause))


# One account from one address: the owner's own address is never paused by guesses made
# from elsewhere. One address over all accounts: limits an address spraying many names.
PER_ACCOUNT = Pace(limit=5, forget=timedelta(days=1))
PER_ADDRESS = Pace(limit=20, forget=timedelta(hours=1))


def authenticate(username: str, password: str, address: str) -> User:
    """Return the active user with these credentials, or raise a message to show."""
    username = (username or "").strip().lower()[:64]
    address = (address or "unknown")[:64]
    if not username or not password:
        raise InvalidInput(_("Enter your username and password."), {
            **({"username": [_("Enter your username.")]} if not username else {}),
            **({"password": [_("Enter your password.")]} if not password else {})})
    _take_turn(username, address)
    user = db.session.scalar(select(User).where(User.username == username))
    # The hash and the epoch come from one read: a password reset committed while the
    # check runs moves the epoch on, and this sign-in must not outlive it.
    epoch = user.session_epoch if user is not None else None
    ok = user.check_password(password) if user is not None else _burn(password)
    if not ok or user is None:
        db.session.rollback()
        log.info("failed sign-in for %s from %s", username, address)
        raise InvalidInput(_WRONG, {"password": [_WRONG]})
    _succeeded(username, address)
    if user.session_epoch != epoch:
        message = _("Your account changed while you were signing in. Sign in again.")
        raise InvalidInput(message, {"password": [message]})
    if not user.active:
        raise Forbidden(_("This account is switched off. Ask an administrator."))
    return user


def code_turn(username: str, address: str) -> None:
    """Count a second-factor code before it is checked, or refuse it (paced like passwords).

    Codes have buckets of their own, so a right password does not forgive wrong codes.
    """
    _take_turn(_code_bucket(username), (address or "unknown")[:64])


def code_passed(username: str, address: str) -> None:
    """A right second-factor code: take its count back, as a right password does."""
    _succeeded(_code_bucket(username), (address or "unknown")[:64])


def _code_bucket(username: str) -> str:
    return (CODE_BUCKET + username)[:64]  # usernames hold no ":", so no account is named so


def signed_in(user_id: int) -> None:
    """Note when an account last signed in (dormant accounts count from it)."""
    begin_write()
    db.session.execute(update(User).where(User.id == user_id).values(last_sign_in_at=utcnow()))
    db.session.commit()


def sign_out(user_id: int) -> None:
    """End every session of an account: this browser's, its other devices', copied cookies."""
    begin_write()
    users.end_sessions(user_id)
    db.session.commit()


def _take_turn(username: str, address: str) -> None:
    """Count this attempt as a failure before its password is checked, or refuse it.

    Counting first, under the buckets' row locks (the write lock on SQLite), is what makes
    the limit hold: however many guesses arrive at once, each sees the count the ones
    before it left, so no more than the limit reach the password check. A success takes
    its count back (_succeeded).
    """
    begin_write()
    now = utcnow()
    buckets = _locked_buckets(username, address, now)
    for bucket, pace in buckets:
        if bucket.last_attempt_at < now - pace.forget:
            bucket.failures, bucket.blocked_until = 0, None
    until = max((b.blocked_until for b, _pace in buckets
                 if b.blocked_until is not None and b.blocked_until > now), default=None)
    if until is not None:
        db.session.rollback()
        log.info("sign-in for %s from %s refused until %s", username, address, until)
        raise TooManyAttempts(_paused(until - now))
    for bucket, pace in buckets:
        bucket.failures += 1
        bucket.last_attempt_at = now
        if (pause := pace.pause(bucket.failures)) is not None:
            # Set now, not after the check: the attempts behind this one wait for it.
            bucket.blocked_until = now + pause
    db.session.commit()


def _succeeded(username: str, address: str) -> None:
    """Clear the account's failures at this address and take back the address's count."""
    begin_write()
    now = utcnow()
    for bucket, pace in _locked_buckets(username, address, now):
        if bucket.username == ADDRESS_ONLY:
            bucket.failures = max(bucket.failures - 1, 0)
            if bucket.failures < pace.limit:
                bucket.blocked_until = None
        else:
            bucket.failures, bucket.blocked_until = 0, None
    # Buckets of names nobody uses would pile up: drop those long quiet and not paused.
    db.session.execute(delete(SignInThrottle).where(
        SignInThrottle.last_attempt_at < now - max(PER_ACCOUNT.forget, PER_ADDRESS.forget),
        or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until < now)))
    db.session.commit()


def _locked_buckets(username: str, address: str,
                    now: datetime) -> list[tuple[SignInThrottle, Pace]]:
    """The account's bucket at this address and the address's own, made if new, locked.

    Inside begin_write(). Rows are made and locked in one order (the address's first),
    so two sign-ins from one address cannot deadlock on PostgreSQL.
    """
    rows = [{"username": name, "address": address, "failures": 0, "last_attempt_at": now}
            for name in (ADDRESS_ONLY, username)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(postgresql.insert(SignInThrottle).values(rows)
                           .on_conflict_do_nothing())
    else:
        db.session.execute(sqlite.insert(SignInThrottle).values(rows).on_conflict_do_nothing())
    buckets = db.session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.address == address,
               SignInThrottle.username.in_([ADDRESS_ONLY, username]))
        .order_by(SignInThrottle.username).with_for_update()
        .execution_options(populate_existing=True)).all()
    return [(b, PER_ADDRESS if b.username == ADDRESS_ONLY else PER_ACCOUNT) for b in buckets]


def _paused(wait: timedelta) -> str:
    """The refusal, saying when to try again (seconds, then whole minutes rounded up)."""
    seconds = math.ceil(wait.total_seconds())
    when = ngettext("%(num)d second", "%(num)d seconds", seconds) if seconds < 60 else \
        ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))
    return _("Too many failed sign-ins. Try again in %(when)s, or ask an administrator to "
             "set a new password.", when=when)


def _burn(password: str) -> bool:
    """Spend the time a real check costs, so a missing account is not told apart by timing."""
    from werkzeug.security import check_password_hash, generate_password_hash

    if not _dummy_hash:
        _dummy_hash.append(generate_password_hash("not-a-password"))
    check_password_hash(_dummy_hash[0], password)
    return False
