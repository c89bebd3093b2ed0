"""Limits that stop one case's run from spinning: steps per run, and how often timers wake it.

A run (start, complete a task, take a message, fire timers) ends when every branch waits
for a person, a message or a timer. A diagram can keep it from ever waiting: a loop of
script tasks, a cycle timer that repeats every 0 s. Deploy refuses what the files show
(timer_checks.py); these limits catch what only running shows, such as a period that an
expression computes:

* a run stops after `max_steps` engine steps (SpiffWorkflow itself stops a loop silently
  after about a thousand, leaving the case with nothing to wait for: that is refused too);
* a cycle timer that would repeat more often than `min_timer_period`, and a duration
  timer on a loop that would wake the case sooner than that, are refused when they start.

Each raises RunawayRun, an EngineError that names the element.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import tasks
from .errors import EngineError
from .walk import TaskWalk

SETTING_STEPS = "PLAINT_MAX_ENGINE_STEPS"
SETTING_PERIOD = "PLAINT_MIN_TIMER_PERIOD"


@dataclass(frozen=True)
class RunLimits:
    """How far one run may go without waiting, and how often a timer may wake a case."""

    max_steps: int = 1000
    min_timer_period: float = 60.0


class RunawayRun(EngineError):
    """The run would not stop by itself (a loop without a wait, a timer that spins)."""


def _named(spec: Any) -> str:
    name, bpmn_id = getattr(spec, "bpmn_name", None), getattr(spec, "bpmn_id", None)
    if name and bpmn_id:
        return f"'{name}' ({bpmn_id})"
    return f"'{name or bpmn_id or spec.name}'"


def _seconds(value: float) -> str:
    """A number of seconds as a person reads it ("60 s")."""
    return _("%(seconds)s s", seconds=f"{value:g}")


class TimerWatch:
    """The timers of a version that could wake a case too often, found once per version."""

    def __init__(self, specs: Iterable[BpmnProcessSpec], limits: RunLimits) -> None:
        self.limits = limits
        self.cycles: frozenset[str] = frozenset()  # spec names of cycle timers
        self.loop_durations: frozenset[str] = frozenset()  # duration timers on a loop
        cycles: set[str] = set()
        looping: set[str] = set()
        for spec in specs:
            on_loop = _on_a_loop(spec)
            for name, task_spec in spec.task_specs.items():
                definition = getattr(task_spec, "event_definition", None)
                if isinstance(definition, CycleTimerEventDefinition):
                    cycles.add(name)
                elif isinstance(definition, DurationTimerEventDefinition) and name in on_loop:
                    looping.add(name)
        self.cycles, self.loop_durations = frozenset(cycles), frozenset(looping)
        self.any = bool(cycles or looping)

    def check_cycle(self, task: Task) -> None:
        """Refuse a waiting cycle timer whose period is under the minimum."""
        value = task.internal_data.get("event_value")
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return
        period = float(value.get("duration") or 0)
        if period < self.limits.min_timer_period:
            drawn = tasks.drawn_timer(task)
            raise RunawayRun(
                _("the timer %(timer)s would repeat every %(period)s; a cycle timer must wait "
                  "at least %(minimum)s between repeats (%(setting)s). Change its expression, "
                  "or retry once the data it reads gives a longer period",
                  timer=_named(drawn), period=_seconds(period),
                  minimum=_seconds(self.limits.min_timer_period), setting=SETTING_PERIOD),
                drawn.bpmn_id, drawn.bpmn_name)

    def check_started(self, workflow: BpmnWorkflow, since: float) -> None:
        """Refuse the timers that started waiting in this run and would wake the case too often."""
        if not self.any:
            return
        started = datetime.fromtimestamp(since, UTC)
        for task in TaskWalk(workflow).having(TaskState.WAITING):
            if task.task_spec.name in self.cycles:
                self.check_cycle(task)
            elif task.task_spec.name in self.loop_durations and task.last_state_change >= since:
                value = task.internal_data.get("event_value")
                if not isinstance(value, str):
                    continue
                wait = (TimerEventDefinition.get_datetime(value) - started).total_seconds()
                if wait < self.limits.min_timer_period:
                    raise RunawayRun(
                        _("the timer %(timer)s is on a loop and would wake the case again "
                          "after %(wait)s; a loop must wait at least %(minimum)s "
                          "(%(setting)s)", timer=_named(task.task_spec),
                          wait=_seconds(max(wait, 0.0)),
                          minimum=_seconds(self.limits.min_timer_period),
                          setting=SETTING_PERIOD),
                        task.task_spec.bpmn_id, task.task_spec.bpmn_name)


class StepCounter:
    """Counts the engine steps of one run and stops it past the limit (do_engine_steps hook)."""

    def __init__(self, watch: TimerWatch) -> None:
        self.watch = watch
        self.limit = watch.limits.max_steps
        self.count = 0
        self.seen: Counter[str] = Counter()

    def __call__(self, task: Task) -> None:
        """Called by SpiffWorkflow after each task it completed in this run."""
        self.count += 1
        if task.task_spec.bpmn_id:  # not SpiffWorkflow's own joins and splits
            self.seen[task.task_spec.bpmn_id] += 1
        parent = task.parent
        if parent is not None and parent.task_spec.name in self.watch.cycles:
            # A cycle timer just fired: a period of 0 s would fire again at once, forever,
            # each round slower than the last, so look now rather than at the end.
            self.watch.check_cycle(parent)
        if self.count > self.limit:
            raise self._runaway()

    def _runaway(self) -> RunawayRun:
        busiest = [name for name, _count in self.seen.most_common(3)]
        rounds = ", ".join(_("'%(element)s' %(count)d times", element=name,
                             count=self.seen[name]) for name in busiest)
        return RunawayRun(
            _("the process ran %(limit)d steps without waiting for a person, a message or a "
              "timer (%(rounds)s): a loop in the diagram does not stop. Give the loop a wait "
              "or an exit (%(setting)s sets the limit)", limit=self.limit, rounds=rounds,
              setting=SETTING_STEPS), busiest[0] if busiest else None)


def check_stalled(workflow: BpmnWorkflow, walk: TaskWalk) -> None:
    """Refuse a run that left an unfinished case with nothing to wait for."""
    if workflow.completed:
        return
    if not walk.having(TaskState.READY | TaskState.WAITING):
        raise RunawayRun(_("the process stopped without finishing and without waiting for "
                           "anything (SpiffWorkflow gives up on a loop after about a thousand "
                           "rounds): a loop in the diagram does not stop"))


def _on_a_loop(spec: BpmnProcessSpec) -> set[str]:
    """The names of the task specs that lie on a cycle of a process spec's graph."""
    graph = {name: [out.name for out in ts.outputs] for name, ts in spec.task_specs.items()}
    return {name for loop in loops(graph) for name in loop}


def loops(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of a graph that hold a cycle (Tarjan, iteratively).

    Each comes in the order its nodes were first reached from the graph's first keys.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors:
                    found.append(sorted(component, key=index.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found
