"""Running a case's workflow: start, complete a task, take a message, fire timers.

Every operation ends by reading back what the database must know (a Snapshot):
the user tasks now ready, the timers now waiting with their due times, the public
status label and the milestones reached. The services turn that into rows.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .clocks import PAUSED_HOURS, PAUSED_SINCE, PAUSES_KEY, WorkingTime, clocks_of, timer_clock
from .sandbox import SandboxError
from .scripting import SandboxedScriptEngine
from .serializer import dump_state, load_state

log = logging.getLogger(__name__)

STATUS_KEY = "statusLabel"
MILESTONE_KEY = "milestone"
FORM_SCHEMA_KEY = "formJsonSchemaFilename"
FORM_UI_KEY = "formUiSchemaFilename"
ROLE_KEY = "candidateRole"
FLAG_KEY = "inboxFlag"  # on a non-interrupting boundary event: a badge on its task once fired
REMINDER_KEY = "reminder"  # "true" on a timer that reminds: it does not set the task's due time
NOTIFY_KEY = "notify"  # on any element: the e-mail template sent when it completes
NOTIFY_TO_KEY = "notifyTo"  # who gets it: "complainant" (default), "assignee", or a lane/role
ROLE_VARIABLE_KEY = "candidateRoleVariable"  # data variable naming a role of the version
EXCLUDES_KEY = "notPerformedBy"  # task ids whose performers may not do this task (objectivity)
PROMPT_KEY = "promptVariable"  # the data holding a question's wording (complainant or task)


class EngineError(Exception):
    """The workflow could not go on; the message names the element and the cause."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


class TaskNotReady(EngineError):
    """The task is not (or no longer) waiting for a person."""


class MessageNotExpected(EngineError):
    """The case is not waiting for that message now."""


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


def _spec_props(task_spec: Any) -> dict[str, str]:
    return getattr(task_spec, "extensions", {}).get("properties", {}) or {}


def _props(task: Task) -> dict[str, str]:
    return _spec_props(task.task_spec)


def _title(task: Task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def _definitions(task: Task) -> list[Any]:
    """The event definitions a waiting task listens for (several for event gateways)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _listeners(task: Task) -> list[tuple[Any, Any]]:
    """Each event a waiting task listens for, with the task spec the diagram drew it on.

    An event gateway takes its targets' event definitions over, in the order of its
    outputs (SpiffWorkflow pairs them by index too); other events listen for their own.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition) and \
            len(definition.event_definitions) == len(task.task_spec.outputs):
        return list(zip(definition.event_definitions, task.task_spec.outputs, strict=True))
    return [(d, task.task_spec) for d in _definitions(task)]


def _drawn_timer(task: Task) -> Any:
    """The timer event as drawn (behind an event gateway, the gateway's target)."""
    return next((spec for d, spec in _listeners(task)
                 if isinstance(d, TimerEventDefinition)), task.task_spec)


def _timer_definition(task: Task) -> TimerEventDefinition | None:
    return next((d for d in _definitions(task) if isinstance(d, TimerEventDefinition)), None)


def _timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(_timer_definition(task), CycleTimerEventDefinition):
        value = value.get("next") if isinstance(value, dict) else None
        if value is None:
            return None
    return TimerEventDefinition.get_datetime(value)


def _is_timer(task: Task) -> bool:
    return _timer_definition(task) is not None


def _completed_timers(workflow: BpmnWorkflow) -> list[Task]:
    """Timer events that fired, in sub-workflows too.

    Asking get_tasks for COMPLETED alone would not look below a running multi-instance
    call activity (its iterator prunes branches whose root is in a lower state).
    """
    return [t for t in workflow.get_tasks(state=TaskState.WAITING | TaskState.COMPLETED)
            if t.state == TaskState.COMPLETED and _is_timer(t)]


def _is_event(task: Task) -> bool:
    return getattr(task.task_spec, "event_definition", None) is not None


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of task data, for a message rendered later."""
    return json.loads(json.dumps(data, default=str))


class ProcessRuntime:
    """The cached, parsed specs of one process version, and what runs on them."""

    def __init__(self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
                 role_map: dict[str, str], time_limit: float,
                 working_time: WorkingTime | None = None) -> None:
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        self.role_map = role_map
        self.working_time = working_time or WorkingTime()
        self.script_engine = SandboxedScriptEngine(
            time_limit, self.working_time.helpers, self.working_time.data_helpers)
        # Only diagrams that pause a clock pay for looking after clocks.
        self._pausing = any(_spec_props(ts).get(PAUSES_KEY)
                            for s in (spec, *subprocess_specs.values())
                            for ts in s.task_specs.values())
        start = next((ts for ts in spec.task_specs.values()
                       if type(ts).__name__ == "StartEvent"
                       and _spec_props(ts).get(FORM_SCHEMA_KEY)), None)
        self.start_form = _spec_props(start).get(FORM_SCHEMA_KEY) if start else None
        self.start_ui_form = _spec_props(start).get(FORM_UI_KEY) if start else None
        self._task_infos = self._read_task_infos()

    def start(self, data: dict[str, Any]) -> tuple[BpmnWorkflow, Snapshot]:
        """Create a workflow with the intake data and run it to its first wait."""
        since = time.time()
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        else:
            workflow.task_tree.data.update(data)
        self._guard(workflow.do_engine_steps)
        self._settle_clocks(workflow)
        return workflow, self.snapshot(workflow, since)

    def task_info(self, bpmn_id: str) -> dict[str, Any]:
        """What the diagram says about a task: UI schema, instructions, who is excluded."""
        return self._task_infos.get(bpmn_id) or {"ui_form": None, "instructions": None,
                                                 "excludes": []}

    def _read_task_infos(self) -> dict[str, dict[str, Any]]:
        """task_info for every element, read once per version (pages ask on every view)."""
        infos: dict[str, dict[str, Any]] = {}
        for spec in (self.spec, *self.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                if bpmn_id and bpmn_id not in infos:
                    props = _spec_props(task_spec)
                    infos[bpmn_id] = {
                        "ui_form": props.get(FORM_UI_KEY),
                        "instructions": getattr(task_spec, "documentation", None),
                        "excludes": props.get(EXCLUDES_KEY, "").replace(",", " ").split()}
        return infos

    def data_of(self, state: bytes) -> dict[str, Any]:
        """The case's current data (what its newest step sees), from a saved state."""
        return self._current_data(self.load(state))

    def load(self, state: bytes) -> BpmnWorkflow:
        """Rebuild a saved workflow."""
        return load_state(state, self.spec, self.subprocess_specs, self.script_engine)

    @staticmethod
    def dump(workflow: BpmnWorkflow) -> bytes:
        """Serialize a workflow's state without its spec."""
        return dump_state(workflow)

    def complete(self, workflow: BpmnWorkflow, task_id: str,
                 values: dict[str, Any]) -> Snapshot:
        """Complete a ready user task with validated form values and run on."""
        since = time.time()
        task = self._ready_task(workflow, task_id)
        task.data.update(values)

        def run() -> None:
            task.run()
            workflow.do_engine_steps()

        self._guard(run)
        self._settle_clocks(workflow)
        return self.snapshot(workflow, since)

    def message(self, workflow: BpmnWorkflow, name: str, payload: Any) -> Snapshot:
        """Deliver a message (e.g. from the complainant) into the running case."""
        waiting = [d for task in workflow.get_tasks(state=TaskState.WAITING)
                   for d in _definitions(task)
                   if isinstance(d, MessageEventDefinition) and d.name == name]
        if not waiting:
            raise MessageNotExpected(f"the case is not waiting for the message '{name}' now")
        # Events match by class as well as name: build the same kind the diagram waits for.
        event = BpmnEvent(type(waiting[0])(name), payload=payload)
        since = time.time()

        def run() -> None:
            workflow.send_event(event)
            workflow.do_engine_steps()

        self._guard(run)
        self._settle_clocks(workflow)
        return self.snapshot(workflow, since)

    def fire_timers(self, workflow: BpmnWorkflow) -> Snapshot:
        """Fire every timer that is due now and run on.

        Snapshot.fired names every timer that fired in this run, including one started
        by this run that was already due (an escalation catching up after downtime).
        """
        since = time.time()
        done_before = {t.id for t in _completed_timers(workflow)}

        def run() -> None:
            workflow.refresh_timers()
            workflow.do_engine_steps()

        self._guard(run)
        self._settle_clocks(workflow)
        snapshot = self.snapshot(workflow, since)
        snapshot.fired = [
            _drawn_timer(t).bpmn_id or t.task_spec.name
            for t in _completed_timers(workflow) if t.id not in done_before
        ]
        return snapshot

    def _settle_clocks(self, workflow: BpmnWorkflow) -> None:
        """Start and stop paused clocks, moving that clock's deadlines by the pause.

        See engine/clocks.py. A clock is paused while any task that pauses it waits
        (behind an event gateway, while the gateway waits for it).
        """
        add_hours, hours_between = self.working_time.add_hours, self.working_time.hours_between
        if not self._pausing or add_hours is None or hours_between is None:
            return
        now = datetime.now(UTC)
        live = workflow.get_tasks(state=TaskState.WAITING | TaskState.READY)
        pausing: set[str] = set()
        for task in live:
            pausing |= clocks_of(_props(task), PAUSES_KEY)
            if task.state == TaskState.WAITING:
                for child in task.children:
                    if child.state == TaskState.MAYBE:
                        pausing |= clocks_of(_props(child), PAUSES_KEY)
        since: dict[str, str] = workflow.data.setdefault(PAUSED_SINCE, {})
        for clock in pausing - since.keys():
            since[clock] = now.isoformat()
        ended = {clock: hours_between(datetime.fromisoformat(since.pop(clock)), now)
                 for clock in set(since) - pausing}
        ended = {clock: hours for clock, hours in ended.items() if hours > 0}
        if not ended:
            return
        for task in live:
            paused = dict(task.data.get(PAUSED_HOURS) or {})
            for clock, hours in ended.items():
                paused[clock] = round(paused.get(clock, 0.0) + hours, 6)
            task.data[PAUSED_HOURS] = paused
            definition = _timer_definition(task)
            value = task.internal_data.get("event_value")
            if task.state == TaskState.WAITING and definition is not None and \
                    isinstance(value, str):
                counts_on = timer_clock(_spec_props(_drawn_timer(task)), definition.expression)
                if counts_on in ended:
                    due = TimerEventDefinition.get_datetime(value)
                    task.internal_data["event_value"] = add_hours(
                        due, ended[counts_on]).isoformat()

    def snapshot(self, workflow: BpmnWorkflow, since: float | None = None) -> Snapshot:
        """Read what the database must know from a workflow.

        `since` is when the run began: elements completed after it give `reached`
        milestones and `notices`.
        """
        timers: list[WaitingTimer] = []
        timer_tasks: list[Task] = []
        labelled: list[tuple[bool, float, str]] = []  # (open, when, label)
        milestones: set[str] = set()
        flags: dict[Any, str] = {}  # boundary split task -> the newest flag fired on it
        reached: list[tuple[float, str]] = []
        notices: list[tuple[float, Notice]] = []
        for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY
                                       | TaskState.COMPLETED):
            props = _props(task)
            if task.state == TaskState.COMPLETED:
                if props.get(MILESTONE_KEY):
                    milestones.add(props[MILESTONE_KEY])
                if since is not None and task.last_state_change >= since:
                    if props.get(MILESTONE_KEY):
                        reached.append((task.last_state_change, props[MILESTONE_KEY]))
                    if props.get(NOTIFY_KEY):
                        notices.append((task.last_state_change, self._notice(task, props)))
                if props.get(FLAG_KEY) and task.parent is not None:
                    flags[task.parent.id] = props[FLAG_KEY]
            if props.get(STATUS_KEY) and (task.state != TaskState.READY
                                          or task.task_spec.manual):
                labelled.append((task.state != TaskState.COMPLETED, task.last_state_change,
                                 props[STATUS_KEY]))
            if task.state == TaskState.WAITING:
                # An event gateway waits for its children; their labels describe the wait.
                labelled.extend((True, task.last_state_change, _props(child)[STATUS_KEY])
                                for child in task.children
                                if child.state == TaskState.MAYBE and _props(child).get(STATUS_KEY))
            if task.state == TaskState.WAITING and _is_timer(task):
                due = _timer_due(task)
                if due is None:
                    raise EngineError(
                        f"the timer '{_title(task)}' has no due time: its expression did "
                        "not give a valid ISO 8601 date or duration",
                        task.task_spec.bpmn_id)
                drawn = _drawn_timer(task)
                timers.append(WaitingTimer(str(task.id), drawn.bpmn_id or task.task_spec.bpmn_id,
                                           drawn.bpmn_name or _title(task), due))
                timer_tasks.append(task)
        ready = [self._ready(t, timer_tasks, timers, flags)
                 for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        return Snapshot(
            ready=ready,
            timers=timers,
            messages=self._waiting_messages(workflow),
            status_label=self._status_label(labelled),
            milestones=milestones,
            data=self._current_data(workflow),
            completed=workflow.completed,
            reached=[name for _, name in sorted(reached, key=lambda item: item[0])],
            notices=[notice for _, notice in sorted(notices, key=lambda item: item[0])],
        )

    def _notice(self, task: Task, props: dict[str, str]) -> Notice:
        """The e-mail a completed element asks for, addressed as the diagram says."""
        concerns = task
        if isinstance(task.parent.task_spec if task.parent else None, BoundaryEventSplit):
            # A boundary event speaks about the activity it is attached to.
            concerns = next((c for c in task.parent.children
                             if c is not task and not _is_event(c)), task)
        spec = concerns.task_spec
        role_name = _props(concerns).get(ROLE_KEY) or getattr(spec, "lane", None)
        return Notice(template=props[NOTIFY_KEY].strip(),
                      recipient=(props.get(NOTIFY_TO_KEY) or "complainant").strip(),
                      element=task.task_spec.bpmn_id or task.task_spec.name,
                      title=_title(concerns), task_id=str(concerns.id),
                      role=self.role_map.get(role_name) if role_name else None,
                      data=_plain(task.data))

    def _ready(self, task: Task, timer_tasks: list[Task], timers: list[WaitingTimer],
               flags: dict[Any, str]) -> ReadyTask:
        props = _props(task)
        spec = task.task_spec
        role_name = props.get(ROLE_KEY) or spec.lane
        role = self.role_map.get(role_name) if role_name else None
        chosen = task.data.get(props.get(ROLE_VARIABLE_KEY, ""))
        if isinstance(chosen, str) and chosen in self.role_map.values():
            # Only a role this version already routes to: data cannot invent one.
            role = chosen
        # A timer on the task's boundary shares its parent: its due time is the task's
        # (a reminder's is not: it comes before the due time).
        dues = [timer.due_at for ttask, timer in zip(timer_tasks, timers, strict=True)
                if ttask.parent is task.parent and ttask is not task
                and _props(ttask).get(REMINDER_KEY) != "true"]
        return ReadyTask(
            task_id=str(task.id),
            bpmn_id=spec.bpmn_id,
            title=_title(task),
            lane=spec.lane,
            role=role,
            form=props.get(FORM_SCHEMA_KEY),
            ui_form=props.get(FORM_UI_KEY),
            instructions=getattr(spec, "documentation", None),
            due_at=min(dues) if dues else None,
            flag=flags.get(task.parent.id) if task.parent is not None else None,
        )

    @staticmethod
    def _status_label(labelled: list[tuple[bool, float, str]]) -> str | None:
        """The label of the newest open step, else of the newest finished one."""
        if not labelled:
            return None
        open_steps = [item for item in labelled if item[0]]
        return max(open_steps or labelled, key=lambda item: item[1])[2]

    @staticmethod
    def message_forms(workflow: BpmnWorkflow) -> list[dict[str, Any]]:
        """The messages the case waits for that the diagram gives a form (to ask the complainant).

        A message catch event with formJsonSchemaFilename is a question to the outside;
        behind an event gateway the question sits on the gateway's waiting children.
        """
        found: dict[str, dict[str, Any]] = {}
        for task in workflow.get_tasks(state=TaskState.WAITING):
            for definition, spec in _listeners(task):
                props = _spec_props(spec)
                if isinstance(definition, MessageEventDefinition) and \
                        props.get(FORM_SCHEMA_KEY) and definition.name not in found:
                    prompt = task.data.get(props.get(PROMPT_KEY, ""))
                    found[definition.name] = {
                        "message": definition.name,
                        "title": spec.bpmn_name or spec.bpmn_id or definition.name,
                        "form": props[FORM_SCHEMA_KEY], "ui_form": props.get(FORM_UI_KEY),
                        "prompt": prompt if isinstance(prompt, str) and prompt else None,
                        # A question the process stops for shows its status while it waits.
                        "asked": bool(props.get(STATUS_KEY))}
        return list(found.values())

    @staticmethod
    def _waiting_messages(workflow: BpmnWorkflow) -> list[str]:
        return sorted({
            definition.name
            for task in workflow.get_tasks(state=TaskState.WAITING)
            for definition in _definitions(task)
            if isinstance(definition, MessageEventDefinition)
        })

    @staticmethod
    def _current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
        if workflow.completed:
            return dict(workflow.data)
        ready = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if ready:
            return dict(max(ready, key=lambda t: t.last_state_change).data)
        last = workflow.last_task
        return dict(last.data) if last is not None else {}

    def prompt(self, workflow: BpmnWorkflow, task_id: str) -> str | None:
        """The wording a ready task's promptVariable names: what its worker is asked."""
        task = self._ready_task(workflow, task_id)
        prompt = task.data.get(_props(task).get(PROMPT_KEY, ""))
        return prompt if isinstance(prompt, str) and prompt else None

    @staticmethod
    def _ready_task(workflow: BpmnWorkflow, task_id: str) -> Task:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady("this task is no longer waiting: it was completed or cancelled")
        return task

    @staticmethod
    def _guard(fn: Any) -> None:
        try:
            fn()
        except WorkflowTaskException as exc:
            spec = exc.task.task_spec if exc.task is not None else None
            cause = getattr(exc, "exception", None)
            detail = f": {cause}" if cause is not None and str(cause) not in str(exc) else ""
            where = f"'{spec.bpmn_name or spec.bpmn_id}' " if spec is not None else ""
            raise EngineError(f"the step {where}failed: {exc}{detail}",
                              getattr(spec, "bpmn_id", None)) from None
        except (SpiffWorkflowException, SandboxError) as exc:
            raise EngineError(f"the process could not go on: {exc}") from None
        except Exception as exc:
            # SpiffWorkflow raises bare exceptions for some diagram faults (e.g. a timer
            # expression that gives no valid duration); the person still needs to know.
            log.warning("engine step failed", exc_info=True)
            raise EngineError(f"the process could not go on: {exc}") from None
