"""Opening a task for a person: the one place that says who may work it, and why not.

The task page, claiming and completing all ask `refusal` (role, assignee, objectivity),
so the three doors into a task give the same answer in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, bindparam, select, true

from ..access import SUPERVISE, can
from ..database import begin_write
from ..engine import TaskNotReady
from ..engine.instructions import InstructionsError
from ..engine.instructions import render as render_instructions
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..formkit import dynamic
from ..models import Case, HumanTask
from . import labels, lookups, objectivity, process_texts, system_log, visibility
from .actors import Actor
from .objectivity import GuardedTask, HandledCase
from .processes import form_schema, runtime_for
from .records import TASK_COLUMNS, CaseRecord, TaskRecord

# Actors that objectivity holds to: staff, and API clients acting for a member of staff.
PEOPLE = ("staff", "api")
_CASES = Case.__table__
_TASKS = HumanTask.__table__


class WorkedTask(GuardedTask, Protocol):
    """What deciding who may work a task needs: a `TaskRecord`, a `HumanTask` or a view."""

    @property
    def role(self) -> str | None: ...
    @property
    def assignee_id(self) -> int | None: ...


@dataclass(frozen=True)
class OpenTask:
    """A task opened for a person, with what the diagram says about it.

    The case and task are the rows as read for writing: sending the form completes the
    task from this read (services/cases.py complete_task), not from a second one.
    """

    case: CaseRecord
    task: TaskRecord
    ui_form: str | None
    instructions: str | None
    prompt: str | None  # what the worker is asked (the task's promptVariable)
    shows: tuple[str, ...] = ()  # the forms and fields of earlier steps to show (`shows`)
    values: dict[str, Any] = field(default_factory=dict)  # what the form opens filled with
    # The task data variables the form takes its choices from (formkit/dynamic.py).
    options: dict[str, Any] = field(default_factory=dict)
    # The settings stamp read with the case: completing the task reads no other.
    settings_stamp: str | None = None


def refusal(case: HandledCase, task: WorkedTask, actor: Actor,
            claiming: bool = False) -> str | None:
    """Why `actor` may not work this task (None if they may).

    Claiming skips the assignee rule: the claim itself settles who holds the task.
    """
    reason = _role_refusal(case, task, actor, claiming)
    if reason is None and actor.kind in PEOPLE:
        return _objectivity(case, task, actor)
    return reason


def _objectivity(case: HandledCase, task: WorkedTask, actor: Actor) -> str | None:
    """Objectivity's refusal for every name the actor's earlier steps may be under."""
    return next((reason for name in actor.people
                 if (reason := objectivity.refusal(case, task, name)) is not None), None)


def _role_refusal(case: HandledCase, task: WorkedTask, actor: Actor,
                  claiming: bool) -> str | None:
    """Why the actor's roles, or someone else holding the task, keep them from it."""
    if actor.kind == "system":
        return None
    if task.role is None or not actor.has_role(task.role):
        return _("Only people with the role '%(role)s' can work on %(task)s.",
                 role=labels.role(task.role), task=_title(case, task))
    if not claiming and task.assignee_id is not None and task.assignee_id != actor.user_id:
        return _("%(task)s is assigned to someone else. Ask a supervisor to reassign it.",
                 task=_title(case, task))
    return None


def _title(case: HandledCase, task: WorkedTask) -> str:
    """The task's title in the reader's language (only a refusal shows it)."""
    return process_texts.text(case.process_version_id, task.title, process_texts.reading())


def authorize(case: HandledCase, task: WorkedTask, actor: Actor,
              claiming: bool = False) -> None:
    """Raise Forbidden, saying why, unless `actor` may work (or claim) the task."""
    reason = _checked(case, task, actor, claiming, attempt=True)
    if reason is not None:
        raise Forbidden(reason)


def _checked(case: HandledCase, task: WorkedTask, actor: Actor, claiming: bool,
             attempt: bool) -> str | None:
    """`refusal`, keeping an attempt to act that objectivity refuses in the system log.

    That log is the ISO 10002 evidence that the rule holds; it is written in a
    transaction of its own, since the refused change itself is rolled back.
    """
    reason = _role_refusal(case, task, actor, claiming)
    if reason is None and actor.kind in PEOPLE:
        reason = _objectivity(case, task, actor)
        if reason is not None and attempt:
            _log_objectivity_refusal(case, task, actor, reason)
    return reason


def _log_objectivity_refusal(case: HandledCase, task: WorkedTask, actor: Actor,
                             reason: str) -> None:
    db.session.rollback()
    begin_write()
    system_log.record(actor, "objectivity.refused",
                      f"{task.title} refused to {actor.name}: objectivity",
                      {"case_id": case.id, "task": task.bpmn_id, "reason": reason})
    db.session.commit()


def open_task(reference: str, task_id: str, actor: Actor, prefill: bool = False,
              attempt: bool = False) -> OpenTask:
    """The case and one of its ready tasks, for a person who may work it (or supervises).

    `attempt` says the person is sending the task's form (an objectivity refusal is then
    logged, as for a claim). With `prefill`, the form's values come from what the case
    already holds under the field names (or the variables the task's `prefill` property
    names).
    """
    # The case, its task and the need-to-know rule in one prebuilt query: every task page
    # and every step reads all three.
    case, task, stamp = _read(reference, task_id, actor)
    if task is None:
        raise Conflict(_("This task is no longer open: it was completed or the case moved on."))
    reason = _checked(case, task, actor, claiming=False, attempt=attempt)
    if reason is not None and not (_held_by_other(task, actor) and can(actor, SUPERVISE)):
        raise Forbidden(reason)
    runtime = runtime_for(case.process_version_id)
    info = runtime.task_info(task.bpmn_id)
    sources = _prefill_sources(case.process_version_id, task.form, info["prefill"]) \
        if prefill and task.form else {}
    prompt, values, instructions = None, {}, info["instructions"]
    wanted = dynamic.names(form_schema(case.process_version_id, task.form)) \
        if task.form else set()
    options: dict[str, Any] = {}
    if info["asks"] or sources or info["template"] or wanted:
        try:
            workflow = runtime.load(case.workflow_state)
            if info["asks"]:
                prompt = runtime.prompt(workflow, task.task_id)
            values = runtime.form_values(workflow, task.task_id, sources)
            if info["template"] or wanted:
                data = runtime.task_data(workflow, task.task_id)
                options = {name: data[name] for name in wanted if name in data}
            if info["template"]:
                instructions = _filled(case, info["template"], data)
        except TaskNotReady:
            raise Conflict(_("This task is no longer open: it was completed or the case "
                             "moved on.")) from None
    return OpenTask(case, task, info["ui_form"], instructions, prompt,
                    info["shows"], values, options, stamp)


def _read(reference: str, task_id: str,
          actor: Actor) -> tuple[CaseRecord, TaskRecord | None, str]:
    """The case, its ready task (None if not ready) and the settings stamp; refused unless
    the actor may read the case (visibility.py: a neutral 403, the refusal logged);
    NotFound if there is no such case."""
    if visibility.reads_all(actor):
        query = _EVERY_READER
    elif actor.user_id is not None:
        query = _for_person(actor.user_id, actor.people)
    else:
        query = _case_and_task(visibility.readable(actor))
    row = db.session.connection().execute(
        query, {"reference": reference, "task_id": task_id}).first()
    if row is None:
        raise NotFound(_("There is no case %(reference)s.", reference=reference))
    values = dict(row._mapping)
    if not values.pop("readable"):
        visibility.refuse(actor, values["id"], "task", task_id)
    stamp = str(values.pop("settings_stamp"))
    task = {name: values.pop(f"task_{name}") for name in TASK_COLUMNS}
    found = values.pop("task_row") is not None
    return CaseRecord(**values), TaskRecord(**task) if found else None, stamp


def _case_and_task(readable: ColumnElement[bool]) -> Select[Any]:
    """A case by reference, its task by id (outer-joined), whether the reader may read it,
    and the settings stamp."""
    return (
        select(_CASES, *(_TASKS.c[name].label(f"task_{name}") for name in TASK_COLUMNS),
               _TASKS.c.id.label("task_row"), readable.label("readable"),
               lookups.stamp_column().label("settings_stamp"))
        .select_from(_CASES.outerjoin(_TASKS, (_TASKS.c.case_id == _CASES.c.id)
                                      & (_TASKS.c.task_id == bindparam("task_id"))))
        .where(_CASES.c.reference == bindparam("reference")))


_EVERY_READER = _case_and_task(true())


@lru_cache(maxsize=1024)
def _for_person(uid: int, people: tuple[str, ...]) -> Select[Any]:
    """_read's query for one person, built once per process (as visibility's condition)."""
    return _case_and_task(visibility.readable_by(uid, people))


def _filled(case: CaseRecord, template: str, data: dict[str, Any]) -> str:
    """A task's instructionsForEndUser in the reader's language, filled in with its data.

    Translated first, so the translation keeps the template's placeholders; a template
    that fails or hits a limit shows as written, and the failure is logged.
    """
    source = process_texts.text(case.process_version_id, template, process_texts.reading())
    try:
        return render_instructions(source, data)
    except InstructionsError as exc:
        current_app.logger.warning("instructions of a task of %s not filled in: %s",
                                   case.reference, exc)
        return source


def _prefill_sources(version_id: int, form: str,
                     pairs: tuple[tuple[str, str], ...] | None) -> dict[str, str]:
    """Each field of the form that opens filled, with the variable it is filled from."""
    fields = list(form_schema(version_id, form).get("properties") or {})
    if pairs is None:
        return {name: name for name in fields}
    chosen = {name: name for name in fields} if "*" in dict(pairs) else {}
    chosen.update((f, v) for f, v in pairs if f in fields)
    return chosen


def works_on(actor: Actor, reference: str, **_: Any) -> bool:
    """Whether the case has a ready task for one of the actor's roles (need to know)."""
    return db.session.scalar(
        select(HumanTask.id).join(Case, Case.id == HumanTask.case_id)
        .where(Case.reference == reference, HumanTask.role.in_(sorted(actor.roles)))
        .limit(1)) is not None


def _held_by_other(task: TaskRecord, actor: Actor) -> bool:
    """A supervisor of the task's role may look at a colleague's task to reassign it."""
    return task.role is not None and actor.has_role(task.role) and \
        task.assignee_id not in (None, actor.user_id)
