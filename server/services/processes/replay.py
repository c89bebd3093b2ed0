"""Preview by replay: a draft run on recent cases' recorded inputs, as a background job.

A process owner starts a preview from their draft; the job row (models/replay.py) is
the only thing it writes. The job runs in a thread of its own, outside the request, with
its own session: each case is replayed in memory twice (on its own version, and on the
draft) with the engine clock bound to the recorded times in that thread only
(engine/clocks.py), and the two runs are compared (replay_report.py). Nothing is saved
to cases, history, tasks, timers, outbox, reports or the search index, and nothing is
sent: no e-mail, webhook or connector call is made (service tasks get their recorded
results back; one with none ends that case's replay, listed as "stopped at").

What-ifs (a deadline kind's target, a changed calendar) are bound around the draft's
side only, in the job's own context (policy.what_if, calendar.what_if): never saved.

One preview per draft at a time. A job whose thread died (the server stopped) stops
moving its heartbeat; it is shown, and then stored, as failed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ...database import begin_write
from ...engine.replay import Unreplayable, replay
from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...models import Case, CaseEvent, ProcessDraft, ReplayJob, utcnow
from .. import calendar, lookups, policy
from ..actors import Actor
from . import runtime_for
from .drafts import get_draft
from .replay_cases import DraftRuntime, chosen_cases, recorded, version_validator
from .replay_report import DRAFT, OWN, Tally
from .replay_texts import worded

log = logging.getLogger(__name__)
DEFAULT_CASES = 1000
MAX_CASES = 5000
MAX_TARGET = 365  # the largest what-if target amount
MAX_DAYS_OFF = 366  # the most what-if days off
STALE = timedelta(minutes=2)  # a running job's heartbeat older than this: its thread died
PROGRESS_EVERY = 25  # cases between two progress writes
RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass(frozen=True)
class Choice:
    """Which cases a preview replays: the last `last` received, or those of a period."""

    last: int | None = DEFAULT_CASES
    since: datetime | None = None
    until: datetime | None = None
    # What if a deadline kind had another target, for every priority (the preview only).
    what_if: tuple[str, int, str] | None = None
    # What if the calendar had these days off and these hours (the preview only).
    calendar_if: calendar.WhatIf | None = None

    def as_dict(self) -> dict[str, Any]:
        """The choice as stored on the job."""
        cal = self.calendar_if
        return {"last": self.last, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "what_if": list(self.what_if) if self.what_if else None,
                "closed": [d.isoformat() for d in cal.closed] if cal else [],
                "hours": [t.strftime("%H:%M") for t in cal.hours] if cal and cal.hours
                else None}

    @contextmanager
    def changed(self) -> Iterator[None]:
        """Within the block, the what-if policy target and calendar (none: as they are)."""
        with policy.what_if({self.what_if[0]: self.what_if[1:]} if self.what_if else {}), \
                calendar.what_if(self.calendar_if):
            yield


def choice_from(last: str, since: str, until: str, kind: str = "", amount: str = "",
                unit: str = "", closed: str = "", opens: str = "",
                closes: str = "") -> Choice:
    """Read the form's choice of cases and what-ifs; bad input names the field."""
    chosen = replace(_cases_from(last, since, until),
                     calendar_if=calendar_what_if(closed, opens, closes))
    if not (kind or amount.strip()):
        return chosen
    if kind not in policy.COMPLAINT_KINDS or unit not in policy.UNITS or \
            not amount.strip().isdigit() or not 1 <= int(amount) <= MAX_TARGET:
        message = _("Give the what-if target as a deadline, a whole number from 1 to "
                    "%(most)s and a unit.", most=MAX_TARGET)
        raise InvalidInput(message, {"whatif_amount": [message]})
    return replace(chosen, what_if=(kind, int(amount), unit))


def calendar_what_if(closed: str, opens: str, closes: str) -> calendar.WhatIf | None:
    """Read the what-if calendar: dates off (one per line or comma) and opening hours."""
    days = []
    for word in closed.replace(",", " ").split():
        day = calendar.parse_date(word)
        if day is None:
            message = _("“%(text)s” is not a date: give each day off as 2026-01-31.",
                        text=word)
            raise InvalidInput(message, {"whatif_closed": [message]})
        days.append(day)
    if len(days) > MAX_DAYS_OFF:
        message = _("Give at most %(most)s days off.", most=MAX_DAYS_OFF)
        raise InvalidInput(message, {"whatif_closed": [message]})
    hours = None
    if opens.strip() or closes.strip():
        start, end = calendar.parse_time(opens), calendar.parse_time(closes)
        if start is None:
            message = _("Enter a time like 08:00 (24-hour clock).")
            raise InvalidInput(message, {"whatif_opens": [message]})
        if end is None:
            message = _("Enter a time like 16:00 (24-hour clock).")
            raise InvalidInput(message, {"whatif_closes": [message]})
        if end <= start:
            message = _("The closing time must be after the opening time.")
            raise InvalidInput(message, {"whatif_closes": [message]})
        hours = (start, end)
    unique = tuple(sorted(set(days)))
    return calendar.WhatIf(unique, hours) if unique or hours else None


def _cases_from(last: str, since: str, until: str) -> Choice:
    """Read the form's choice of cases."""
    if since or until:
        try:
            start = datetime.fromisoformat(since) if since else None
            end = datetime.fromisoformat(until) if until else None
        except ValueError:
            raise InvalidInput(_("Give the period as dates, e.g. 2026-01-31."),
                               {"since": [_("Not a date.")]}) from None
        if start and end and end <= start:
            raise InvalidInput(_("The period must end after it starts."),
                               {"until": [_("The end is before the start.")]})
        return Choice(None, start, end + timedelta(days=1) if end else None)
    if not last.strip():
        return Choice()
    if not last.strip().isdigit() or not 1 <= int(last) <= MAX_CASES:
        message = _("Give a number of cases from 1 to %(most)s.", most=MAX_CASES)
        raise InvalidInput(message, {"last": [message]})
    return Choice(int(last))


def start(draft_id: int, choice: Choice, actor: Actor) -> ReplayJob:
    """Start a preview of the actor's draft; Conflict if one of it is still running."""
    begin_write()
    draft = get_draft(draft_id, actor)
    for job in db.session.scalars(select(ReplayJob).where(
            ReplayJob.draft_id == draft.id, ReplayJob.status == RUNNING)):
        if not _dead(job):
            db.session.rollback()
            raise Conflict(_("A preview of this draft is already running."))
        _fail(job, _("It stopped without finishing (the server was restarted)."))
    DraftRuntime(draft)  # a draft that does not load is refused here, not in the job
    job = ReplayJob(draft_id=draft.id, draft_title=draft.title, started_by_id=actor.user_id,
                    started_by=actor.name, status=RUNNING, params=json.dumps(choice.as_dict()))
    db.session.add(job)
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_run_in_app, args=(app, job.id, draft.id, choice),
                     name=f"replay-{job.id}", daemon=True).start()
    return job


def get_job(job_id: int, actor: Actor) -> ReplayJob:
    """A preview job its starter may read; a dead one is marked failed as it is read."""
    job = db.session.get(ReplayJob, job_id)
    if job is None or job.started_by_id != actor.user_id:
        raise NotFound(_("There is no such preview."))
    if job.status == RUNNING and _dead(job):
        begin_write()
        _fail(job, _("It stopped without finishing (the server was restarted)."))
        db.session.commit()
    return job


def report_of(job: ReplayJob, language: str = "en") -> dict[str, Any] | None:
    """The finished job's report in `language`, its deadlines as times to show."""
    if not job.report:
        return None
    report: dict[str, Any] = worded(json.loads(job.report), job, language)
    for case in report.get("cases", []):
        case["deadlines"] = [[title, *(datetime.fromisoformat(at) if at else None
                                       for at in (old, new))]
                             for title, old, new in case.get("deadlines", [])]
    return report


def what_if_of(job: ReplayJob) -> list[Any] | None:
    """The what-if target a job was started with: [kind, amount, unit], or None."""
    found = _params(job).get("what_if")
    return found if isinstance(found, list) and len(found) == 3 else None


def calendar_if_of(job: ReplayJob) -> dict[str, Any] | None:
    """The what-if calendar a job was started with: {"closed": [...], "hours": [...]}."""
    found = _params(job)
    closed, hours = found.get("closed") or [], found.get("hours")
    if not closed and not hours:
        return None
    return {"closed": [str(d) for d in closed], "hours": hours}


def _params(job: ReplayJob) -> dict[str, Any]:
    """The choice stored on the job ({} if unreadable)."""
    try:
        found = json.loads(job.params or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def jobs_of_draft(draft_id: int, actor: Actor) -> list[ReplayJob]:
    """The actor's previews of a draft, newest first."""
    return list(db.session.scalars(select(ReplayJob).where(
        ReplayJob.draft_id == draft_id, ReplayJob.started_by_id == actor.user_id)
        .order_by(ReplayJob.id.desc()).limit(10)))


def _dead(job: ReplayJob) -> bool:
    """Whether a running job's thread has stopped beating."""
    beat = job.heartbeat_at if job.heartbeat_at.tzinfo else job.heartbeat_at.replace(
        tzinfo=utcnow().tzinfo)
    return utcnow() - beat > STALE


def _fail(job: ReplayJob, why: str) -> None:
    """Mark a job failed with the reason (in the caller's transaction)."""
    job.status, job.error, job.finished_at = FAILED, why, utcnow()


def _run_in_app(app: Flask, job_id: int, draft_id: int, choice: Choice) -> None:
    """The thread's body: run the job; whatever goes wrong ends it as failed, with why."""
    with app.app_context():
        try:
            run_job(job_id, draft_id, choice)
        except Exception as exc:  # the job must end, never stay "running"
            log.exception("preview job %s failed", job_id)
            db.session.rollback()
            _write(job_id, status=FAILED, error=str(exc) or type(exc).__name__,
                   finished_at=utcnow())
        finally:
            db.session.remove()


def run_job(job_id: int, draft_id: int, choice: Choice) -> dict[str, Any]:
    """Replay the chosen cases on their own versions and on the draft; store the report."""
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(_("The draft was deployed or discarded before the preview began."))
    target = DraftRuntime(draft)
    ids = chosen_cases(choice.last, choice.since, choice.until)
    _write(job_id, total=len(ids))
    until = utcnow()
    tally = Tally()
    with lookups.read_once():  # the policy and calendar as they are when the job starts
        for done, case_id in enumerate(ids, start=1):
            _one(case_id, target, until, tally, choice)
            if done % PROGRESS_EVERY == 0:
                _write(job_id, done=done)
            db.session.rollback()  # read-only: end the read transaction, keep nothing
    report = tally.report()
    _write(job_id, done=len(ids), status=DONE, report=json.dumps(report),
           finished_at=utcnow())
    return report


def _one(case_id: int, target: DraftRuntime, until: datetime, tally: Tally,
         choice: Choice) -> None:
    """Replay one case both ways and count it in the tally."""
    case = db.session.get(Case, case_id)
    if case is None:
        return
    events = list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                     .order_by(CaseEvent.seq)))
    intake, inputs = recorded(case, events)
    received = datetime.fromisoformat(str(intake["received_at"]))
    end = until if case.is_open else max([received, *(i.at for i in inputs)])
    version = case.process_version_id
    own = runtime_for(version)
    try:
        before = replay(own, intake, inputs, end, version_validator(version), own.start_form)
    except Exception as exc:  # one odd case must not end the whole preview
        tally.refuse(case.reference, version, _reason(OWN, exc, case.reference))
        return
    try:
        with choice.changed():
            after = replay(target.runtime, intake, inputs, end, target.validator,
                           target.runtime.start_form)
    except Exception as exc:  # the draft may fail in ways a deploy check does not see
        tally.refuse(case.reference, version, _reason(DRAFT, exc, case.reference))
        return
    tally.add(case.reference, version, case.category, received, end, before, after,
              choice.changed)


def _reason(side: str, exc: Exception, reference: str) -> dict[str, Any]:
    """Why a case cannot be replayed, as data the report words in its reader's language."""
    if isinstance(exc, Unreplayable):
        return {"side": side, "why": exc.why, **exc.params}
    log.warning("replay of %s (%s) failed", reference, side, exc_info=True)
    return {"side": side, "why": "engine", "detail": str(exc) or type(exc).__name__}


def _write(job_id: int, **values: Any) -> None:
    """Update the job row (and nothing else) in a transaction of its own."""
    begin_write()
    values.setdefault("heartbeat_at", utcnow())
    db.session.execute(update(ReplayJob).where(ReplayJob.id == job_id).values(**values))
    db.session.commit()
