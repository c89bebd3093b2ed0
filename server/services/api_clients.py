"""API clients: creating and changing them, their tokens, and what each call spends.

A token is `plt_` and 43 random URL-safe characters (256 bits): shown once, stored as its
SHA-256 (a high-entropy secret needs no slow hash), so a leaked token is greppable and a
leaked database opens nothing. Creating, changing, revoking a client and issuing a token
go in the chained system log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, case, select, update

from ..access import API_WORK, SCOPES, WORK_TASKS, can
from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import ApiClient, ApiRateWindow, User, utcnow
from . import system_log
from .actors import Actor

TOKEN_PREFIX = "plt_"  # noqa: S105 - a prefix that makes leaked tokens greppable, not a secret
MAX_RATE = 100_000
DEFAULT_RATE = 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Issued:
    """A client and its new token, which is shown this once and never again."""

    client: ApiClient
    token: str


@dataclass(frozen=True)
class Caller:
    """The client behind an API call, as views and services need it."""

    client_id: int
    name: str
    scopes: frozenset[str]
    actor: Actor


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def listing() -> list[ApiClient]:
    """Every client, active ones first, by name."""
    return list(db.session.scalars(select(ApiClient).order_by(
        ApiClient.revoked_at.is_not(None), ApiClient.name)))


def get(client_id: int) -> ApiClient:
    """One client, or NotFound."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(_("There is no API client %(id)s.", id=client_id))
    return client


def acting_username(client: ApiClient) -> str | None:
    """The username of the client's acting user, if it has one."""
    if client.acting_user_id is None:
        return None
    user = db.session.get(User, client.acting_user_id)
    return user.username if user else None


def _checked(scopes: list[str], acting: str, rate: str) -> tuple[str, int | None, int]:
    """The scopes, acting user id and rate limit from a form, or InvalidInput saying what to fix."""
    errors: dict[str, list[str]] = {}
    chosen = [s for s in SCOPES if s in scopes]
    if not chosen or len(chosen) != len(set(scopes)):
        errors["scopes"] = [_("Choose one or more of the scopes: %(scopes)s.",
                              scopes=", ".join(SCOPES))]
    user_id: int | None = None
    acting = acting.strip().lower()
    if acting:
        user = db.session.scalar(select(User).where(User.username == acting))
        if user is None or not user.active:
            errors["acting_user"] = [_("There is no active account called %(username)s.",
                                       username=acting)]
        elif not can(user, WORK_TASKS):
            errors["acting_user"] = [_("%(username)s works no tasks: choose a member of "
                                       "staff who does.", username=acting)]
        else:
            user_id = user.id
    if API_WORK in chosen and user_id is None and "acting_user" not in errors:
        errors["acting_user"] = [_("The work scope acts as a member of staff: name one.")]
    try:
        limit = int(rate.strip() or DEFAULT_RATE)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_RATE:
        errors["rate_limit"] = [_("Give a whole number of requests per minute from 1 to "
                                  "%(max)d.", max=MAX_RATE)]
    if errors:
        raise InvalidInput(_("Check the highlighted fields."), errors)
    return " ".join(chosen), user_id, limit


def create(name: str, scopes: list[str], acting: str, rate: str, by: Actor) -> Issued:
    """Create a client and its first token; commit."""
    name = name.strip().lower()
    errors: dict[str, list[str]] = {}
    if not _NAME.match(name):
        errors["name"] = [_("Use 1 to 64 lower-case letters, digits, dots, dashes or "
                            "underscores, starting with a letter or digit.")]
    elif db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        errors["name"] = [_("There is already a client called %(name)s.", name=name)]
    try:
        scope_text, user_id, limit = _checked(scopes, acting, rate)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
    if errors:
        raise InvalidInput(_("Check the highlighted fields."), errors)
    begin_write()
    token = _new_token()
    client = ApiClient(name=name, scopes=scope_text, acting_user_id=user_id,
                       token_hash=token_hash(token), token_hint=token[:8], rate_limit=limit,
                       created_at=utcnow(), created_by=by.name)
    db.session.add(client)
    db.session.flush()
    db.session.add(ApiRateWindow(client_id=client.id, window=0, count=0))
    system_log.record(by, "api_client.created", f"API client {name} created",
                      {"client": name, "scopes": scope_text, "acting_user": acting or None,
                       "rate_limit": limit})
    system_log.record(by, "api_client.token", f"API client {name}: token issued",
                      {"client": name, "hint": client.token_hint})
    db.session.commit()
    return Issued(client, token)


def change(client_id: int, scopes: list[str], acting: str, rate: str, by: Actor) -> ApiClient:
    """Change a client's scopes, acting user and rate limit; commit."""
    client = get(client_id)
    scope_text, user_id, limit = _checked(scopes, acting, rate)
    begin_write()
    before = {"scopes": client.scopes, "acting_user": acting_username(client),
              "rate_limit": client.rate_limit}
    client.scopes, client.acting_user_id, client.rate_limit = scope_text, user_id, limit
    system_log.record(by, "api_client.changed", f"API client {client.name} changed",
                      {"client": client.name, "before": before,
                       "after": {"scopes": scope_text, "acting_user": acting.strip() or None,
                                 "rate_limit": limit}})
    db.session.commit()
    return client


def reissue(client_id: int, by: Actor) -> Issued:
    """Give a client a new token; the old one stops working at once; commit."""
    client = get(client_id)
    begin_write()
    token = _new_token()
    client.token_hash, client.token_hint = token_hash(token), token[:8]
    client.revoked_at = None
    system_log.record(by, "api_client.token", f"API client {client.name}: new token issued",
                      {"client": client.name, "hint": client.token_hint})
    db.session.commit()
    return Issued(client, token)


def revoke(client_id: int, by: Actor) -> None:
    """Stop a client's token from opening the API; commit."""
    client = get(client_id)
    if client.revoked_at is not None:
        return
    begin_write()
    client.revoked_at = utcnow()
    system_log.record(by, "api_client.revoked", f"API client {client.name} revoked",
                      {"client": client.name})
    db.session.commit()


def authenticate(token: str) -> Caller | None:
    """The caller a bearer token belongs to, or None (unknown, revoked, or malformed)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    wanted = token_hash(token)
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_hash == wanted))
    # The lookup is by an index on a hash the caller cannot steer; the comparison is
    # constant-time all the same.
    if client is None or client.revoked_at is not None or \
            not hmac.compare_digest(client.token_hash, wanted):
        return None
    return Caller(client.id, client.name, client.scope_set, _actor(client))


def actor_of(client_id: int) -> Actor | None:
    """How a client acts now (its acting user's roles), or None when it is gone or revoked."""
    client = db.session.get(ApiClient, client_id)
    return _actor(client) if client is not None and client.revoked_at is None else None


def _actor(client: ApiClient) -> Actor:
    """How the client appears in case history; its acting user's roles when it has one."""
    user = db.session.get(User, client.acting_user_id) if client.acting_user_id else None
    if user is None or not user.active:
        return Actor(name=f"api:{client.name}", user_id=None, roles=frozenset(), kind="api")
    return Actor(name=f"api:{client.name}", user_id=user.id, roles=frozenset(user.role_names),
                 kind="api", on_behalf=user.username)


_COUNT = (update(ApiRateWindow).where(ApiRateWindow.client_id == bindparam("client"))
          .values(count=case((ApiRateWindow.window == bindparam("now_window"),
                              ApiRateWindow.count + 1), else_=1),
                  window=bindparam("now_window"))
          .returning(ApiRateWindow.count))


def spend(caller: Caller, now: datetime | None = None) -> int | None:
    """Count a call in the client's one-minute window; commit.

    Returns None when the call is within the limit, else the seconds until the window
    ends. The row is updated in one statement, so workers on PostgreSQL count in turn.
    """
    now = now or utcnow()
    window = int(now.timestamp() // 60)
    begin_write()
    count = db.session.execute(_COUNT, {"client": caller.client_id, "now_window": window}
                               ).scalar()
    limit = db.session.scalar(select(ApiClient.rate_limit).where(
        ApiClient.id == caller.client_id)) or 0
    if count is None:  # a client made before its window row: start one
        db.session.add(ApiRateWindow(client_id=caller.client_id, window=window, count=1))
        count = 1
    over = count > limit
    if not over:
        db.session.execute(update(ApiClient).where(ApiClient.id == caller.client_id)
                           .values(last_used_at=now))
    db.session.commit()
    return 60 - int(now.timestamp()) % 60 if over else None


def describe(client: ApiClient) -> dict[str, Any]:
    """What the admin page shows of a client (never its token)."""
    return {"id": client.id, "name": client.name, "scopes": sorted(client.scope_set),
            "acting_user": acting_username(client), "rate_limit": client.rate_limit,
            "last_used_at": client.last_used_at, "created_at": client.created_at,
            "revoked_at": client.revoked_at, "hint": client.token_hint}
