"""The second factor: TOTP secrets (kept encrypted), codes accepted once, recovery codes,
which roles must have one, and an administrator's reset of a lost device.

A code is checked against the time steps either side of now; the step it matched is kept,
and an UPDATE that only succeeds for a later step takes it, so a code (or an earlier one)
never works twice, even when two sign-ins send it at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Set
from typing import Protocol

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from ..database import begin_write
from ..errors import InvalidInput
from ..extensions import db
from ..models import RecoveryCode, Role, User, utcnow
from . import system_log, users
from .actors import Actor

ALWAYS = frozenset({"admin", "process_owner"})  # roles that need a second factor, always
ISSUER = "Plaint"
RECOVERY_CODES = 10
WINDOW = 1  # time steps accepted either side of now, for clocks a little apart
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class HeldRole(Protocol):
    """A role as the second-factor rule reads it (a `Role`, or the signed-in person's)."""

    @property
    def requires_second_factor(self) -> bool: ...


class Account(Protocol):
    """What the second-factor rule reads of an account: a `User`, or the signed-in person."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def totp_secret(self) -> str | None: ...
    @property
    def role_names(self) -> Set[str]: ...
    @property
    def roles(self) -> Iterable[HeldRole]: ...


def _fernet() -> Fernet:
    """The key that encrypts TOTP secrets, derived from SECRET_KEY for this purpose only."""
    raw = hashlib.sha256(b"plaint totp secret key\0"
                         + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(secret: str) -> str:
    """Encrypt a TOTP secret for storing (in the database or the session)."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str | None) -> str | None:
    """The TOTP secret in a sealed token; None when it cannot be read (key changed)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def new_secret() -> str:
    """A fresh TOTP secret (160 bits, base32)."""
    return pyotp.random_base32(32)


def qr_svg(user: Account, secret: str) -> str:
    """The enrolment QR code as inline SVG (no script, no image request)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return str(segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code to scan")))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def required(user: Account) -> bool:
    """Whether this account must have a second factor (its roles say so)."""
    if user.role_names & ALWAYS:
        return True
    return any(role.requires_second_factor for role in user.roles)


def enrolled(user: Account) -> bool:
    """Whether the account has a second factor."""
    return user.totp_secret is not None


def _digits(code: str) -> str:
    return "".join(ch for ch in code or "" if not ch.isspace())


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step within the window whose code this is, if any."""
    totp = pyotp.TOTP(secret)
    step = int(now // totp.interval)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def enrol(user_id: int, secret: str, code: str, by: Actor) -> list[str]:
    """Give an account the second factor `secret` once `code` shows the app has it.

    Returns the recovery codes, to be shown once; only their hashes are kept.
    """
    code = _digits(code)
    step = _matching_step(secret, code, time.time()) if code.isdigit() else None
    if step is None:
        message = _("That code is not right. Enter the 6-digit code your app shows now.")
        raise InvalidInput(message, {"code": [message]})
    begin_write()
    user = db.session.get(User, user_id)
    assert user is not None
    user.totp_secret = seal(secret)
    user.totp_last_step = step
    user.totp_enrolled_at = utcnow()
    codes = _new_recovery_codes(user.id)
    system_log.record(by, "account.second_factor_enrolled",
                      f"{user.username} set up a second factor", {"username": user.username})
    db.session.commit()
    return codes


def _new_recovery_codes(user_id: int) -> list[str]:
    """Replace the account's recovery codes with fresh ones, in the caller's transaction."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4))
                      for _ in range(4)) for _ in range(RECOVERY_CODES)]  # 78 bits each
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash(user_id, c))
                       for c in codes)
    return codes


def _hash(user_id: int, code: str) -> str:
    # Random codes of 78 bits need no slow hash; the account id keeps equal codes apart.
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"{user_id}:{normal}".encode()).hexdigest()


def check(user: User, code: str) -> bool:
    """Whether `code` is the account's current TOTP code or an unused recovery code.

    Either is used up by a success, in its own committed write.
    """
    begin_write()
    typed = _digits(code)
    ok = _take_step(user, typed) if typed.isdigit() and len(typed) == 6 else \
        _take_recovery_code(user, code)
    db.session.commit()
    return ok


def _take_step(user: User, code: str) -> bool:
    secret = unseal(user.totp_secret)
    step = _matching_step(secret, code, time.time()) if secret else None
    if step is None:
        return False
    taken = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                   User.totp_last_step < step))
        .values(totp_last_step=step))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def _take_recovery_code(user: User, code: str) -> bool:
    if not code or len(code) > 64:
        return False
    taken = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _hash(user.id, code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def recovery_codes_left(user: Account) -> int:
    """How many of the account's recovery codes are still unused."""
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def reset(username: str, by: Actor | str) -> User:
    """Remove an account's second factor and recovery codes and end its sessions (a lost
    device); if its roles need one, it must set one up at its next sign-in."""
    begin_write()
    user = users.get_user(username)
    had = enrolled(user)
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    users.end_sessions(user.id)
    system_log.record(by, "account.second_factor_reset",
                      f"Second factor of {user.username} removed; signed out everywhere",
                      {"username": user.username, "had_second_factor": had})
    db.session.commit()
    return user


def required_roles() -> list[Role]:
    """The roles an administrator chose to need a second factor (besides ALWAYS)."""
    return list(db.session.scalars(select(Role).where(Role.requires_second_factor.is_(True))
                                   .order_by(Role.name)))


def set_required_roles(names: Iterable[str], by: Actor) -> list[str]:
    """Make exactly these roles (and ALWAYS) need a second factor; return the chosen names."""
    wanted = set(names)
    begin_write()
    roles = list(db.session.scalars(select(Role).order_by(Role.name)))
    unknown = wanted - {role.name for role in roles}
    if unknown:
        db.session.rollback()
        message = _("Unknown role(s): %(unknown)s.", unknown=", ".join(sorted(unknown)))
        raise InvalidInput(message, {"roles": [message]})
    before = sorted(role.name for role in roles if role.requires_second_factor)
    for role in roles:
        role.requires_second_factor = role.name in wanted and role.name not in ALWAYS
    after = sorted(role.name for role in roles if role.requires_second_factor)
    system_log.record(by, "security.second_factor_roles",
                      "Roles that need a second factor: " + (", ".join(after) or "-"),
                      {"before": before, "after": after, "always": sorted(ALWAYS)})
    db.session.commit()
    return after
