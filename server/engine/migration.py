"""Moving a running case to another version of its process.

SpiffWorkflow aligns the case's tasks with the new version's task specs (by BPMN id, then
by shape: `SpiffWorkflow.bpmn.util.diff`), gives each task its new spec, and resets the
tasks that wait (READY and WAITING) so they are predicted again from the new diagram:
a ready task keeps its id (and so its assignee), and a waiting timer computes its due
time again. A move is planned in full in memory, on a copy of the case: the dry run and
the move are the same code, and the move saves exactly what the dry run showed.

A move is refused, with the reason, when it cannot be made safely: a step the case is at
(or went through) is not in the new version, a subprocess that runs changed shape, or the
moved case cannot be saved and loaded again. Whether the new forms require data the case
lacks is the services' to judge (they read forms): `Move.done_forms` lists what to check.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import tasks
from .due import DUE_AT_KEY, DUE_IN_KEY
from .errors import EngineError
from .runtime import ProcessRuntime
from .serializer import _SPECS
from .snapshot import Snapshot, current_data
from .tasks import FORM_SCHEMA_KEY

_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class TimerChange:
    """A timer of the case whose due time the move changes (None: no such timer)."""

    title: str
    before: datetime | None
    after: datetime | None


@dataclass
class FormStep:
    """A user task of the case with its form in both versions (None: no form)."""

    bpmn_id: str
    title: str
    old_form: str | None
    new_form: str | None
    done: bool  # completed already (else ready now)


@dataclass
class Move:
    """What moving one case would do; with `refusals` it cannot move."""

    refusals: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # steps of the diagram the new one lacks
    added: list[str] = field(default_factory=list)  # steps the new diagram adds
    at_before: list[str] = field(default_factory=list)  # the case's ready tasks now
    at_after: list[str] = field(default_factory=list)  # and after the move
    timers: list[TimerChange] = field(default_factory=list)
    forms: list[FormStep] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # the case's data after the move
    state: bytes | None = None  # the moved workflow, serialized, when it can move
    snapshot: Snapshot | None = None


def plan_move(old: ProcessRuntime, state: bytes, new: ProcessRuntime,
              say: Callable[[str], str] = str) -> Move:
    """Plan moving a saved case from the `old` version's runtime to the `new` one's.

    `say` gives a step's or process's drawn name in the reader's language (the old
    version's translations), for the reasons a move is refused.
    """
    move = Move()
    try:
        workflow = old.load(state)
    except Exception as exc:  # a state this server can no longer read: say so, move nothing
        move.refusals.append(_("the case's state cannot be read: %(error)s", error=exc))
        return move
    if workflow.is_completed():
        move.refusals.append(_("the case's process has ended"))
        return move
    before = old.snapshot(workflow)
    move.at_before = [t.title for t in before.ready]
    target = _target_spec(workflow, new)
    if target is None:
        move.refusals.append(_("the process '%(process)s' is not in the new version",
                               process=say(workflow.spec.name)))
        return move
    spec_diff = SpecDiff(_SPECS.registry, workflow.spec, target)
    move.removed = _names(spec_diff.removed)
    move.added = _names(spec_diff.added)
    top = WorkflowDiff(workflow, spec_diff)
    move.refusals += _gone(top.removed, say)
    subs = _subprocess_diffs(workflow, new, move, say)
    if move.refusals:
        return move
    now = datetime.now(UTC)
    due = [t.title for t in before.timers if t.due_at <= now]
    if due:
        move.refusals.append(_("the timer '%(timer)s' is due now: move the case once it has "
                               "fired", timer=say(due[0])))
        return move
    calls = {c.task_id for c in before.service_calls}
    old_forms = _forms(workflow)
    kept = _kept(workflow)
    since = time.time()
    try:
        workflow.script_engine = new.script_engine  # subprocesses use their top's
        migrate_workflow(top, workflow, target)
        for sp_id, (sub_diff, sub_spec) in subs.items():
            migrate_workflow(sub_diff, workflow.subprocesses[sp_id], sub_spec)
        workflow.subprocess_specs = new.subprocess_specs
        _restore(workflow, kept)
        snapshot = new._settled(workflow, since, lambda: new._run_engine(workflow, since))
        move.state = new.dump(workflow)
        new.load(move.state)  # what is saved must load again on the new version
    except EngineError as exc:
        move.refusals.append(_("on the new version the case would stop: %(error)s", error=exc))
        return move
    except Exception as exc:  # a state SpiffWorkflow cannot carry over: refuse, never save it
        move.refusals.append(_("the case's state cannot be carried over: %(error)s",
                               error=exc))
        return move
    # The move repeats no step, so what the run completed (and the e-mails it asks for)
    # is only what the new diagram does at once: a timer it sets in the past fires.
    snapshot.service_calls = [c for c in snapshot.service_calls if c.task_id not in calls]
    move.snapshot = snapshot
    move.at_after = [t.title for t in snapshot.ready]
    move.timers = _timer_changes(before, snapshot)
    move.forms = [FormStep(task.task_spec.bpmn_id or task.task_spec.name, tasks.title(task),
                           old_forms.get(task.id), tasks.props(task).get(FORM_SCHEMA_KEY),
                           task.state == TaskState.COMPLETED)
                  for task in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY,
                                                 manual=True)]
    move.data = current_data(workflow)
    return move


def _kept(workflow: BpmnWorkflow) -> dict[Any, tuple[Any, ...]]:
    """What the waiting tasks hold that a move keeps where the new diagram did not change it.

    Ready tasks: their data (paused clock hours, values set while they waited) and their
    due time (dueIn). Timers: their due time (a cycle: its count), unless the new diagram
    sets them differently; "working_days(10)" must not start counting again.
    """
    kept: dict[Any, tuple[Any, ...]] = {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        timer = tasks.timer_definition(task)
        kept[task.id] = (copy.deepcopy(task.data), copy.deepcopy(task.internal_data),
                         tasks.props(task).get(DUE_IN_KEY),
                         (type(timer), timer.expression) if timer is not None else None)
    return kept


def _restore(workflow: BpmnWorkflow, kept: dict[Any, tuple[Any, ...]]) -> None:
    """Give the tasks a move reset back what they held, where the new diagram agrees."""
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.id not in kept:
            continue
        data, internal, due_in, timer = kept[task.id]
        if task.state == TaskState.READY:
            task.data = data
        if task.task_spec.manual and due_in == tasks.props(task).get(DUE_IN_KEY):
            task.internal_data.update({k: v for k, v in internal.items() if k == DUE_AT_KEY})
        now = tasks.timer_definition(task)
        if timer is not None and now is not None and timer == (type(now), now.expression) \
                and "event_value" in internal:
            task.internal_data["event_value"] = internal["event_value"]


def _target_spec(workflow: BpmnWorkflow, new: ProcessRuntime) -> BpmnProcessSpec | None:
    """The new version's spec of the process the case runs (a corrective action runs another)."""
    if workflow.spec.name == new.spec.name:
        return new.spec
    return new.subprocess_specs.get(workflow.spec.name)


def _subprocess_diffs(workflow: BpmnWorkflow, new: ProcessRuntime, move: Move,
                      say: Callable[[str], str]) -> dict[Any, tuple[WorkflowDiff, BpmnProcessSpec]]:
    """The diff of every running subprocess; refuse one that is gone or changed shape."""
    found = {}
    for sp_id, sub in workflow.subprocesses.items():
        spec = new.subprocess_specs.get(sub.spec.name)
        if spec is None:
            move.refusals.append(_("the subprocess '%(name)s' that runs in the case is not "
                                   "in the new version", name=say(_process_name(sub.spec))))
            continue
        spec_diff = SpecDiff(_SPECS.registry, sub.spec, spec)
        if spec_diff.removed or spec_diff.added:
            move.refusals.append(_("the subprocess '%(name)s' that runs in the case changed "
                                   "shape (steps added or removed): move the case once it "
                                   "has finished", name=say(_process_name(sub.spec))))
            continue
        found[sp_id] = (WorkflowDiff(sub, spec_diff), spec)
    return found


def _gone(removed: list[Task], say: Callable[[str], str]) -> list[str]:
    """Why tasks whose steps the new version lacks stop the move (predicted ones do not)."""
    reasons = []
    for task in removed:
        if task.state & _LIVE:
            reasons.append(_("the step '%(step)s' where the case is now is not in the new "
                             "version", step=say(tasks.title(task))))
        elif task.state & TaskState.FINISHED_MASK and _named(task.task_spec):
            reasons.append(_("the step '%(step)s' the case went through is not in the new "
                             "version", step=say(tasks.title(task))))
    return list(dict.fromkeys(reasons))


def _forms(workflow: BpmnWorkflow) -> dict[Any, str | None]:
    """The form of each user task of the case, on its present version."""
    return {task.id: tasks.props(task).get(FORM_SCHEMA_KEY)
            for task in workflow.get_tasks(manual=True)}


def _timer_changes(before: Snapshot, after: Snapshot) -> list[TimerChange]:
    """The timers whose due time the move set again differently, started or stopped."""
    was = {t.task_id: t for t in before.timers}
    now = {t.task_id: t for t in after.timers}
    changes = [TimerChange(t.title, was[t.task_id].due_at if t.task_id in was else None,
                           t.due_at)
               for t in after.timers if t.task_id not in was or was[t.task_id].due_at != t.due_at]
    changes += [TimerChange(t.title, t.due_at, None) for t in before.timers if t.task_id not in now]
    return changes


def _named(spec: Any) -> bool:
    """Whether a task spec is a drawn element (not one SpiffWorkflow adds, like a join)."""
    return bool(getattr(spec, "bpmn_id", None))


def _names(specs: list[Any]) -> list[str]:
    """The names people know drawn steps by, in the order given, once each."""
    return list(dict.fromkeys(spec.bpmn_name or spec.bpmn_id for spec in specs if _named(spec)))


def _process_name(spec: BpmnProcessSpec) -> str:
    """A process's name as drawn, else its id."""
    return str(getattr(spec, "description", None) or spec.name)
