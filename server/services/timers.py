"""Firing due timers: rows claimed atomically, each timer fired exactly once."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..database import begin_write
from ..engine import EngineError
from ..errors import Conflict
from ..extensions import db
from ..models import Timer, utcnow
from . import claims
from .actors import Actor
from .processes import runtime_for
from .recording import load_case_by_id, record_step

log = logging.getLogger(__name__)
RETRY_AFTER_ERROR = timedelta(minutes=5)


@dataclass
class SweepResult:
    """What one sweep did."""

    claimed: int = 0
    fired: int = 0
    cases: int = 0
    failed: int = 0
    conflicts: int = 0


def worker_name() -> str:
    """A name for this process in timer claims: host and pid."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def claim_due(now: datetime, worker: str, limit: int) -> tuple[list[int], int]:
    """Claim up to `limit` due timers for this worker (services/claims.py).

    Return the ids of their cases (oldest due first) and how many timer rows were claimed:
    a case may have several due timers, so fewer cases than `limit` is not the last batch.
    A claim lasts PLAINT_TIMER_LEASE_SECONDS.
    """
    lease = timedelta(seconds=current_app.config["PLAINT_TIMER_LEASE_SECONDS"])
    claimed = claims.claim(Timer, Timer.due_at, (Timer.due_at,), (Timer.case_id, Timer.due_at),
                           now, worker, lease, limit)
    ordered = sorted(claimed, key=lambda row: row.due_at)
    return list(dict.fromkeys(row.case_id for row in ordered)), len(claimed)


def fire_case(case_id: int, worker: str) -> int:
    """Fire the due timers of one case this worker has claimed; return how many fired."""
    begin_write()
    case = load_case_by_id(case_id)
    mine = list(db.session.scalars(select(Timer).where(
        Timer.case_id == case_id, Timer.claimed_by == worker)))
    if case is None or not mine:
        db.session.rollback()
        return 0
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    try:
        snapshot = runtime.fire_timers(workflow)
    except EngineError as exc:
        db.session.rollback()
        _release(case_id, worker, error=str(exc))
        log.warning("timer of case %s failed: %s", case_id, exc)
        raise
    if not snapshot.fired:
        # Claimed a moment before SpiffWorkflow considers it due: let the next sweep take it.
        db.session.rollback()
        _release(case_id, worker)
        return 0
    now = utcnow()
    titles = {t.bpmn_id: t.title for t in mine}
    due = {t.bpmn_id: t.due_at for t in mine}
    record_step(case, runtime.dump(workflow), snapshot, Actor.system("timer"), "timer.fired",
                "Timer fired: " + ", ".join(titles.get(b, b) for b in snapshot.fired),
                {"timers": snapshot.fired, "due": due, "fired_at": now}, now)
    return len(snapshot.fired)


def _release(case_id: int, worker: str, error: str | None = None) -> None:
    begin_write()
    values: dict[str, object] = {"claimed_by": None, "claimed_until": None}
    if error is not None:
        # Keep the claim until the retry time so a failing diagram does not spin.
        values = {"claimed_until": utcnow() + RETRY_AFTER_ERROR, "last_error": error[:2000]}
    db.session.execute(update(Timer).where(Timer.case_id == case_id, Timer.claimed_by == worker)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def sweep(now: datetime | None = None, worker: str | None = None,
          limit: int | None = None) -> SweepResult:
    """Claim and fire every timer due now, batch by batch, until none is left."""
    worker = worker or worker_name()
    limit = limit or current_app.config["PLAINT_TIMER_BATCH"]
    result = SweepResult()
    while True:
        case_ids, rows = claim_due(now or utcnow(), worker, limit)
        if not case_ids:
            return result
        result.claimed += len(case_ids)
        fired_before = result.fired
        for case_id in case_ids:
            try:
                fired = fire_case(case_id, worker)
            except EngineError:
                result.failed += 1
                continue
            except Conflict:  # a handler saved the case meanwhile: retry on the next sweep
                _release(case_id, worker)
                result.conflicts += 1
                continue
            result.fired += fired
            result.cases += 1 if fired else 0
        if rows < limit or result.fired == fired_before:
            return result  # the last batch, or nothing in it could fire yet


def next_due() -> datetime | None:
    """When the next unclaimed timer falls due, for the scheduler's next wake-up.

    ORDER BY ... LIMIT 1 walks the due_at index to the first unclaimed row; min() with a
    WHERE clause would scan the whole table on SQLite.
    """
    due = db.session.scalar(select(Timer.due_at).where(Timer.claimed_until.is_(None))
                            .order_by(Timer.due_at).limit(1))
    db.session.rollback()
    return due
