"""Running a case's workflow: start, complete a task, take a message, fire timers.

Every operation ends by reading back what the database must know (a Snapshot, see
snapshot.py): the user tasks now ready, the timers now waiting with their due times,
the public status label and the milestones reached. The services turn that into rows.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from flask_babel import gettext as _
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import due, tasks
from .clocks import (
    PAUSED_HOURS,
    PAUSED_SINCE,
    PAUSES_KEY,
    WorkingTime,
    clocks_of,
    install_engine_clock,
    timer_clock,
)
from .clocks import now as engine_now
from .errors import EngineError, MessageNotExpected, TaskNotReady
from .limits import RunLimits, StepCounter, TimerWatch, check_stalled
from .sandbox import DEFAULT_DATA, DEFAULT_MEMORY, SandboxError, data_size_problem
from .scripting import SandboxedScriptEngine
from .serializer import dump_state, load_state
from .service_tasks import finish, pending_calls, waiting_task
from .snapshot import Snapshot, current_data, plain, read_snapshot
from .task_state import install_quiet_state_changes
from .tasks import (
    FORM_SCHEMA_KEY,
    FORM_UI_KEY,
    MAIL_REPLY_KEY,
    PROMPT_KEY,
    STAFF_ACTION_KEY,
    STAFF_UI_KEY,
    STATUS_KEY,
)
from .walk import TaskWalk, do_engine_steps, install_waiting_update

log = logging.getLogger(__name__)
RECEIVED_KEY = "received_at"  # in the start data: what deadline(kind) counts from


class ProcessRuntime:
    """The cached, parsed specs of one process version, and what runs on them."""

    def __init__(self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
                 role_map: dict[str, str], time_limit: float,
                 working_time: WorkingTime | None = None, *,
                 limits: RunLimits | None = None,
                 memory_limit: int = DEFAULT_MEMORY, data_limit: int = DEFAULT_DATA) -> None:
        self.spec = spec
        self.subprocess_specs = subprocess_specs
        self.role_map = role_map
        self.working_time = working_time or WorkingTime()
        self.data_limit = data_limit
        # The last state read by data_of/clock_pauses and what it holds: a case page reads both.
        self._last_read: tuple[bytes, tuple[dict[str, Any], dict[str, Any]]] | None = None
        install_engine_clock(timer_module)  # timers ask the engine clock (clocks.py)
        install_waiting_update()  # one cheaper walk per completed task (walk.py)
        install_quiet_state_changes()  # no log record built that no logger reads
        self.script_engine = SandboxedScriptEngine(
            time_limit, self.working_time.helpers, self.working_time.data_helpers,
            memory_limit=memory_limit, data_limit=data_limit)
        # Only diagrams that pause a clock pay for looking after clocks.
        self._pausing = any(tasks.spec_props(ts).get(PAUSES_KEY)
                            for s in (spec, *subprocess_specs.values())
                            for ts in s.task_specs.values())
        start = next((ts for ts in spec.task_specs.values()
                       if type(ts).__name__ == "StartEvent"
                       and tasks.spec_props(ts).get(FORM_SCHEMA_KEY)), None)
        self.start_form = tasks.spec_props(start).get(FORM_SCHEMA_KEY) if start else None
        self.start_ui_form = tasks.spec_props(start).get(FORM_UI_KEY) if start else None
        self.start_staff_ui = tasks.spec_props(start).get(STAFF_UI_KEY) if start else None
        every = (spec, *subprocess_specs.values())
        self._task_infos = tasks.read_task_infos(every)
        self._message_forms = tasks.read_message_forms(every)
        self._watch = TimerWatch((spec, *subprocess_specs.values()), limits or RunLimits())
        self.starters = tasks.read_starters(spec, subprocess_specs)
        # Which kind of case each starter runs as ("action" unless its start event says).
        self.starter_kinds = tasks.read_starter_kinds(spec, subprocess_specs, "action")

    def start_process(self, process_id: str, data: dict[str, Any], message: str,
                      payload: dict[str, Any]) -> tuple[BpmnWorkflow, Snapshot]:
        """Start one of the version's processes that a message starts, as a case of its own.

        `data` is the start data (`received_at` as in `start`); the start message is then
        delivered with `payload`, which lands in the data the diagram's messageVariable names.
        """
        spec = self.subprocess_specs.get(process_id)
        if spec is None or self.starters.get(message) != process_id:
            raise EngineError(_("the process '%(process)s' is not started by '%(message)s'",
                                process=process_id, message=message))
        since = time.time()
        data = {RECEIVED_KEY: engine_now().isoformat(), **data}
        workflow = BpmnWorkflow(spec, self.subprocess_specs, script_engine=self.script_engine)
        first = workflow.get_next_task(state=TaskState.READY)
        if first is not None:
            first.data.update(data)
        event = BpmnEvent(tasks.start_message(spec, message), payload=payload)

        def run() -> None:
            self._run_engine(workflow, since)
            workflow.send_event(event)
            self._run_engine(workflow, since)

        return workflow, self._settled(workflow, since, run)

    def starter_of(self, kind: str) -> str | None:
        """The message that starts the version's process for cases of this kind, if any."""
        return next((m for m, k in self.starter_kinds.items() if k == kind), None)

    def start(self, data: dict[str, Any]) -> tuple[BpmnWorkflow, Snapshot]:
        """Create a workflow with the intake data and run it to its first wait.

        The data carries `received_at` (ISO UTC), when the complaint reached us, which
        deadlines count from; without one it is now.
        """
        since = time.time()
        data = {RECEIVED_KEY: engine_now().isoformat(), **data}
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        else:
            workflow.task_tree.data.update(data)
        return workflow, self._settled(workflow, since,
                                       lambda: self._run_engine(workflow, since))

    def task_info(self, bpmn_id: str) -> dict[str, Any]:
        """What the diagram says about a task (engine/tasks.py read_task_infos)."""
        return self._task_infos.get(bpmn_id) or {
            "form": None, "ui_form": None, "instructions": None, "excludes": [],
            "asks": False, "shows": (), "prefill": None}

    def message_form(self, name: str) -> str | None:
        """The form the diagram asks a message with (None if it has none)."""
        return self._message_forms.get(name)

    def form_values(self, workflow: BpmnWorkflow, task_id: str,
                    sources: dict[str, str]) -> dict[str, Any]:
        """What a ready task's data holds for its form: field -> the value of its variable."""
        data = self._ready_task(workflow, task_id).data
        return {field: data[variable] for field, variable in sources.items()
                if data.get(variable) is not None}

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
        """The data a ready task sees (what its instructions are filled in with)."""
        return dict(self._ready_task(workflow, task_id).data)

    def data_of(self, state: bytes) -> dict[str, Any]:
        """The case's current data (what its newest step sees), from a saved state."""
        return copy.deepcopy(self._read(state)[0])

    def clock_pauses(self, state: bytes) -> tuple[dict[str, float], dict[str, str]]:
        """Working hours each clock was paused so far, and when each paused clock stopped."""
        data, top = self._read(state)
        hours, since = data.get(PAUSED_HOURS) or {}, top.get(PAUSED_SINCE) or {}
        return ({str(k): float(v) for k, v in hours.items() if isinstance(v, int | float)}
                if isinstance(hours, dict) else {},
                {str(k): str(v) for k, v in since.items()} if isinstance(since, dict) else {})

    def _read(self, state: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """A state's current data and workflow data, loaded once for readers of the same
        state (callers copy before handing anything out: the pair is shared)."""
        last = self._last_read
        if last is not None and last[0] == state:
            return last[1]
        workflow = self.load(state)
        read = (current_data(workflow), dict(workflow.data))
        self._last_read = (state, read)
        return read

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
            self._run_engine(workflow, since)

        return self._settled(workflow, since, run)

    def message(self, workflow: BpmnWorkflow, name: str, payload: Any) -> Snapshot:
        """Deliver a message (e.g. from the complainant) into the running case."""
        waiting = [d for task in TaskWalk(workflow).having(TaskState.WAITING)
                   for d in tasks.definitions(task)
                   if isinstance(d, MessageEventDefinition) and d.name == name]
        if not waiting:
            raise MessageNotExpected(f"the case is not waiting for the message '{name}' now")
        # Events match by class as well as name: build the same kind the diagram waits for.
        event = BpmnEvent(type(waiting[0])(name), payload=payload)
        since = time.time()

        def run() -> None:
            workflow.send_event(event)
            self._run_engine(workflow, since)

        return self._settled(workflow, since, run)

    def finish_service_call(self, workflow: BpmnWorkflow, task_id: str, result: Any) -> Snapshot:
        """Complete a waiting service task with its call's result and run on.

        Raises TaskNotReady when the task no longer waits (cancelled by a boundary event,
        or finished by an earlier worker whose commit raced this one).
        """
        since = time.time()
        task = waiting_task(workflow, task_id)

        def run() -> None:
            finish(task, result)
            self._run_engine(workflow, since)

        return self._settled(workflow, since, run)

    def service_call_waits(self, state: bytes, task_id: str) -> bool:
        """Whether the service task `task_id` of a saved case still waits for its call."""
        try:
            waiting_task(self.load(state), task_id)
        except TaskNotReady:
            return False
        return True

    def fire_timers(self, workflow: BpmnWorkflow) -> Snapshot:
        """Fire every timer that is due now and run on.

        Snapshot.fired names every timer that fired in this run, including one started
        by this run that was already due (an escalation catching up after downtime).
        """
        since = time.time()
        # By identity: the list keeps these tasks alive, so no other task takes their id().
        before = tasks.completed_timers(TaskWalk(workflow))
        done_before = {id(t) for t in before}

        def run() -> None:
            workflow.refresh_timers()
            self._run_engine(workflow, since)

        snapshot, walk = self._settle(workflow, since, run)
        snapshot.fired = [
            tasks.drawn_timer(t).bpmn_id or t.task_spec.name
            for t in tasks.completed_timers(walk) if id(t) not in done_before
        ]
        return snapshot

    def _run_engine(self, workflow: BpmnWorkflow, since: float) -> None:
        """Run the engine's own tasks until every branch waits, within the run limits.

        See limits.py: too many steps or a timer that would wake the case too often stop
        the run with a RunawayRun (a loop SpiffWorkflow gave up on: see _outcome).
        """
        do_engine_steps(workflow, StepCounter(self._watch))
        self._watch.check_started(workflow, since)

    def _outcome(self, workflow: BpmnWorkflow, since: float, walk: TaskWalk) -> Snapshot:
        """The snapshot of a run that left the case finished or waiting for something."""
        snapshot = self.snapshot(workflow, since, walk)
        # Messages nothing in the case caught: those that start one of the version's
        # processes go to the services; the rest are dropped, not kept in the state.
        snapshot.thrown = [(event.event_definition.name, plain(event.payload))
                           for event in workflow.get_events()
                           if getattr(event.event_definition, "name", None) in self.starters]
        snapshot.service_calls = pending_calls(walk)
        if not (snapshot.completed or snapshot.ready or snapshot.timers or snapshot.messages
                or snapshot.service_calls):
            check_stalled(workflow, walk)  # only then look for any other kind of wait
        return snapshot

    def _settle_clocks(self, workflow: BpmnWorkflow, walk: TaskWalk) -> None:
        """Start and stop paused clocks, moving that clock's deadlines by the pause.

        See engine/clocks.py. A clock is paused while any task that pauses it waits
        (behind an event gateway, while the gateway waits for it).
        """
        add_hours, hours_between = self.working_time.add_hours, self.working_time.hours_between
        if not self._pausing or add_hours is None or hours_between is None:
            return
        now = engine_now()
        live = walk.having(TaskState.WAITING | TaskState.READY)
        pausing: set[str] = set()
        for task in live:
            pausing |= clocks_of(tasks.props(task), PAUSES_KEY)
            if task.state == TaskState.WAITING:
                for child in task.children:
                    if child.state == TaskState.MAYBE:
                        pausing |= clocks_of(tasks.props(child), PAUSES_KEY)
        since: dict[str, str] = workflow.data.setdefault(PAUSED_SINCE, {})
        for clock in pausing - since.keys():
            since[clock] = now.isoformat()
        ended = {clock: hours_between(datetime.fromisoformat(since.pop(clock)), now)
                 for clock in set(since) - pausing}
        ended = {clock: hours for clock, hours in ended.items() if hours > 0}
        if not ended:
            return
        for task in live:
            if task.state == TaskState.READY:
                due.shift(task, ended, add_hours)
            paused = dict(task.data.get(PAUSED_HOURS) or {})
            for clock, hours in ended.items():
                paused[clock] = round(paused.get(clock, 0.0) + hours, 6)
            task.data[PAUSED_HOURS] = paused
            definition = tasks.timer_definition(task)
            value = task.internal_data.get("event_value")
            if task.state == TaskState.WAITING and definition is not None and \
                    isinstance(value, str):
                counts_on = timer_clock(tasks.spec_props(tasks.drawn_timer(task)),
                                        definition.expression)
                if counts_on in ended:
                    at = TimerEventDefinition.get_datetime(value)
                    task.internal_data["event_value"] = add_hours(
                        at, ended[counts_on]).isoformat()

    def _check_data(self, workflow: BpmnWorkflow, since: float) -> None:
        """Refuse a run that leaves case data over the limit, before anything is saved.

        Only the tasks this run changed can hold new data. Values from diagram code are
        checked as they leave the sandbox too; this also catches what arrived by form,
        message or DMN output, and data that grew over many steps.
        """
        changed = [t for w in (workflow, *workflow.subprocesses.values())
                   for t in w.tasks.values() if t.last_state_change >= since and t.data]
        for task in changed:
            problem = data_size_problem(task.data, self.data_limit)
            if problem:
                spec = task.task_spec
                raise EngineError(_("the step '%(step)s' failed: %(error)s",
                                    step=tasks.title(task), error=problem),
                                  getattr(spec, "bpmn_id", None))
        problem = data_size_problem(workflow.data, self.data_limit)
        if problem:
            raise EngineError(_("the process could not go on: %(error)s", error=problem))

    def snapshot(self, workflow: BpmnWorkflow, since: float | None = None,
                 walk: TaskWalk | None = None) -> Snapshot:
        """Read what the database must know from a workflow (every run ends here).

        `since` is when the run began: elements completed after it give `reached`
        milestones and `notices`; `walk` the run's walk of the tree, if it has one.
        """
        return read_snapshot(workflow, self.role_map, since, walk)

    @staticmethod
    def message_forms(workflow: BpmnWorkflow) -> list[dict[str, Any]]:
        """The messages the case waits for that the diagram gives a form (to ask the complainant).

        A message catch event with formJsonSchemaFilename is a question to the outside;
        behind an event gateway the question sits on the gateway's waiting children.
        """
        found: dict[str, dict[str, Any]] = {}
        for task in TaskWalk(workflow).having(TaskState.WAITING):
            for definition, spec in tasks.listeners(task):
                props = tasks.spec_props(spec)
                if isinstance(definition, MessageEventDefinition) and \
                        props.get(FORM_SCHEMA_KEY) and definition.name not in found:
                    prompt = task.data.get(props.get(PROMPT_KEY, ""))
                    found[definition.name] = {
                        "message": definition.name,
                        "title": spec.bpmn_name or spec.bpmn_id or definition.name,
                        "form": props[FORM_SCHEMA_KEY], "ui_form": props.get(FORM_UI_KEY),
                        "prompt": prompt if isinstance(prompt, str) and prompt else None,
                        # A question the process stops for shows its status while it waits.
                        "asked": bool(props.get(STATUS_KEY)),
                        # The text field a reply by e-mail fills (services/inbound_mail.py).
                        "mail_field": props.get(MAIL_REPLY_KEY, "").strip() or None}
        return list(found.values())

    @staticmethod
    def staff_actions(workflow: BpmnWorkflow) -> dict[str, str]:
        """The staff actions the case waits for now (staffAction -> the message to send).

        A message catch event with the property staffAction (e.g. "reopen") is something
        staff do from the case page; behind an event gateway it sits on its targets.
        """
        found: dict[str, str] = {}
        for task in TaskWalk(workflow).having(TaskState.WAITING):
            for definition, spec in tasks.listeners(task):
                action = tasks.spec_props(spec).get(STAFF_ACTION_KEY, "").strip()
                if action and isinstance(definition, MessageEventDefinition):
                    found.setdefault(action, definition.name)
        return found

    def prompt(self, workflow: BpmnWorkflow, task_id: str) -> str | None:
        """The wording a ready task's promptVariable names: what its worker is asked."""
        task = self._ready_task(workflow, task_id)
        prompt = task.data.get(tasks.props(task).get(PROMPT_KEY, ""))
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

    def _settled(self, workflow: BpmnWorkflow, since: float,
                 run: Callable[[], None]) -> Snapshot:
        """Do `run`, then bring clocks and due times up to date, check the data's size and
        read back what the database must know."""
        return self._settle(workflow, since, run)[0]

    def _settle(self, workflow: BpmnWorkflow, since: float,
                run: Callable[[], None]) -> tuple[Snapshot, TaskWalk]:
        """As _settled, with the walk of the tree every reader after the run shared.

        Nothing after the run changes a task's state, so one walk serves them all.
        """
        self._guard(run)
        walk = TaskWalk(workflow)
        self._settle_clocks(workflow, walk)
        self._guard(lambda: due.settle(walk, self.script_engine))
        self._check_data(workflow, since)
        return self._outcome(workflow, since, walk), walk

    @staticmethod
    def _guard(fn: Any) -> None:
        try:
            fn()
        except EngineError:
            raise  # a run limit (limits.py): its message already names the element
        except WorkflowTaskException as exc:
            spec = exc.task.task_spec if exc.task is not None else None
            # SpiffWorkflow raises it inside its own except: the diagram's error is the context.
            cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
            text = str(exc)
            if cause is not None and str(cause) not in text:
                text = f"{text.rstrip('. ')}: {cause}"
            message = _("the step '%(step)s' failed: %(error)s",
                        step=spec.bpmn_name or spec.bpmn_id, error=text) if spec is not None \
                else _("the step failed: %(error)s", error=text)
            raise EngineError(message,
                              getattr(spec, "bpmn_id", None),
                              getattr(spec, "bpmn_name", None)) from None
        except (SpiffWorkflowException, SandboxError) as exc:
            raise EngineError(_("the process could not go on: %(error)s", error=exc)) from None
        except Exception as exc:
            # SpiffWorkflow raises bare exceptions for some diagram faults (e.g. a timer
            # expression that gives no valid duration); the person still needs to know.
            log.warning("engine step failed", exc_info=True)
            raise EngineError(_("the process could not go on: %(error)s", error=exc)) from None
