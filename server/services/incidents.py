"""Incidents: a case whose timer step failed stops, says why, and waits for a fix.

A failure (an error in the diagram's code, a run limit, anything unexpected) opens one
incident on the case, recorded in its history, and holds the timers the failing run had
claimed: they are tried again by themselves after 5 minutes, then 25 (each wait five
times longer) until PLAINT_TIMER_MAX_ATTEMPTS, then only when an administrator retries
(services/timers.py: retry_incident). A later failure of the same case counts as another
attempt on the same incident, without a new history entry, so a failing case cannot
flood its history. A run that succeeds closes the incident in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..database import begin_write
from ..engine import EngineError
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Case, Incident, Timer, utcnow
from . import wakeup
from .actors import Actor
from .recording import load_case_by_id, record_event

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=5)
BACKOFF = 5
# The claim on the timers of a case whose retries stopped: nobody takes them over by
# themselves, and next_due() (unclaimed timers only) does not wake the scheduler for them.
PARKED = datetime(9999, 12, 31, tzinfo=UTC)
PER_PAGE = 50
MAX_ERROR = 4000


def describe(exc: BaseException) -> str:
    """A failure as the incident page shows it: the engine's own words, else the error's type."""
    if isinstance(exc, EngineError):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def open_for(case_id: int) -> Incident | None:
    """The open incident of a case, if it is stopped on one."""
    return db.session.scalar(select(Incident).where(Incident.case_id == case_id,
                                                    Incident.closed_at.is_(None)))


def open_or_count(case_id: int, source: str, now: datetime,
                  attempts: int = 1) -> tuple[Incident, bool]:
    """The case's open incident with one attempt more, or a new one; whether it is new."""
    incident = open_for(case_id)
    if incident is not None:
        incident.attempts += 1
        return incident, False
    incident = Incident(case_id=case_id, source=source, attempts=attempts, opened_at=now)
    db.session.add(incident)
    return incident, True


def record_failure(case_id: int, worker: str, exc: BaseException) -> Incident | None:
    """Open (or count another attempt on) the case's incident and hold the timers `worker` claimed.

    Commits. Returns None when the case changed meanwhile (its timers are then released,
    so the next sweep runs it again from the new state) or no longer exists.
    """
    begin_write()
    now = utcnow()
    message = describe(exc)[:MAX_ERROR]
    claimed = db.session.execute(
        select(Timer.bpmn_id, Timer.title).where(Timer.case_id == case_id,
                                                 Timer.claimed_by == worker)
        .order_by(Timer.due_at)).all()
    element = getattr(exc, "element_id", None) or (claimed[0].bpmn_id if claimed else None)
    incident, opened = open_or_count(case_id, "timer", now)
    incident.error, incident.failed_at = message, now
    incident.element_id = element
    incident.element_title = getattr(exc, "element_name", None) or next(
        (t.title for t in claimed if t.bpmn_id == element), None)
    limit = current_app.config["PLAINT_TIMER_MAX_ATTEMPTS"]
    incident.retry_at = now + FIRST_RETRY * BACKOFF ** (incident.attempts - 1) \
        if incident.attempts < limit else None
    db.session.execute(
        update(Timer).where(Timer.case_id == case_id, Timer.claimed_by == worker)
        .values(claimed_until=incident.retry_at or PARKED, last_error=message[:2000])
        .execution_options(synchronize_session=False))
    db.session.flush()
    log.warning("case %s: timer step failed (attempt %s): %s", case_id, incident.attempts,
                message)
    case = load_case_by_id(case_id)
    if case is None:
        db.session.rollback()
        return None
    if not opened:
        db.session.commit()
        return incident
    where = f" at '{incident.element_title or element}'" if element else ""
    try:
        record_event(case, Actor.system("timer"), "incident.opened",
                     f"Stopped{where}: {message}"[:500],
                     {"incident": incident.id, "element": element, "error": message}, now)
    except Conflict:
        release(case_id, worker)
        return None
    return incident


def close_in_step(case_id: int, now: datetime, by: Actor, how: str) -> int | None:
    """Close the case's open incident in the transaction of the step that fixed it; its id."""
    closed = db.session.execute(
        update(Incident).where(Incident.case_id == case_id, Incident.closed_at.is_(None))
        .values(closed_at=now, closed_by=by.name, resolution=how[:500], retry_at=None)
        .returning(Incident.id).execution_options(synchronize_session=False)).scalar()
    return int(closed) if closed is not None else None


def close_idle(incident: Incident, by: Actor, how: str) -> None:
    """Close an incident whose case no longer waits on what failed; record it; commit."""
    begin_write()
    now = utcnow()
    case = load_case_by_id(incident.case_id)
    closed = close_in_step(incident.case_id, now, by, how)
    if case is None or closed is None:
        db.session.commit()
        return
    record_event(case, by, "incident.closed", f"Incident #{closed} closed: {how}"[:500],
                 {"incident": closed}, now)


def release(case_id: int, worker: str, wake: bool = True) -> None:
    """Give up this worker's claim on a case's timers, so the next sweep takes them; commit."""
    release_many([case_id], worker, wake)


def release_many(case_ids: list[int], worker: str, wake: bool = True) -> None:
    """Give up this worker's claims on these cases' timers in one statement; commit.

    With `wake`, schedulers in other processes hear of it at once on PostgreSQL
    (services/wakeup.py). A claim given back because its timer is not due yet does not
    wake them: they would claim it and give it back again, round and round.
    """
    if not case_ids:
        return
    begin_write()
    db.session.execute(update(Timer).where(Timer.case_id.in_(case_ids),
                                           Timer.claimed_by == worker)
                       .values(claimed_by=None, claimed_until=None)
                       .execution_options(synchronize_session=False))
    if wake:
        wakeup.notify(utcnow())
    db.session.commit()


def get(incident_id: int) -> tuple[Incident, str, int]:
    """An incident, its case's reference and its case's process version."""
    row = db.session.execute(select(Incident, Case.reference, Case.process_version_id)
                             .join(Case).where(Incident.id == incident_id)).first()
    if row is None:
        raise NotFound(_("There is no incident %(number)s.", number=incident_id))
    return row[0], row[1], row[2]


def listing(open_only: bool, page: int) -> tuple[list[Any], int]:
    """Incidents with their case references and process versions (to name the failed step
    in the reader's language), newest first, a page at a time; and how many."""
    where = [Incident.closed_at.is_(None)] if open_only else [Incident.closed_at.is_not(None)]
    total = db.session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    rows = db.session.execute(
        select(Incident, Case.reference, Case.process_version_id).join(Case).where(*where)
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return [tuple(row) for row in rows], total


def open_count() -> int:
    """How many cases are stopped on an incident now."""
    return db.session.scalar(select(func.count()).select_from(Incident)
                             .where(Incident.closed_at.is_(None))) or 0
