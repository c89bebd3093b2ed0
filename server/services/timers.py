"""Firing due timers: rows claimed atomically, each timer fired exactly once.

A sweep claims up to PLAINT_TIMER_BATCH timers at once (services/claims.py: SKIP LOCKED
on PostgreSQL, so several schedulers take disjoint batches); one query loads the cases,
one their claimed timers, without the write lock, and the engine fires them, still
without it (services/firing.py: in worker processes in a burst). Then the steps are
recorded WRITE_BATCH cases at a time (WRITE_BATCH_POSTGRESQL on PostgreSQL) under the
write lock, one commit for them all (a commit per case was a tenth of a burst's time on
SQLite). A batch whose cases all simply
fire is recorded in one go: no savepoints, and the rows nothing reads before the commit
written with one statement per table (services/deferred.py). Otherwise, or if that
fails, it is rolled back and recorded case by case, each case in its own savepoint. A
case someone moved while the engine ran fails its version check and is fired again
there, from its new state, as a person's step is (services/cases.py). A case whose
step fails, however it fails, has its savepoint rolled back and becomes an incident
(services/incidents.py) after the batch commits: one broken case never holds the others
back. A crash loses the batch's uncommitted steps, and its claims expire after their
lease and are fired again.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from ..database import begin_write
from ..errors import Conflict, InvalidInput, ProcessFailed
from ..extensions import db
from ..models import Incident, Timer, utcnow
from . import (
    claims,
    deferred,
    firing,
    incidents,
    lookups,
    notifications,
    recording,
    reporting,
    wakeup,
)
from .actors import Actor
from .recording import CASES, load_case_by_id, record_step
from .records import CaseRecord

log = logging.getLogger(__name__)
RETRY_AFTER_ERROR = incidents.FIRST_RETRY
TIMER = Actor.system("timer")
# Cases fired per transaction. Larger batches commit less often but hold SQLite's write
# lock (and, on PostgreSQL, the fired cases' rows) longer against people's steps.
WRITE_BATCH = 25
# On PostgreSQL a batch locks only its own cases' rows (people's steps on other cases go
# on), and its dozen statements and commit are shared by more steps: 50 cases measured 8%
# less CPU per timer than 25 on a 10,000-timer burst with two schedulers (1.78 vs 1.93 ms).
WRITE_BATCH_POSTGRESQL = 50
_MINE = select(Timer.case_id, Timer.bpmn_id, Timer.title, Timer.due_at, Timer.last_error)


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


def fire_case(case_id: int, worker: str, actor: Actor = TIMER) -> int:
    """Fire the due timers of one case this worker has claimed; return how many fired.

    Raises whatever the step raised (the caller turns it into an incident), Conflict when
    someone saved the case meanwhile. A run that succeeds after a failure closes the
    case's incident in the same transaction as its step.
    """
    begin_write()
    case = load_case_by_id(case_id)
    mine = list(db.session.execute(_MINE.where(
        Timer.case_id == case_id, Timer.claimed_by == worker)))
    if case is None or not mine:
        db.session.rollback()
        return 0
    fired = _fire_loaded(case, mine, actor)
    if not fired:
        # Claimed a moment before SpiffWorkflow considers it due: let the next sweep take it.
        db.session.rollback()
        incidents.release(case_id, worker, wake=False)
    return fired


def _fire_loaded(case: CaseRecord, mine: Sequence[Any], actor: Actor) -> int:
    """Fire the due timers of a loaded case and record the step; how many fired (0: none
    was due yet, and nothing was written). Commits unless inside recording.batched()."""
    fired = firing.fire(case.process_version_id, case.workflow_state)
    return _record_fired(case, mine, fired, actor)


def _record_fired(case: CaseRecord, mine: Sequence[Any], fired: firing.Fired,
                  actor: Actor) -> int:
    """Record the step of an engine run that fired timers (firing.py); how many fired."""
    snapshot = fired.snapshot
    if snapshot is None or fired.state is None:
        return 0
    now = utcnow()
    titles = {t.bpmn_id: t.title for t in mine}
    due = {t.bpmn_id: t.due_at for t in mine}
    summary = "Timer fired: " + ", ".join(titles.get(b, b) for b in snapshot.fired)
    data: dict[str, object] = {"timers": snapshot.fired, "due": due, "fired_at": now}
    # Only a timer that failed before carries an error: healthy firings pay no query here.
    if any(t.last_error for t in mine):
        closed = incidents.close_in_step(case.id, now, actor, "the timer fired")
        if closed is not None:
            summary += f" (incident #{closed} closed)"
            data["incident"] = closed
    record_step(case, fired.state, snapshot, actor, "timer.fired", summary, data, now)
    return len(snapshot.fired)


@dataclass
class _Claimed:
    """A sweep's claimed cases as read without the write lock, and their engine runs."""

    order: list[int]  # the claimed cases, oldest due first
    cases: dict[int, CaseRecord]
    mine: dict[int, list[Any]]
    runs: firing.Runs
    full: bool = False  # the claim took as many timers as it could: more may be due


def _read_claimed(case_ids: list[int], worker: str) -> _Claimed:
    """Read the claimed cases and their timers (no write lock) and start their engine runs."""
    cases = {row.id: CaseRecord(**row._mapping) for row in db.session.connection().execute(
        select(CASES).where(CASES.c.id.in_(case_ids)))}
    mine: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(_MINE.where(Timer.case_id.in_(case_ids),
                                              Timer.claimed_by == worker)):
        mine[row.case_id].append(row)
    db.session.rollback()  # end the read: the engine runs while others write
    jobs = {case_id: (case.process_version_id, case.workflow_state)
            for case_id, case in cases.items() if mine[case_id]}
    return _Claimed(case_ids, cases, mine, firing.Runs(jobs))


class _Moved(Exception):
    """The case changed between the read without the write lock and the write."""


def _fire_batch(case_ids: list[int], worker: str, claimed: _Claimed,
                result: SweepResult) -> None:
    """Record these claimed cases' engine runs in one transaction, each in its own savepoint.

    The engine ran without the write lock (_read_claimed); a case someone moved meanwhile
    fails its version check and is fired again here, holding the lock, from its new state.
    After the commit: the schedulers hear of the timers the steps wrote, the claims of
    cases that could not fire yet (or lost a race with a person's step) are given back,
    and each failed case becomes an incident in a transaction of its own.
    """
    # The engine runs of the whole batch, before the lock: people's steps go on meanwhile.
    runs = {case_id: claimed.runs.outcome(case_id) for case_id in case_ids
            if case_id in claimed.cases and claimed.mine[case_id]}
    begin_write()
    if _record_together(runs, claimed, worker, result):
        return
    begin_write()  # the batch did not simply fire: record it case by case, from the start
    give_back: list[int] = []  # lost a race with a person's step: any scheduler may retry
    not_yet: list[int] = []  # due in a moment: this scheduler's next sweep takes them
    failed: list[tuple[int, Exception]] = []
    with recording.batched() as written:
        for case_id, run in runs.items():
            savepoint = db.session.begin_nested()
            try:
                try:
                    fired = _record_run(claimed.cases[case_id], claimed.mine[case_id], run)
                except (Conflict, _Moved):  # moved since it was read: fire it from its new state
                    savepoint.rollback()
                    savepoint = db.session.begin_nested()
                    fired = _fire_again(case_id, worker)
            except Conflict:  # a handler saved the case meanwhile: retry on the next sweep
                savepoint.rollback()
                give_back.append(case_id)
                result.conflicts += 1
                continue
            except Exception as exc:  # whatever one case does, the batch goes on
                savepoint.rollback()
                if _lost_a_race(exc):  # PostgreSQL chose this case's step to end a deadlock
                    give_back.append(case_id)
                    result.conflicts += 1
                else:
                    failed.append((case_id, exc))
                continue
            if not fired:  # claimed a moment before SpiffWorkflow considers it due
                savepoint.rollback()
                not_yet.append(case_id)
                continue
            savepoint.commit()
            result.fired += fired
            result.cases += 1
        if written:
            wakeup.notify(min(written))  # other processes' schedulers hear of it at the commit
        db.session.commit()
    recording.announce(min(written, default=None))
    incidents.release_many(give_back, worker)
    incidents.release_many(not_yet, worker, wake=False)
    for case_id, error in failed:
        result.failed += 1
        try:
            incidents.record_failure(case_id, worker, error)
        except Exception:  # the database itself is failing: the claim expires after its lease
            db.session.rollback()
            log.exception("could not record the failure of case %s", case_id)


def _record_together(runs: dict[int, firing.Fired], claimed: _Claimed, worker: str,
                     result: SweepResult) -> bool:
    """Record a batch whose cases simply fire in one go; whether it did (and committed).

    No savepoints, the report rows read in one query, and the history, outbox and timer
    rows written with one statement per table at the end (services/deferred.py): most
    batches of a burst are such. If any case failed in the engine, or anything goes wrong
    (a case moved meanwhile, a failing write), everything is rolled back and the caller
    records the batch case by case, each in its savepoint: then one case still never sinks
    the others, at the price of recording that rare batch twice.
    """
    if any(run.error is not None for run in runs.values()):
        return False
    fired = cases = 0
    not_yet: list[int] = []
    try:
        with recording.batched() as written, deferred.deferring(), reporting.known(runs), \
                notifications.assignees_known(runs):
            for case_id, run in runs.items():
                count = _record_fired(claimed.cases[case_id], claimed.mine[case_id], run, TIMER)
                if count:
                    fired, cases = fired + count, cases + 1
                else:  # nothing was written for it: due in a moment
                    not_yet.append(case_id)
            deferred.flush()
            if written:
                wakeup.notify(min(written))
            db.session.commit()
    except Exception:  # the case-by-case recording finds, and isolates, what failed
        db.session.rollback()
        log.debug("batch of %d cases recorded case by case", len(runs), exc_info=True)
        return False
    result.fired += fired
    result.cases += cases
    recording.announce(min(written, default=None))
    incidents.release_many(not_yet, worker, wake=False)
    return True


def _record_run(case: CaseRecord, mine: Sequence[Any], run: firing.Fired) -> int:
    """Record an engine run; raise its failure if the case is still as the run saw it.

    Raise _Moved (as the save would, by its version check) when the case changed since
    it was read: a failure on a state that is gone is not the case's failure.
    """
    if run.error is None:
        return _record_fired(case, mine, run, TIMER)
    if db.session.scalar(select(CASES.c.version).where(CASES.c.id == case.id)) != case.version:
        raise _Moved
    raise run.error


def _fire_again(case_id: int, worker: str) -> int:
    """Fire a case that moved during its engine run, holding the write lock (0: not ours)."""
    case = load_case_by_id(case_id)
    mine = list(db.session.execute(_MINE.where(
        Timer.case_id == case_id, Timer.claimed_by == worker)))
    if case is None or not mine:  # its timer went with the person's step, or the claim did
        return 0
    return _fire_loaded(case, mine, TIMER)


def _lost_a_race(exc: Exception) -> bool:
    """A deadlock or serialization failure: the case is fine, only its moment was not.

    A batch holds its fired cases' rows until it commits, so a person's step that locks
    two cases (linking complaints to an action) can deadlock with it.
    """
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in (
        "40P01", "40001")


def sweep(now: datetime | None = None, worker: str | None = None,
          limit: int | None = None, stop: Callable[[], bool] | None = None) -> SweepResult:
    """Claim and fire every timer due now, batch by batch, until none is left.

    The next batch is claimed and read, and its engine runs started, as soon as the one
    under way has recorded its first write batch: the engine workers (firing.py) then
    never run dry while this process records. At most two batches are claimed at once,
    each for far less than its lease. When `stop` answers True (the scheduler is shutting
    down) the sweep ends with the batch under way, giving back the claims of the next.
    """
    worker = worker or worker_name()
    limit = limit or current_app.config["PLAINT_TIMER_BATCH"]
    result = SweepResult()
    with lookups.read_once():  # the calendar and policy as they are at this sweep
        batch = _claim_batch(now, worker, limit, result)
        while batch is not None:
            batch = _fire_claimed(batch, now, worker, limit, result, stop or _never)
    return result


def _claim_batch(now: datetime | None, worker: str, limit: int,
                 result: SweepResult) -> _Claimed | None:
    """Claim the next batch of due timers, read it and start its engine runs (None: none due)."""
    case_ids, rows = claim_due(now or utcnow(), worker, limit)
    if not case_ids:
        return None
    result.claimed += len(case_ids)
    claimed = _read_claimed(case_ids, worker)
    claimed.full = rows >= limit
    return claimed


def _never() -> bool:
    return False


def _fire_claimed(claimed: _Claimed, now: datetime | None, worker: str, limit: int,
                  result: SweepResult, stop: Callable[[], bool]) -> _Claimed | None:
    """Record a claimed batch write batch by write batch; the next batch, if one is due.

    The next is claimed once this batch has fired something (a batch that fires nothing
    holds timers not due yet: claiming again would only take them back) and only if this
    batch was full (a short one was the last). A sweep that stops, or fails, gives the
    next batch's claims back: none of its steps was recorded.
    """
    fired_before = result.fired
    ahead: _Claimed | None = None
    looked_ahead = not claimed.full
    case_ids = claimed.order
    try:
        size = WRITE_BATCH_POSTGRESQL if db.engine.dialect.name == "postgresql" else WRITE_BATCH
        for start in range(0, len(case_ids), size):
            _fire_batch(case_ids[start:start + size], worker, claimed, result)
            if not looked_ahead and result.fired > fired_before and not stop():
                looked_ahead = True
                ahead = _claim_batch(now, worker, limit, result)
    except BaseException:
        if ahead is not None:
            _give_back(ahead, worker, result)
        raise
    finally:
        claimed.runs.cancel()
    if ahead is not None and stop():
        _give_back(ahead, worker, result)
        return None
    return ahead


def _give_back(claimed: _Claimed, worker: str, result: SweepResult) -> None:
    """Drop a claimed batch's engine runs and give its claims back (else they expire)."""
    claimed.runs.cancel()
    result.claimed -= len(claimed.order)
    try:
        db.session.rollback()
        incidents.release_many(claimed.order, worker)
    except Exception:  # the database is failing: the claims expire after their lease
        db.session.rollback()
        log.exception("could not give back the claims of %d cases", len(claimed.order))


def next_due() -> datetime | None:
    """When the next unclaimed timer falls due, for the scheduler's next wake-up.

    ORDER BY ... LIMIT 1 walks the due_at index to the first unclaimed row; min() with a
    WHERE clause would scan the whole table on SQLite.
    """
    due = db.session.scalar(select(Timer.due_at).where(Timer.claimed_until.is_(None))
                            .order_by(Timer.due_at).limit(1))
    db.session.rollback()
    return due


def retry_incident(incident_id: int, actor: Actor) -> Incident:
    """Run a stopped case's due timers again now, after its cause was fixed.

    Success fires them and closes the incident in the same step; a failure counts as
    another attempt and raises ProcessFailed with what went wrong. A case that no longer
    waits on a due timer (someone moved it on) has its incident closed as such.
    """
    incident, reference, _version = incidents.get(incident_id)
    if not incident.is_open:
        raise InvalidInput(_("Incident %(number)s is already closed.", number=incident_id))
    if incident.source == "service":  # a failed service call, not a timer: queue it again
        from .service_calls import retry_incident as retry_call

        return retry_call(incident, actor)
    case_id = incident.case_id
    worker = f"retry:{actor.name}"[:64]
    begin_write()
    now = utcnow()
    lease = timedelta(seconds=current_app.config["PLAINT_TIMER_LEASE_SECONDS"])
    claimed = db.session.execute(
        update(Timer).where(Timer.case_id == case_id, Timer.due_at <= now)
        .values(claimed_by=worker, claimed_until=now + lease, attempts=Timer.attempts + 1)
        .returning(Timer.id).execution_options(synchronize_session=False)).all()
    db.session.commit()
    try:
        fired = fire_case(case_id, worker, actor) if claimed else 0
    except Conflict:
        db.session.rollback()
        incidents.release(case_id, worker)
        raise
    except Exception as exc:
        db.session.rollback()
        incidents.record_failure(case_id, worker, exc)
        raise ProcessFailed(_("Case %(reference)s failed again: %(reason)s", reference=reference,
                              reason=incidents.describe(exc))) from None
    if not fired:
        incidents.close_idle(incident, actor, "the case no longer waits on a due timer")
    db.session.expire_all()
    return incident
