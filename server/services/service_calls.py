"""Service calls: written with the step that reached a service task, made by a worker.

No network I/O happens inside an engine run or a database transaction. A step that
reaches a service task leaves it waiting (engine/service_tasks.py) and writes a
service_call row in its own transaction (services/service_queue.py, from recording.py). The
worker (`run_due`, a scheduler job) claims due rows like the outbox (services/claims.py:
FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite; a claim of a dead worker
expires after its lease), makes the call with its time limit outside any transaction,
and then, in one transaction, puts the result into the case under resultVariable and
runs the case on. A failure that may pass (a timeout, HTTP 5xx or 429) is tried again
after PLAINT_SERVICE_RETRY_SECONDS, each wait five times longer, up to
PLAINT_SERVICE_MAX_ATTEMPTS; then, or at once for a failure that will not pass, the case
stops on an incident that says why. Retrying the incident makes the call once more, at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import escape
from sqlalchemy import select

from ..database import begin_write
from ..engine import TaskNotReady
from ..errors import Conflict, ProcessFailed
from ..extensions import db
from ..models import Incident, OutboxMessage, ServiceCall, utcnow
from ..models.outbox import PENDING as MAIL_PENDING
from ..models.service_call import CANCELLED, DONE, FAILED, PENDING
from . import claims, connectors, incidents
from .actors import Actor
from .http_request import CallFailed, http_operator
from .processes import runtime_for
from .recording import load_case_by_id, record_event, record_step

log = logging.getLogger(__name__)
SERVICE = Actor.system("service")
BATCH = 20


@dataclass
class CallResult:
    """What one worker run did."""

    claimed: int = 0
    done: int = 0
    retrying: int = 0
    failed: int = 0


def _lease() -> timedelta:
    # Room for a whole batch to wait out its time limits.
    return timedelta(seconds=current_app.config["PLAINT_SERVICE_TIMEOUT"] * (BATCH + 2))


def run_due(now: datetime | None = None, worker: str | None = None,
            limit: int | None = None) -> CallResult:
    """Claim and make every service call due now, batch by batch."""
    result = CallResult()

    def make_batch(ids: list[int], worker: str, at: datetime) -> bool:
        for call_id in ids:
            _make(call_id, worker, result, at)
        return True

    result.claimed = claims.drain(ServiceCall, _lease(), limit or BATCH, now, worker,
                                  make_batch)
    return result


def _make(call_id: int, worker: str, result: CallResult, at: datetime,
          by_hand: bool = False) -> None:
    """Make one claimed call and finish it; whatever happens, the worker goes on.

    A call retried `by_hand` (from its incident) is not tried again by itself on failure.
    """
    row = db.session.get(ServiceCall, call_id)
    if row is None or row.claimed_by != worker or row.status != PENDING:
        db.session.rollback()
        return
    operator, params = row.operator, json.loads(row.params)
    context = {"spiff__task_id": row.task_id, "spiff__process_instance_id": row.case_id}
    try:
        if not _still_waits(row):
            _cancel(call_id, worker)  # a boundary event moved the case on: no call to make
            return
        db.session.rollback()  # no transaction stays open while the call is made
        if operator == connectors.EMAIL_OPERATOR:
            outcome: Any = _email_params(params)
        elif operator == connectors.HTTP_OPERATOR:
            outcome = http_operator(params)
        else:
            outcome = connectors.call_proxy(operator, params, context)
        result.done += _finish(call_id, worker, outcome,
                               email=operator == connectors.EMAIL_OPERATOR)
    except CallFailed as exc:
        db.session.rollback()
        retrying = _failed(call_id, worker, str(exc), exc.transient and not by_hand, at)
        result.retrying += retrying
        result.failed += not retrying
    except Conflict:  # someone saved the case meanwhile: the next run tries again
        db.session.rollback()
        _release(call_id, worker)
    except Exception as exc:  # a failing step: the case stops, the others go on
        db.session.rollback()
        log.warning("service call %s failed", call_id, exc_info=True)
        _failed(call_id, worker, incidents.describe(exc), False, at)
        result.failed += 1


def _still_waits(row: ServiceCall) -> bool:
    """Whether the row's case still waits at its service task (read, no lock)."""
    case = load_case_by_id(row.case_id)
    return case is not None and runtime_for(case.process_version_id).service_call_waits(
        case.workflow_state, row.task_id)


def _email_params(params: dict[str, Any]) -> dict[str, str]:
    """The e-mail plaint/SendEmail is asked to send, checked before anything is written."""
    to = params.get("email_to")
    subject, body = params.get("email_subject"), params.get("email_body")
    if not isinstance(to, str) or "@" not in to or any(c in to for c in "\r\n,;<> ") \
            or len(to) > 254:
        raise CallFailed(_("plaint/SendEmail needs 'email_to', one e-mail address"),
                         transient=False)
    if not isinstance(subject, str) or not isinstance(body, str):
        raise CallFailed(_("plaint/SendEmail needs 'email_subject' and 'email_body' as texts"),
                         transient=False)
    return {"email_to": to, "email_subject": " ".join(subject.split())[:500],
            "email_body": body}


def _finish(call_id: int, worker: str, outcome: Any, *, email: bool) -> bool:
    """Put a call's result into its case and run the case on, in one transaction; commit.

    False when the call was no longer this worker's, or its task no longer waits.
    """
    begin_write()
    row = db.session.get(ServiceCall, call_id)
    case = load_case_by_id(row.case_id) if row is not None else None
    if row is None or case is None or row.claimed_by != worker or row.status != PENDING:
        db.session.rollback()
        return False
    now = utcnow()
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    result = outcome
    if email:
        result = {"body": {"queued": True, "email_to": outcome["email_to"]},
                  "mimetype": "application/json", "http_status": 200,
                  "operator_identifier": connectors.EMAIL_OPERATOR}
    try:
        snapshot = runtime.finish_service_call(workflow, row.task_id, result)
    except TaskNotReady:  # a boundary event moved the case on while the call was made
        _cancel(call_id, worker)
        return False
    if email:
        _write_email(case.id, row.bpmn_id, outcome, now)
    summary = f"Service task done: {row.title}"
    # The result as the task received it: what a replay gives back instead of calling.
    data: dict[str, Any] = {"element": row.bpmn_id, "operator": row.operator,
                            "attempts": row.attempts, "result": result}
    if row.last_error:
        closed = incidents.close_in_step(case.id, now, SERVICE, "the service call succeeded")
        if closed is not None:
            summary += f" (incident #{closed} closed)"
            data["incident"] = closed
    row.status, row.done_at, row.next_attempt_at = DONE, now, None
    row.claimed_by = row.claimed_until = None
    db.session.flush()
    record_step(case, runtime.dump(workflow), snapshot, SERVICE, "service.done", summary,
                data, now)
    return True


def _write_email(case_id: int, element: str, mail: dict[str, str], now: datetime) -> None:
    """The e-mail of plaint/SendEmail, into the outbox in the step's transaction."""
    config = current_app.config
    domain = config["PLAINT_MAIL_SENDER"].rpartition("@")[2] or "plaint.invalid"
    body = mail["email_body"]
    db.session.add(OutboxMessage(
        case_id=case_id, event="service_task", element=element[:255],
        language=config.get("PLAINT_STAFF_LANGUAGE", "en"), recipient_kind="service_task",
        recipient_name=None, recipient=mail["email_to"], subject=mail["email_subject"],
        body_text=body, body_html=f"<p>{escape(body)}</p>".replace("\n", "<br>"),
        message_id=make_msgid("plaint", domain=domain), status=MAIL_PENDING, attempts=0,
        next_attempt_at=now, created_at=now))


def _failed(call_id: int, worker: str, message: str, transient: bool, at: datetime) -> bool:
    """Schedule another try, or stop the case on an incident; commit. True when retrying.

    The wait counts from `at`, the time the run claimed by, so one run never takes the
    same call twice.
    """
    begin_write()
    row = db.session.get(ServiceCall, call_id)
    if row is None or row.claimed_by != worker:
        db.session.rollback()
        return False
    now = utcnow()
    row.last_error = message[:4000]
    row.claimed_by = row.claimed_until = None
    if transient and row.attempts < current_app.config["PLAINT_SERVICE_MAX_ATTEMPTS"]:
        first = timedelta(seconds=current_app.config["PLAINT_SERVICE_RETRY_SECONDS"])
        row.next_attempt_at = max(now, at) + claims.backoff(first, row.attempts)
        db.session.commit()
        log.info("service call %s: attempt %s failed, retrying: %s", call_id, row.attempts,
                 message)
        return True
    row.status, row.next_attempt_at = FAILED, None
    error = ngettext("the service task '%(task)s' (operator %(operator)s) failed after "
                     "%(num)d attempt: %(error)s",
                     "the service task '%(task)s' (operator %(operator)s) failed after "
                     "%(num)d attempts: %(error)s", row.attempts, task=row.title,
                     operator=row.operator, error=message)
    _open_incident(row, error, now)
    return False


def _open_incident(row: ServiceCall, error: str, now: datetime) -> None:
    """Open (or count another attempt on) the case's incident for a failed call; commit."""
    incident, opened = incidents.open_or_count(row.case_id, "service", now, row.attempts)
    incident.error, incident.failed_at, incident.retry_at = error[:4000], now, None
    incident.element_id, incident.element_title = row.bpmn_id, row.title
    db.session.flush()
    case = load_case_by_id(row.case_id)
    if case is None or not opened:
        db.session.commit()
        return
    try:
        record_event(case, SERVICE, "incident.opened", f"Stopped at '{row.title}': {error}"[:500],
                     {"incident": incident.id, "element": row.bpmn_id, "error": error}, now)
    except Conflict:  # the case changed meanwhile: the incident stays, without its entry
        db.session.rollback()


def _cancel(call_id: int, worker: str) -> None:
    """Mark a claimed call whose task no longer waits as cancelled; commit."""
    db.session.rollback()
    begin_write()
    row = db.session.get(ServiceCall, call_id)
    if row is not None and row.claimed_by == worker:
        row.status, row.next_attempt_at, row.done_at = CANCELLED, None, utcnow()
        row.claimed_by = row.claimed_until = None
    db.session.commit()


def _release(call_id: int, worker: str) -> None:
    """Give a claimed call back so the next run takes it; commit."""
    begin_write()
    row = db.session.get(ServiceCall, call_id)
    if row is not None and row.claimed_by == worker:
        row.claimed_by = row.claimed_until = None
        row.attempts = max(0, row.attempts - 1)
    db.session.commit()


def retry_incident(incident: Incident, actor: Actor) -> Incident:
    """Queue a stopped case's failed service call again now, and make it at once.

    Success closes the incident in the step that puts the result in; another failure
    raises ProcessFailed with what went wrong.
    """
    begin_write()
    row = db.session.scalar(select(ServiceCall).where(
        ServiceCall.case_id == incident.case_id, ServiceCall.status.in_((FAILED, PENDING)))
        .order_by(ServiceCall.id.desc()).limit(1))
    if row is None:
        db.session.rollback()
        incidents.close_idle(incident, actor, "the case no longer waits on a service call")
        return incident
    now = utcnow()
    worker = f"retry:{actor.name}"[:64]
    # Claimed for this retry alone, as a worker's claim would: one attempt, made now.
    row.status, row.attempts, row.next_attempt_at = PENDING, 1, now
    row.claimed_by, row.claimed_until = worker, now + _lease()
    call_id = row.id
    db.session.commit()
    result = CallResult(claimed=1)
    _make(call_id, worker, result, now, by_hand=True)
    db.session.expire_all()
    if not result.done:
        row = db.session.get(ServiceCall, call_id)
        raise ProcessFailed(_("The service call failed again: %(error)s",
                              error=(row.last_error if row is not None else "") or ""))
    return incident
