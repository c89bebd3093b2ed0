"""Tracking links: the complainant's secret token, and how the database avoids holding it.

A case stores only the SHA-256 of its token. E-mails written before they are sent hold a
random link seed instead of the token: the token is the seed keyed with the server's
secret key (HMAC-SHA256), so someone who can read the database but not the instance's
secret key cannot open a tracking page from the outbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

_PURPOSE = b"plaint tracking link\x00"


def new_seed() -> str:
    """A fresh, random link seed (not secret on its own)."""
    return secrets.token_hex(16)


def token_for(seed: str) -> str:
    """The tracking token a seed stands for under this server's secret key."""
    key = current_app.config["SECRET_KEY"]
    digest = hmac.new(key.encode("utf-8") if isinstance(key, str) else key,
                      _PURPOSE + seed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """The stored form of a tracking token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
