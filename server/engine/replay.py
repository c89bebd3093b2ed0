"""Replaying a case's recorded inputs through a process in memory, at their business times.

A replay starts the process with the case's intake data, then gives it every recorded
input in order (a task's submitted values, a message, a timer firing, a service call's
result), each with the engine clock (clocks.py) set to the time it happened; timers that
come due between two inputs fire at their own due times first. Nothing is saved: the
workflow lives only in this call. Service tasks are never called: a recorded result is
given back, and a service task with none stops the replay there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from .clocks import SetClock, bound
from .errors import EngineError, MessageNotExpected, TaskNotReady
from .runtime import ProcessRuntime
from .snapshot import Snapshot

MAX_TIMER_ROUNDS = 200  # timers fired between two inputs: a loop must not hold a job
TICK = timedelta(microseconds=1)  # SpiffWorkflow fires a timer once now is past its due time

# Checks a form's values as the live server does: (form name, values, task data) -> the
# cleaned values; raises ValueError whose argument says what is wrong (given back as is).
Validator = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Input:
    """One recorded input: kind is "task", "message", "timer" or "service"."""

    kind: str
    at: datetime
    name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    has_result: bool = True


class Unreplayable(Exception):
    """The recorded inputs cannot drive the process: a kind of reason and its parameters.

    Kinds: "timers" (they fire more often than a replay follows), "form" (`step`: the
    task's title, `problem`: what the validator raised), "engine" (`detail`: the engine's
    message). Kept as data, so the report is worded in its reader's language.
    """

    def __init__(self, why: str, **params: Any) -> None:
        super().__init__(why, params)
        self.why = why
        self.params = params


@dataclass
class Replayed:
    """What a case did in a replay: its route, priority, deadlines and milestones."""

    route: list[str] = field(default_factory=list)  # tasks done and timers fired, in order
    titles: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # recorded inputs nothing waited for
    waiting: list[str] = field(default_factory=list)  # tasks left waiting at the end
    deadlines: dict[str, datetime] = field(default_factory=dict)  # first due time per element
    priority: str | None = None
    milestones: dict[str, datetime] = field(default_factory=dict)
    stopped: str | None = None  # the service task it stopped at, if any

    def take(self, snapshot: Snapshot, at: datetime) -> None:
        """Note what a run's snapshot shows at business time `at`."""
        for timer in snapshot.timers:
            self.titles.setdefault(timer.bpmn_id, timer.title)
            self.deadlines.setdefault(timer.bpmn_id, timer.due_at)
        for task in snapshot.ready:
            self.titles.setdefault(task.bpmn_id, task.title)
            if task.due_at is not None:
                self.deadlines.setdefault(task.bpmn_id, task.due_at)
        for name in snapshot.reached:
            self.milestones.setdefault(name, at)
        self.route += snapshot.fired
        priority = snapshot.data.get("priority")
        self.priority = priority if isinstance(priority, str) else self.priority
        self.waiting = [task.bpmn_id for task in snapshot.ready]


def replay(runtime: ProcessRuntime, intake: dict[str, Any], inputs: Sequence[Input],
           until: datetime, validate: Validator, start_form: str | None) -> Replayed:
    """Run `intake` then `inputs` through `runtime` in memory, timers to `until`.

    Raises Unreplayable when the process refuses the recorded data (a form that now
    requires what the data lacks) or fails on it.
    """
    received = datetime.fromisoformat(str(intake["received_at"]))
    clock = SetClock(received)
    out = Replayed()
    with bound(clock):
        try:
            data = dict(intake)
            if start_form is not None:
                values = {k: v for k, v in intake.items() if k not in ("channel", "received_at")}
                data = {**validate(start_form, values, {}), "channel": intake.get("channel"),
                        "received_at": intake["received_at"]}
            workflow, snapshot = runtime.start(data)
            out.take(snapshot, received)
            for item in inputs:
                snapshot = _timers_until(runtime, workflow, snapshot, item.at, clock, out)
                clock.at = max(clock.at, item.at)
                snapshot = _apply(runtime, workflow, snapshot, item, validate, out) or snapshot
                if out.stopped:
                    return out
            _timers_until(runtime, workflow, snapshot, until, clock, out)
        except EngineError as exc:
            raise Unreplayable("engine", detail=str(exc)) from None
    return out


def _timers_until(runtime: ProcessRuntime, workflow: BpmnWorkflow, snapshot: Snapshot,
                  until: datetime, clock: SetClock, out: Replayed) -> Snapshot:
    """Fire, each at its own due time, the timers that come due before `until`."""
    for _round in range(MAX_TIMER_ROUNDS):
        due = [t.due_at for t in snapshot.timers if t.due_at < until]
        if not due:
            return snapshot
        clock.at = max(clock.at, min(due) + TICK)
        snapshot = runtime.fire_timers(workflow)
        out.take(snapshot, clock.at)
    raise Unreplayable("timers")


def _apply(runtime: ProcessRuntime, workflow: BpmnWorkflow, snapshot: Snapshot, item: Input,
           validate: Validator, out: Replayed) -> Snapshot | None:
    """Give one recorded input to the workflow; note it as skipped if nothing waits for it."""
    if item.kind == "timer":
        fired = runtime.fire_timers(workflow)
        out.take(fired, item.at)
        return fired
    if item.kind == "task":
        task = next((t for t in snapshot.ready if t.bpmn_id == item.name), None)
        if task is None:
            out.skipped.append(item.name)
            return None
        values = item.values
        if task.form is not None:
            try:
                values = validate(task.form, values, runtime.task_data(workflow, task.task_id))
            except ValueError as exc:
                raise Unreplayable("form", step=task.title,
                                   problem=exc.args[0] if exc.args else "") from None
        return _taken(out, item, lambda: runtime.complete(workflow, task.task_id, values),
                      TaskNotReady)
    if item.kind == "message":
        return _taken(out, item, lambda: runtime.message(workflow, item.name, item.values),
                      MessageNotExpected)
    call = next((c for c in snapshot.service_calls if c.bpmn_id == item.name), None)
    if call is None:
        out.skipped.append(item.name)
        return None
    if not item.has_result:
        out.stopped = item.name
        return None
    return _taken(out, item,
                  lambda: runtime.finish_service_call(workflow, call.task_id, item.values))


def _taken(out: Replayed, item: Input, run: Callable[[], Snapshot],
           not_waited: type[Exception] | tuple[()] = ()) -> Snapshot | None:
    """Run one input on its route; if `not_waited` says nothing waits for it, note it skipped."""
    try:
        done = run()
    except not_waited:
        out.skipped.append(item.name)
        return None
    out.route.append(item.name)
    out.take(done, item.at)
    return done
