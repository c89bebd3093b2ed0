"""Cases: starting one from intake, completing its tasks, delivering messages to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..database import begin_write
from ..engine import EngineError, MessageNotExpected, Snapshot, TaskNotReady
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, ProcessFailed
from ..extensions import db
from ..models import Case, HumanTask, ReferenceCounter, Timer, utcnow
from . import audit
from .actors import Actor
from .forms import validate
from .processes import active_version, form_schema, runtime_for

CHANNELS = ("web", "phone", "walk_in", "letter", "email", "api")
INTAKE_FIELDS = ("complainant_name", "complainant_email", "complainant_phone",
                 "preferred_language", "product_service", "description", "remedy_sought")
PROJECTED = ("priority", "category")  # workflow variables mirrored on the case row
MILESTONES = {"acknowledged": "acknowledged_at", "resolved": "resolved_at"}
MAX_MESSAGE_BYTES = 64 * 1024


def start_case(intake: dict[str, Any], channel: str, actor: Actor) -> Case:
    """Validate intake against the process's intake form, create the case, run to its first wait."""
    if channel not in CHANNELS:
        raise InvalidInput(f"Unknown channel '{channel}': use one of {', '.join(CHANNELS)}.")
    version = active_version()
    runtime = runtime_for(version.id)
    if runtime.start_form is None:
        raise ProcessFailed("The process has no intake form: its start event needs the "
                            "property formJsonSchemaFilename.")
    cleaned = validate(form_schema(version.id, runtime.start_form), intake)
    missing = [f for f in ("complainant_name", "description") if not cleaned.get(f)]
    if missing:
        raise InvalidInput("The intake form must ask for the complainant's name and the "
                           "description.", {f: ["This field is required."] for f in missing})
    begin_write()
    now = utcnow()
    try:
        workflow, snapshot = runtime.start({**cleaned, "channel": channel})
    except EngineError as exc:
        raise ProcessFailed(f"The complaint could not be registered: {exc}") from None
    case = Case(
        reference=_next_reference(now), process_version_id=version.id, channel=channel,
        received_at=now, updated_at=now, workflow_state=runtime.dump(workflow),
        **{f: cleaned.get(f) for f in INTAKE_FIELDS},
    )
    db.session.add(case)
    db.session.flush()
    changes = _apply(case, snapshot, now)
    audit.record(case, actor, "case.received", f"Complaint received ({channel})",
                 {"channel": channel, "values": cleaned, "changes": changes,
                  "next": [t.title for t in snapshot.ready]}, at=now)
    db.session.commit()
    return case


def get_case(reference: str) -> Case:
    """The case with this reference."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"There is no case {reference}.")
    return case


def complete_task(reference: str, task_id: str, values: Any, actor: Actor,
                  expected_version: int | None = None) -> Case:
    """Complete a ready user task with form values; only declared, valid fields are kept."""
    begin_write()
    case = get_case(reference)
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.task_id == task_id))
    if task is None:
        raise Conflict("This task is no longer open: it was completed or the case moved on. "
                       "Reload the case to see where it stands.")
    _authorize_task(task, actor)
    if expected_version is not None and case.version != expected_version:
        raise Conflict(f"Case {reference} changed while you were working on it. Reload it; "
                       "your input is still in the form.")
    cleaned = validate(form_schema(case.process_version_id, task.form), values) \
        if task.form else {}
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    try:
        snapshot = runtime.complete(workflow, task_id, cleaned)
    except TaskNotReady as exc:
        raise Conflict(str(exc)) from None
    except EngineError as exc:
        raise ProcessFailed(f"The task could not be completed: {exc}") from None
    now = utcnow()
    with _saving(case):
        case.workflow_state = runtime.dump(workflow)
        changes = _apply(case, snapshot, now)
        audit.record(case, actor, "task.completed", f"{task.title} completed",
                     {"task": task.bpmn_id, "values": cleaned, "changes": changes,
                      "next": [t.title for t in snapshot.ready]}, at=now)
    return case


def send_message(reference: str, name: str, payload: Any, actor: Actor) -> Case:
    """Deliver a message (the complainant's answer, new information) into a case."""
    if payload is not None and not isinstance(payload, dict):
        raise InvalidInput("A message carries a set of named fields.")
    payload = payload or {}
    if len(audit.canonical(payload).encode()) > MAX_MESSAGE_BYTES or \
            '"typename"' in audit.canonical(payload):
        raise InvalidInput("The message is too large or uses a reserved name.")
    begin_write()
    case = get_case(reference)
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    try:
        snapshot = runtime.message(workflow, name, payload)
    except MessageNotExpected:
        raise Conflict(f"Case {reference} is not waiting for '{name}' at this stage.") from None
    except EngineError as exc:
        raise ProcessFailed(f"The message could not be taken: {exc}") from None
    now = utcnow()
    with _saving(case):
        case.workflow_state = runtime.dump(workflow)
        changes = _apply(case, snapshot, now)
        audit.record(case, actor, "message.received", f"Message '{name}' received",
                     {"message": name, "payload": payload, "changes": changes,
                      "next": [t.title for t in snapshot.ready]}, at=now)
    return case


def waiting_messages(case: Case) -> list[str]:
    """The messages the case accepts now (e.g. the complainant's answer)."""
    runtime = runtime_for(case.process_version_id)
    return runtime.snapshot(runtime.load(case.workflow_state)).messages


def _authorize_task(task: HumanTask, actor: Actor) -> None:
    if actor.kind == "system":
        return
    if task.role is None or not actor.has_role(task.role):
        raise Forbidden(f"Only people with the role '{task.role}' can work on {task.title}.")
    if task.assignee_id is not None and task.assignee_id != actor.user_id:
        raise Forbidden(f"{task.title} is assigned to someone else. Ask a supervisor to "
                        "reassign it.")


@contextmanager
def _saving(case: Case) -> Iterator[None]:
    """Write the case and commit; a concurrent writer's win becomes a clear Conflict.

    The version check can fail at any flush inside the block (queries autoflush),
    not only at commit, so the whole write sits inside it.
    """
    try:
        # One UPDATE of the case row, at commit: no early autoflush by the queries inside.
        with db.session.no_autoflush:
            yield
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # IntegrityError: on PostgreSQL the loser can trip over the winner's history row
        # (same case, same sequence number) before it reaches the version check.
        db.session.rollback()
        raise Conflict(f"Case {case.reference} was changed by someone else at the same "
                       "moment. Reload it and try again; nothing of yours was saved.") from None


def apply_snapshot(case: Case, snapshot: Snapshot, now: datetime) -> dict[str, list[Any]]:
    """Write the projections of a case after an engine run; return the field changes."""
    return _apply(case, snapshot, now)


def _apply(case: Case, snapshot: Snapshot, now: datetime) -> dict[str, list[Any]]:
    before = {f: getattr(case, f) for f in ("status_label", *PROJECTED, "is_open")}
    if snapshot.status_label:
        case.status_label = snapshot.status_label
    for name in PROJECTED:
        value = snapshot.data.get(name)
        if isinstance(value, str) and value:
            setattr(case, name, value[:64])
    for milestone, column in MILESTONES.items():
        if milestone in snapshot.milestones and getattr(case, column) is None:
            setattr(case, column, now)
    if snapshot.completed and case.is_open:
        case.is_open = False
        case.closed_at = now
    case.updated_at = now
    _project_tasks(case, snapshot, now)
    _project_timers(case, snapshot)
    return {f: [before[f], getattr(case, f)] for f in before if before[f] != getattr(case, f)}


_TASKS = HumanTask.__table__
_TIMERS = Timer.__table__


def _sync_rows(table: Table, case: Case, wanted: dict[str, Any],
               new_row: Callable[[Any], dict[str, Any]],
               moved: Callable[[Any], dict[str, Any]]) -> None:
    """Make a projection table's rows for a case match `wanted` (keyed by task id).

    Core statements on the table: these rows are rewritten on every step, and the
    ORM's per-statement overhead measured larger than the engine run itself.
    """
    conn = db.session.connection()
    existing = {row.task_id: row for row in conn.execute(
        select(table.c.id, table.c.task_id, table.c.due_at).where(table.c.case_id == case.id))}
    gone = [row.id for task_id, row in existing.items() if task_id not in wanted]
    if gone:
        conn.execute(table.delete().where(table.c.id.in_(gone)))
    for task_id, row in existing.items():
        if task_id in wanted and row.due_at != wanted[task_id].due_at:
            conn.execute(table.update().where(table.c.id == row.id)
                         .values(**moved(wanted[task_id])))
    new = [new_row(item) for task_id, item in wanted.items() if task_id not in existing]
    if new:
        conn.execute(table.insert(), new)


def _project_tasks(case: Case, snapshot: Snapshot, now: datetime) -> None:
    _sync_rows(
        HumanTask.__table__, case, {t.task_id: t for t in snapshot.ready},
        new_row=lambda t: {
            "case_id": case.id, "task_id": t.task_id, "bpmn_id": t.bpmn_id,
            "title": t.title[:255], "lane": t.lane, "role": t.role, "form": t.form,
            "assignee_id": None, "due_at": t.due_at, "created_at": now},
        moved=lambda t: {"due_at": t.due_at})


def _project_timers(case: Case, snapshot: Snapshot) -> None:
    _sync_rows(
        Timer.__table__, case, {t.task_id: t for t in snapshot.timers},
        new_row=lambda t: {
            "case_id": case.id, "task_id": t.task_id, "bpmn_id": t.bpmn_id,
            "title": t.title[:255], "due_at": t.due_at, "claimed_by": None,
            "claimed_until": None, "attempts": 0, "last_error": None},
        # A cycle timer moved on to its next occurrence: a fresh, unclaimed row.
        moved=lambda t: {"due_at": t.due_at, "claimed_by": None, "claimed_until": None,
                         "last_error": None, "attempts": 0})


def _next_reference(now: datetime) -> str:
    from flask import current_app

    year = now.year
    counter = update(ReferenceCounter).where(ReferenceCounter.year == year) \
        .values(last=ReferenceCounter.last + 1).returning(ReferenceCounter.last)
    number = db.session.scalar(counter)
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(year=year, last=0))
        except IntegrityError:  # another writer created the year's row first
            pass
        number = db.session.scalar(counter)
    prefix = current_app.config["PLAINT_REFERENCE_PREFIX"]
    return f"{prefix}-{year}-{number:06d}"
