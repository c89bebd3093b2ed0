"""Idempotency-Key: a POST sent again with the same key and body gets the first answer.

The first request reserves the key (status 0) in a transaction of its own, so a second
request with the key, even on another worker, finds it and does not repeat the action;
its answer is kept for 24 hours. A request whose action failed gives the key back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..models import ApiIdempotency, utcnow

KEPT_FOR = timedelta(hours=24)
MAX_KEY = 255
PENDING = 0


@dataclass(frozen=True)
class Stored:
    """An answer given before to the same key and body."""

    status: int
    body: str
    headers: dict[str, str]


def reserve(client_id: int, key: str, request_hash: str) -> Stored | None:
    """Reserve the key for this request (None: go ahead) or give the stored answer; commit.

    The same key with another body is refused (422); a key whose first request is still
    being answered is a conflict (409).
    """
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(_("An Idempotency-Key is 1 to %(max)d printable characters.",
                             max=MAX_KEY), {"Idempotency-Key": [_("Send a shorter key.")]})
    begin_write()
    cutoff = utcnow() - KEPT_FOR
    db.session.execute(delete(ApiIdempotency).where(ApiIdempotency.client_id == client_id,
                                                    ApiIdempotency.created_at < cutoff))
    row = db.session.scalar(select(ApiIdempotency).where(
        ApiIdempotency.client_id == client_id, ApiIdempotency.key == key).with_for_update())
    if row is None:
        db.session.add(ApiIdempotency(client_id=client_id, key=key, request_hash=request_hash,
                                      status=PENDING, body="", headers="{}",
                                      created_at=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:  # another worker reserved it a moment ago
            db.session.rollback()
            raise Conflict(_("A request with this Idempotency-Key is still being answered. "
                             "Send it again in a moment to get its answer.")) from None
        return None
    db.session.commit()
    if row.request_hash != request_hash:
        raise InvalidInput(_("This Idempotency-Key was used for a different request in the "
                             "last 24 hours. Use a new key for a new request."),
                           {"Idempotency-Key": [_("Use a new key for a new request.")]})
    if row.status == PENDING:
        raise Conflict(_("A request with this Idempotency-Key is still being answered. "
                         "Send it again in a moment to get its answer."))
    return Stored(row.status, row.body, json.loads(row.headers))


def finish(client_id: int, key: str, status: int, body: str, headers: dict[str, str]) -> None:
    """Keep the answer to a reserved key; commit."""
    begin_write()
    row = db.session.scalar(select(ApiIdempotency).where(
        ApiIdempotency.client_id == client_id, ApiIdempotency.key == key))
    if row is not None:
        row.status, row.body, row.headers = status, body, json.dumps(headers)
    db.session.commit()


def release(client_id: int, key: str) -> None:
    """Give a reserved key back after its request failed, so it can be sent again; commit."""
    begin_write()
    db.session.execute(delete(ApiIdempotency).where(
        ApiIdempotency.client_id == client_id, ApiIdempotency.key == key,
        ApiIdempotency.status == PENDING))
    db.session.commit()
