"""Tracking links: the complainant's secret token, and how the database avoids holding it.

A case stores only the SHA-256 of its token. E-mails written before they are sent hold a
link seed instead of the token, and the link is made from it only when the e-mail goes
out, so someone who can read the database but not the instance's secret key cannot open
a tracking page from the outbox. A seed is one of two kinds:

* a random seed (the e-mails of the step that made the token): the token is the seed
  keyed with the server's secret key (HMAC-SHA256), so the e-mail carries the very link
  the complainant was shown;
* ``case:<id>`` (every later e-mail to the complainant): the link is a *signed* one,
  ``<case id>.<expiry>.<signature>``, made at sending. The signature covers the case's
  current token hash, so a new token (a lost link asked for again at /track) revokes
  every signed link sent before it, as it revokes the old token; and it expires after
  SIGNED_LINK_DAYS, while the token itself does not.

A random token is URL-safe base64 and never holds a ".", so the two never look alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Case, utcnow

_PURPOSE = b"plaint tracking link\x00"
_SIGNED_PURPOSE = b"plaint signed tracking link\x00"
CASE_SEED = "case:"
SIGNED_LINK_DAYS = 120  # long enough to answer a decision and ask for a review


def new_seed() -> str:
    """A fresh, random link seed (not secret on its own)."""
    return secrets.token_hex(16)


def case_seed(case_id: int) -> str:
    """The seed of a signed link to a case, made when the e-mail holding it is sent."""
    return f"{CASE_SEED}{case_id}"


def _mac(purpose: bytes, message: str) -> str:
    key = current_app.config["SECRET_KEY"]
    digest = hmac.new(key.encode("utf-8") if isinstance(key, str) else key,
                      purpose + message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_for(seed: str) -> str:
    """The tracking token a seed stands for under this server's secret key."""
    if seed.startswith(CASE_SEED):
        return signed_token(int(seed[len(CASE_SEED):]))
    return _mac(_PURPOSE, seed)


def token_hash(token: str) -> str:
    """The stored form of a tracking token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _current_hash(case_id: int) -> str | None:
    return db.session.scalar(select(Case.tracking_token_hash).where(Case.id == case_id))


def signed_token(case_id: int, now: datetime | None = None) -> str:
    """A signed, expiring token for the case, bound to its current tracking token."""
    expires = int(((now or utcnow()) + timedelta(days=SIGNED_LINK_DAYS)).timestamp())
    head = f"{case_id}.{expires:x}"
    return f"{head}.{_mac(_SIGNED_PURPOSE, head + '.' + (_current_hash(case_id) or ''))}"


def signed_case_id(token: str, now: datetime | None = None) -> int | None:
    """The case a signed token opens, or None: malformed, expired, forged or revoked."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 18:
        return None
    try:
        expires = int(parts[1], 16)
    except ValueError:
        return None
    if expires < (now or utcnow()).timestamp():
        return None
    case_id = int(parts[0])
    current = _current_hash(case_id)
    if current is None:
        return None
    wanted = _mac(_SIGNED_PURPOSE, f"{parts[0]}.{parts[1]}.{current}")
    return case_id if hmac.compare_digest(wanted, parts[2]) else None
