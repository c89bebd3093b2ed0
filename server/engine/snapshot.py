"""What the database must know about a workflow after it ran: a Snapshot.

The user tasks now ready, the timers now waiting with their due times, the messages the
case waits for, the public status label, the milestones reached and the e-mails the
diagram asks for. The services turn that into rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import due, reports, tasks
from .bundle_checks import OUTSIDE_LANES
from .errors import EngineError
from .service_tasks import ServiceCall
from .tasks import (
    FLAG_KEY,
    FORM_SCHEMA_KEY,
    FORM_UI_KEY,
    MILESTONE_KEY,
    NOTIFY_KEY,
    NOTIFY_TO_KEY,
    REMINDER_KEY,
    ROLE_KEY,
    ROLE_VARIABLE_KEY,
    STATUS_KEY,
)
from .walk import TaskWalk


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person."""

    task_id: str
    bpmn_id: str
    title: str
    lane: str | None
    role: str | None
    form: str | None
    ui_form: str | None
    instructions: str | None
    due_at: datetime | None
    # What fired on the task's boundary without interrupting it (inboxFlag properties),
    # e.g. "Acknowledgement due soon": shown on the inbox row.
    flag: str | None = None


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event waiting for its due time."""

    task_id: str
    bpmn_id: str
    title: str
    due_at: datetime


@dataclass(frozen=True)
class Notice:
    """An e-mail the diagram asks for: an element with the `notify` property completed.

    `task_id` is the task a boundary event is attached to (so "assignee" means whoever
    holds that task), else the element's own task.
    """

    template: str
    recipient: str
    element: str
    title: str
    task_id: str
    role: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Deadline:
    """A boundary timer that fired in this run: a reminder before a task's deadline, or
    the deadline itself passing (any boundary timer that is not a `reminder`).

    `task_id`, `task_title` and `role` are of the activity the timer sits on.
    """

    kind: str  # "reminder" or "breached"
    element: str
    title: str
    task_id: str
    task_title: str
    role: str | None
    due_at: datetime | None


@dataclass
class Snapshot:
    """What the database must know about a workflow after it ran."""

    ready: list[ReadyTask]
    timers: list[WaitingTimer]
    messages: list[str]
    status_label: str | None
    milestones: set[str]
    data: dict[str, Any]
    completed: bool
    fired: list[str] = field(default_factory=list)
    # Milestones reached and e-mails asked for by elements completed in this run only.
    reached: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # What the diagram reports (reportAs on completed elements): report field -> value.
    report: dict[str, Any] = field(default_factory=dict)
    # When each milestone was first reached, and how often (a case reopened twice: 2).
    milestone_times: dict[str, datetime] = field(default_factory=dict)
    milestone_counts: dict[str, int] = field(default_factory=dict)
    # Messages thrown in this run that start another process of the version (a
    # corrective action), with their payloads: (message name, payload).
    thrown: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Service tasks waiting for their call (engine/service_tasks.py): a worker makes it.
    service_calls: list[ServiceCall] = field(default_factory=list)
    # Boundary timers on tasks that fired in this run (webhook events), oldest first.
    deadlines: list[Deadline] = field(default_factory=list)


def read_snapshot(workflow: BpmnWorkflow, role_map: dict[str, str],
                  since: float | None = None, walk: TaskWalk | None = None) -> Snapshot:
    """Read what the database must know from a workflow.

    `since` is when the run began: elements completed after it give `reached`
    milestones and `notices`. `walk` is the run's walk of the tree, if it took one.
    """
    walk = walk or TaskWalk(workflow)
    timers: list[WaitingTimer] = []
    timer_tasks: list[Task] = []
    labelled: list[tuple[bool, float, str]] = []  # (open, when, label)
    milestones: set[str] = set()
    flags: dict[Any, str] = {}  # boundary split task -> the newest flag fired on it
    fired: dict[Any, list[datetime]] = {}  # boundary split task -> due times of fired timers
    reached: list[tuple[float, str]] = []
    notices: list[tuple[float, Notice]] = []
    deadlines: list[tuple[float, Deadline]] = []
    reported: list[tuple[float, str, Any]] = []
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    for task in walk.having(TaskState.WAITING | TaskState.READY | TaskState.COMPLETED):
        props = tasks.props(task)
        state = task._state
        if not props and state != TaskState.WAITING and \
                (state != TaskState.COMPLETED or not tasks.is_timer(task)):
            continue  # an element without properties tells the snapshot nothing until it waits
        if task.state == TaskState.COMPLETED:
            if props.get(MILESTONE_KEY):
                name = props[MILESTONE_KEY]
                milestones.add(name)
                counts[name] = counts.get(name, 0) + 1
                first[name] = min(first.get(name, task.last_state_change),
                                  task.last_state_change)
            if props.get(reports.REPORT_KEY):
                reported.extend((task.last_state_change, name, value) for name, value
                                in reports.declared_values(props, task.data))
            if since is not None and task.last_state_change >= since:
                if props.get(MILESTONE_KEY):
                    reached.append((task.last_state_change, props[MILESTONE_KEY]))
                if props.get(NOTIFY_KEY):
                    notices.append((task.last_state_change, _notice(task, props, role_map)))
                if _on_boundary(task) and tasks.is_timer(task):
                    deadlines.append((task.last_state_change,
                                      _deadline(task, props, role_map)))
            if props.get(FLAG_KEY) and task.parent is not None:
                flags[task.parent.id] = props[FLAG_KEY]
            if task.parent is not None and props.get(REMINDER_KEY) != "true" and \
                    tasks.is_timer(task):
                # A boundary timer that fired without interrupting: its task stays due then.
                due = tasks.timer_due(task)
                if due is not None:
                    fired.setdefault(task.parent.id, []).append(due)
        if props.get(STATUS_KEY) and (task.state != TaskState.READY
                                      or task.task_spec.manual):
            labelled.append((task.state != TaskState.COMPLETED, task.last_state_change,
                             props[STATUS_KEY]))
        if task.state == TaskState.WAITING:
            # An event gateway waits for its children; their labels describe the wait.
            labelled.extend((True, task.last_state_change, tasks.props(child)[STATUS_KEY])
                            for child in task.children if child.state == TaskState.MAYBE
                            and tasks.props(child).get(STATUS_KEY))
        if task.state == TaskState.WAITING and tasks.is_timer(task):
            due = tasks.timer_due(task)
            if due is None:
                raise EngineError(
                    _("the timer '%(timer)s' has no due time: its expression did not give a "
                      "valid ISO 8601 date or duration", timer=tasks.title(task)),
                    task.task_spec.bpmn_id)
            drawn = tasks.drawn_timer(task)
            timers.append(WaitingTimer(str(task.id), drawn.bpmn_id or task.task_spec.bpmn_id,
                                       drawn.bpmn_name or tasks.title(task), due))
            timer_tasks.append(task)
    ready = [_ready(t, timer_tasks, timers, flags, fired, role_map)
             for t in walk.ready_manual()]
    return Snapshot(
        ready=ready,
        timers=timers,
        messages=_waiting_messages(walk),
        status_label=_status_label(labelled),
        milestones=milestones,
        data=current_data(workflow, walk),
        completed=workflow.completed,
        reached=[name for _when, name in sorted(reached, key=lambda item: item[0])],
        notices=[notice for _when, notice in sorted(notices, key=lambda item: item[0])],
        report=reports.merge(reported),
        milestone_times={name: datetime.fromtimestamp(when, UTC)
                         for name, when in first.items()},
        milestone_counts=counts,
        deadlines=[item for _when, item in sorted(deadlines, key=lambda item: item[0])],
    )


def _on_boundary(task: Task) -> bool:
    """Whether a task is a boundary event (attached to an activity)."""
    return isinstance(task.parent.task_spec if task.parent else None, BoundaryEventSplit)


def _concerns(task: Task) -> Task:
    """The activity a boundary event is attached to (a boundary event speaks about it)."""
    if _on_boundary(task):
        return next((c for c in task.parent.children
                     if c is not task and not _is_event(c)), task)
    return task


def _role_of(concerns: Task, role_map: dict[str, str]) -> str | None:
    spec = concerns.task_spec
    role_name = tasks.props(concerns).get(ROLE_KEY) or getattr(spec, "lane", None) \
        or (OUTSIDE_LANES if getattr(spec, "manual", False) else None)
    return role_map.get(role_name) if role_name else None


def _deadline(task: Task, props: dict[str, str], role_map: dict[str, str]) -> Deadline:
    """A boundary timer that fired: a reminder when the diagram says so, else a breach."""
    concerns = _concerns(task)
    return Deadline(kind="reminder" if props.get(REMINDER_KEY) == "true" else "breached",
                    element=task.task_spec.bpmn_id or task.task_spec.name,
                    title=tasks.title(task), task_id=str(concerns.id),
                    task_title=tasks.title(concerns), role=_role_of(concerns, role_map),
                    due_at=tasks.timer_due(task))


def _notice(task: Task, props: dict[str, str], role_map: dict[str, str]) -> Notice:
    """The e-mail a completed element asks for, addressed as the diagram says."""
    concerns = _concerns(task)
    return Notice(template=props[NOTIFY_KEY].strip(),
                  recipient=(props.get(NOTIFY_TO_KEY) or "complainant").strip(),
                  element=task.task_spec.bpmn_id or task.task_spec.name,
                  title=tasks.title(concerns), task_id=str(concerns.id),
                  role=_role_of(concerns, role_map), data=plain(task.data))


def _ready(task: Task, timer_tasks: list[Task], timers: list[WaitingTimer],
           flags: dict[Any, str], fired: dict[Any, list[datetime]],
           role_map: dict[str, str]) -> ReadyTask:
    props = tasks.props(task)
    spec = task.task_spec
    # A task outside any lane goes to the version's default role (chosen at deploy).
    role_name = props.get(ROLE_KEY) or spec.lane or OUTSIDE_LANES
    role = role_map.get(role_name)
    chosen = task.data.get(props.get(ROLE_VARIABLE_KEY, ""))
    if isinstance(chosen, str) and chosen in role_map.values():
        # Only a role this version already routes to: data cannot invent one.
        role = chosen
    # A timer on the task's boundary shares its parent: its due time is the task's
    # (a reminder's is not: it comes before the due time).
    dues = [timer.due_at for ttask, timer in zip(timer_tasks, timers, strict=True)
            if ttask.parent is task.parent and ttask is not task
            and tasks.props(ttask).get(REMINDER_KEY) != "true"]
    if task.parent is not None:
        dues += fired.get(task.parent.id, [])
    # The diagram's dueIn, where it set one, says when the task is due.
    stated = due.due_in(task)
    if stated is not None:
        dues = [stated]
    return ReadyTask(
        task_id=str(task.id),
        bpmn_id=spec.bpmn_id,
        title=tasks.title(task),
        lane=spec.lane,
        role=role,
        form=props.get(FORM_SCHEMA_KEY),
        ui_form=props.get(FORM_UI_KEY),
        instructions=getattr(spec, "documentation", None),
        due_at=min(dues) if dues else None,
        flag=flags.get(task.parent.id) if task.parent is not None else None,
    )


def _status_label(labelled: list[tuple[bool, float, str]]) -> str | None:
    """The label of the newest open step, else of the newest finished one."""
    if not labelled:
        return None
    open_steps = [item for item in labelled if item[0]]
    return max(open_steps or labelled, key=lambda item: item[1])[2]


def _waiting_messages(walk: TaskWalk) -> list[str]:
    return sorted({
        definition.name
        for task in walk.having(TaskState.WAITING)
        for definition in tasks.definitions(task)
        if isinstance(definition, MessageEventDefinition)
    })


def current_data(workflow: BpmnWorkflow, walk: TaskWalk | None = None) -> dict[str, Any]:
    """The case's current data: what its newest step sees, or the workflow's once it ended."""
    if workflow.completed:
        return dict(workflow.data)
    ready = (walk or TaskWalk(workflow)).having(TaskState.READY | TaskState.WAITING)
    if ready:
        return dict(max(ready, key=lambda t: t.last_state_change).data)
    last = workflow.last_task
    return dict(last.data) if last is not None else {}


def _is_event(task: Task) -> bool:
    return getattr(task.task_spec, "event_definition", None) is not None


# What json.loads(json.dumps(x)) gives back unchanged (equal, of the same type).
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
_JSON_DEPTH = 64  # deeper than task data goes; anything deeper takes the JSON round trip


class _NotPlain(Exception):
    """A value the JSON round trip would change (a tuple, a date, a non-text key...)."""


def plain(data: Any) -> dict[str, Any]:
    """A JSON-safe copy of task data or a payload ({} for anything but a dict)."""
    if not isinstance(data, dict):
        return {}
    if type(data) is dict:
        try:
            return _json_copy(data, 0)  # type: ignore[no-any-return]
        except _NotPlain:
            pass
    return json.loads(json.dumps(data, default=str))  # type: ignore[no-any-return]


def _json_copy(value: Any, depth: int) -> Any:
    """What the JSON round trip makes of data that is JSON already, copied directly."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if depth > _JSON_DEPTH:
        raise _NotPlain
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copied[key] = item if type(item) in _JSON_SCALARS else _json_copy(item, depth + 1)
        return copied
    if kind is list:
        return [item if type(item) in _JSON_SCALARS else _json_copy(item, depth + 1)
                for item in value]
    raise _NotPlain
