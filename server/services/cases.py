"""Cases: starting one from intake, completing its tasks, delivering messages to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..engine import EngineError, MessageNotExpected, TaskNotReady
from ..errors import Conflict, InvalidInput, NotFound, ProcessFailed
from ..extensions import db
from ..formkit import dynamic
from ..models import Case, HumanTask, ReferenceCounter, utcnow
from . import audit, links, lookups, script_functions, tasks
from .actors import Actor
from .forms import validate
from .processes import active_version_id, form_schema, runtime_for
from .recording import (
    load_case,
    load_case_and_task,
    record_event,
    record_new_case,
    record_step,
)
from .records import CaseRecord, TaskRecord
from .representatives import REPRESENTATIVE_FIELDS, check_representative
from .staff_voice import in_staff_voice

CHANNELS = ("web", "phone", "walk_in", "letter", "email", "api")
INTAKE_FIELDS = ("complainant_name", "complainant_email", "complainant_phone",
                 "preferred_language", "product_service", "description", "remedy_sought",
                 *REPRESENTATIVE_FIELDS)
MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case just started, and the complainant's tracking token.

    The token is shown once to whoever filed the complaint; only its hash is stored.
    """

    case: CaseRecord
    tracking_token: str


@lookups.reads_once  # the deadlines the run sets and the facts the save records, read once
def start_case(intake: dict[str, Any], channel: str, actor: Actor,
               received_at: datetime | None = None,
               also: Callable[[CaseRecord], None] | None = None) -> NewCase:
    """Validate intake against the process's intake form, create the case, run to its first wait.

    `received_at` is when the complaint reached us (a letter's date, a call's time) if
    staff recorded it later; deadlines count from it. By default, now. `also` writes rows
    that commit with the new case or not at all (services/inbound_mail.py).
    """
    if channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel '%(channel)s': use one of %(channels)s.",
                             channel=channel, channels=", ".join(CHANNELS)))
    version_id = active_version_id()
    runtime = runtime_for(version_id)
    if runtime.start_form is None:
        raise ProcessFailed(_("The process has no intake form: its start event needs the "
                              "property formJsonSchemaFilename."))
    cleaned = validate(form_schema(version_id, runtime.start_form), intake)
    missing = [f for f in ("complainant_name", "description") if not cleaned.get(f)]
    if missing:
        raise InvalidInput(_("The intake form must ask for the complainant's name and the "
                             "description."), {f: [_("This field is required.")] for f in missing})
    check_representative(cleaned)
    now = utcnow()
    received = received_at or now
    try:
        with script_functions.acting(actor, None):
            workflow, snapshot = runtime.start({**cleaned, "channel": channel,
                                                "received_at": received.isoformat()})
    except EngineError as exc:
        raise ProcessFailed(_("The complaint could not be registered: %(reason)s",
                                reason=exc)) from None
    state = runtime.dump(workflow)
    # The engine ran outside the write lock: nothing else can touch a case not yet made.
    begin_write()
    seed = links.new_seed()
    token = links.token_for(seed)
    fields = {"reference": _next_reference(now), "process_version_id": version_id,
              "channel": channel, "received_at": received,
              "tracking_token_hash": links.token_hash(token),
              **{f: cleaned.get(f) for f in INTAKE_FIELDS}}
    case = record_new_case(fields, state, snapshot, actor,
                           f"Complaint received ({channel})",
                           {"channel": channel, "form": runtime.start_form, "values": cleaned,
                            "received_at": received.isoformat()},
                           now, seed, also)
    return NewCase(case, token)


def case_data(case: Case) -> dict[str, Any]:
    """The case's workflow data as its newest step sees it (decision, review, closure...)."""
    return runtime_for(case.process_version_id).data_of(case.workflow_state)


def intake_form(staff: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The active process's intake form (JSON Schema) and its UI schema.

    For staff, in their words when the start event names a staffUiSchemaFilename: the
    same fields, labelled "Complainant's name" instead of "Your name".
    """
    version_id = active_version_id()
    runtime = runtime_for(version_id)
    if runtime.start_form is None:
        raise ProcessFailed(_("The process has no intake form: its start event needs the "
                              "property formJsonSchemaFilename."))
    ui = form_schema(version_id, runtime.start_ui_form) if runtime.start_ui_form else None
    schema = form_schema(version_id, runtime.start_form)
    if staff and runtime.start_staff_ui:
        return in_staff_voice(version_id, schema, ui, runtime.start_staff_ui)
    return schema, ui


def get_case(reference: str) -> Case:
    """The case with this reference, as a model for reading (pages, reports)."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(_("There is no case %(reference)s.", reference=reference))
    return case


def complete_task(reference: str, task_id: str, values: Any, actor: Actor,
                  expected_version: int | None = None,
                  read: tuple[CaseRecord, TaskRecord] | None = None,
                  settings_stamp: str | None = None) -> CaseRecord:
    """Complete a ready user task with form values; only declared, valid fields are kept.

    `read` is the case and task as the caller read them in this request, outside the
    write lock (the task page's `tasks.open_task`): the first attempt starts from it
    rather than reading both again. It is checked as any read is, by the case's version
    on saving; a case that moved meanwhile is read afresh under the lock. So is
    `settings_stamp`, the settings stamp read with them (services/lookups.py).
    """
    return _optimistically(lambda locked: _complete_task(
        reference, task_id, values, actor, expected_version, locked,
        None if locked else read), settings_stamp if read is not None else None)


class _Moved(Exception):
    """The case changed between the read outside the write lock and the write."""


def _optimistically(step: Callable[[bool], CaseRecord],
                    settings_stamp: str | None = None) -> CaseRecord:
    """Run a step with the engine outside the write lock; again inside it if the case moved.

    The write lock (SQLite's, one writer at a time) is taken only to write: the engine
    work before it runs while other workers write. The case's version check on saving
    (decision 7) catches a case that changed meanwhile; the step then runs once more
    holding the lock throughout, so it gives the same answer as if it had waited.
    """
    # Each attempt reads the policy's targets and the calendar once: the deadlines the
    # engine run sets and the reporting facts the save records ask for the same rows. The
    # first starts from the settings stamp the caller read with the case, if it did.
    try:
        with lookups.read_once(settings_stamp):
            return step(False)
    except _Moved:
        with lookups.read_once():
            return step(True)


def _record(locked: bool, save: Callable[[], CaseRecord]) -> CaseRecord:
    """Take the write lock (unless held) and save; a lost race outside the lock is _Moved."""
    if locked:
        return save()
    begin_write()
    try:
        return save()
    except Conflict:
        raise _Moved from None


def _complete_task(reference: str, task_id: str, values: Any, actor: Actor,
                   expected_version: int | None, locked: bool,
                   read: tuple[CaseRecord, TaskRecord] | None) -> CaseRecord:
    """complete_task's work, reading under the write lock or not (`locked`)."""
    if locked:
        begin_write()
    case, task = read if read is not None else load_case_and_task(reference, task_id)
    if task is None:
        raise Conflict(_("This task is no longer open: it was completed or the case moved on. "
                         "Reload the case to see where it stands."))
    tasks.authorize(case, task, actor)
    if expected_version is not None and case.version != expected_version:
        raise Conflict(_("Case %(reference)s changed while you were working on it. Reload it; "
                         "your input is still in the form.", reference=reference))
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    schema = form_schema(case.process_version_id, task.form) if task.form else None
    # Choices a task data variable lists are checked against what the task holds now.
    wanted = dynamic.names(schema) if schema else set()
    try:
        data = runtime.task_data(workflow, task_id) if wanted else {}
    except TaskNotReady as exc:
        raise Conflict(str(exc)) from None
    cleaned = validate(schema, values, data) if schema is not None else {}
    try:
        with script_functions.acting(actor, case.id):
            snapshot = runtime.complete(workflow, task_id, cleaned)
    except TaskNotReady as exc:
        raise Conflict(str(exc)) from None
    except EngineError as exc:
        raise ProcessFailed(_("The task could not be completed: %(reason)s", reason=exc)) from None
    state = runtime.dump(workflow)
    return _record(locked, lambda: record_step(
        case, state, snapshot, actor, "task.completed", f"{task.title} completed",
        {"task": task.bpmn_id, "task_id": task_id, "title": task.title, "role": task.role,
         "form": task.form, "values": cleaned, **_labels(schema, data, cleaned),
         **({"on_behalf": actor.on_behalf} if actor.on_behalf else {})},
        utcnow()))


def _labels(schema: dict[str, Any] | None, data: dict[str, Any],
            cleaned: dict[str, Any]) -> dict[str, Any]:
    """The labels of answers picked from task data, for the history to read them back."""
    kept = dynamic.chosen(schema, data, cleaned) if schema and data else {}
    return {"options": kept} if kept else {}


def send_message(reference: str, name: str, payload: Any, actor: Actor,
                 also: Callable[[], None] | None = None) -> CaseRecord:
    """Deliver a message (the complainant's answer, new information) into a case.

    `also` writes what must commit with the step or not at all.
    """
    if payload is not None and not isinstance(payload, dict):
        raise InvalidInput(_("A message carries a set of named fields."))
    payload = payload or {}
    text = audit.canonical(payload)
    # A name starting with "_" would sit in the case data where SpiffWorkflow refuses
    # every later script of the case.
    if len(text.encode()) > MAX_MESSAGE_BYTES or '"typename"' in text or \
            any(str(key).startswith("_") for key in payload):
        raise InvalidInput(_("The message is too large or uses a reserved name."))
    return _optimistically(lambda locked: _send_message(reference, name, payload, actor,
                                                        also, locked))


def _send_message(reference: str, name: str, payload: dict[str, Any], actor: Actor,
                  also: Callable[[], None] | None, locked: bool) -> CaseRecord:
    """send_message's work, reading under the write lock or not (`locked`)."""
    if locked:
        begin_write()
    case = load_case(reference)
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    form = next((f for f in runtime.message_forms(workflow) if f["message"] == name), None)
    title = form["title"] if form else name
    try:
        snapshot = runtime.message(workflow, name, payload)
    except MessageNotExpected:
        raise Conflict(_("Case %(reference)s is not waiting for '%(name)s' at this stage.",
                         reference=reference, name=name)) from None
    except EngineError as exc:
        raise ProcessFailed(_("The message could not be taken: %(reason)s", reason=exc)) from None
    state = runtime.dump(workflow)
    return _record(locked, lambda: record_step(
        case, state, snapshot, actor, "message.received", f"Message received: {title}",
        {"message": name, "form": form["form"] if form else None, "payload": payload},
        utcnow(), also))


def ready_tasks(case: Case) -> list[HumanTask]:
    """The case's tasks that wait for a person, oldest first."""
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)
                                   .order_by(HumanTask.created_at, HumanTask.id)))


MAX_NOTE = 10_000


def add_note(reference: str, text: str, actor: Actor) -> None:
    """Add an internal note to a case's history (staff only; never shown publicly)."""
    text = (text or "").strip().replace("\r\n", "\n")
    if not text:
        raise InvalidInput(_("Write the note first."), {"note": [_("Write the note first.")]})
    if len(text) > MAX_NOTE:
        raise InvalidInput(_("Notes are at most %(count)s characters.", count=f"{MAX_NOTE:,}"),
                           {"note": [_("Shorten the note to %(count)s characters.",
                                       count=f"{MAX_NOTE:,}")]})
    begin_write()
    case = load_case(reference)
    record_event(case, actor, "note.added", "Internal note", {"note": text}, utcnow())


def waiting_messages(case: CaseRecord) -> list[str]:
    """The messages the case accepts now (e.g. the complainant's answer)."""
    runtime = runtime_for(case.process_version_id)
    return runtime.snapshot(runtime.load(case.workflow_state)).messages


_COUNTERS = ReferenceCounter.__table__
_NEXT_NUMBER = (update(_COUNTERS).where(_COUNTERS.c.year == bindparam("for_year"))
                .values(last=_COUNTERS.c.last + 1).returning(_COUNTERS.c.last))


def _next_reference(now: datetime) -> str:
    year = now.year
    conn = db.session.connection()
    number = conn.execute(_NEXT_NUMBER, {"for_year": year}).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(year=year, last=0))
        except IntegrityError:  # another writer created the year's row first
            pass
        number = conn.execute(_NEXT_NUMBER, {"for_year": year}).scalar()
    prefix = current_app.config["PLAINT_REFERENCE_PREFIX"]
    return f"{prefix}-{year}-{number:06d}"
