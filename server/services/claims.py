"""Claiming due rows for one worker: the mechanism timers, the e-mail outbox, service calls
and webhook deliveries share, with the back-off of their retries.

A row is due when its time has come and nobody holds a live claim on it. One statement
claims a batch: on PostgreSQL the candidates are locked with SKIP LOCKED so concurrent
workers take disjoint sets; on SQLite the write lock does the same. A claim lasts
`lease`, so the rows of a worker that died are taken over after that.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from ..database import begin_write
from ..extensions import db

BACKOFF = 5  # each retry waits this many times longer than the one before
LONGEST_WAIT = timedelta(hours=6)


def backoff(first: timedelta, attempts: int) -> timedelta:
    """How long to wait after the attempt numbered `attempts` failed: first, 5x, 25x... capped."""
    return min(first * BACKOFF ** max(attempts - 1, 0), LONGEST_WAIT)


def due_and_free(model: Any, due: Any, now: datetime) -> Any:
    """The condition a claimable row meets: due by `now`, no live claim on it."""
    return and_(due <= now, or_(model.claimed_until.is_(None), model.claimed_until < now))


def claim(model: Any, due: Any, order_by: Sequence[Any], returning: Sequence[Any],
          now: datetime, worker: str, lease: timedelta, limit: int) -> list[Any]:
    """Claim up to `limit` rows of `model` whose `due` column has passed; commit.

    Returns the `returning` columns of the rows claimed (none when nothing was due).
    """
    free = due_and_free(model, due, now)
    # Look before taking the write lock: an idle run is then one index probe that
    # blocks no writer (on SQLite a write transaction would lock out every other).
    if db.session.scalar(select(model.id).where(free).limit(1)) is None:
        db.session.rollback()
        return []
    begin_write()
    candidates = select(model.id).where(free).order_by(*order_by).limit(limit)
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    rows = db.session.execute(
        update(model).where(model.id.in_(candidates.scalar_subquery()))
        .values(claimed_by=worker, claimed_until=now + lease, attempts=model.attempts + 1)
        .returning(*returning).execution_options(synchronize_session=False)).all()
    db.session.commit()
    return list(rows)


def drain(model: Any, lease: timedelta, limit: int, now: datetime | None,
          worker: str | None, handle: Callable[[list[int], str, datetime], bool]) -> int:
    """Claim the due rows of an outbox-like `model` (by `next_attempt_at`) batch by batch.

    Each batch's ids go to `handle(ids, worker, at)`, oldest first; it stops when nothing
    is due, a batch comes short, or `handle` answers False. Returns how many were claimed.
    The worker name is unique per run: two runs in one process must not take each other's
    claims for theirs.
    """
    from ..models import utcnow
    from .timers import worker_name

    worker = f"{worker or worker_name()}:{secrets.token_hex(3)}"[:64]
    claimed = 0
    while True:
        at = now or utcnow()
        rows = claim(model, model.next_attempt_at, (model.next_attempt_at, model.id),
                     (model.id,), at, worker, lease, limit)
        if not rows:
            return claimed
        claimed += len(rows)
        if not handle(sorted(row.id for row in rows), worker, at) or len(rows) < limit:
            return claimed
