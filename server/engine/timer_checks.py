"""Deploy checks that keep timers and loops from spinning a case.

What the files show is refused here; what only running shows (a period an expression
computes, a loop marker on a task) is stopped at run time by limits.py.

* A cycle timer whose literal period is under the minimum is refused wherever it is.
* Every sequence-flow loop must wait somewhere: at a task a person works (user, manual or
  plain task) or a receive task, at a message, signal or conditional event, at a
  subprocess or call activity (its inside is checked on its own), or at a timer of at
  least the minimum. A loop whose only waits are shorter timers is refused naming the
  timer; a loop with no wait at all is refused naming the elements it runs through.

* A user task's `dueIn` compiles under the sandbox like a timer expression, a literal
  one is an ISO 8601 time or duration, and the deadline kinds it names exist.

Leaving a task through its boundary event does not wait for the task: a loop through an
interrupting boundary timer waits as long as that timer, however long the task would.
"""

from __future__ import annotations

import ast
from typing import Any

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .bundle_checks import Checker, local_name
from .clocks import KIND_CALL
from .due import DUE_IN_KEY, literal_problem
from .limits import SETTING_PERIOD, loops
from .sandbox import SandboxError, compile_expression

PEOPLE_TASKS = {"userTask", "manualTask", "task", "receiveTask"}
OPAQUE = {"subProcess", "callActivity", "transaction", "adHocSubProcess"}
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
WAITING_EVENTS = {"messageEventDefinition", "signalEventDefinition",
                  "conditionalEventDefinition"}
NOT_FLOW_NODES = {"sequenceFlow", "laneSet", "dataObject", "dataObjectReference",
                  "dataStoreReference", "textAnnotation", "association", "documentation",
                  "extensionElements", "ioSpecification", "property", "group", "category"}
FIXED_DATE = -1.0  # a literal timeDate: waits once, then never again


def check_timers_and_loops(c: Checker, name: str, tree: etree._ElementTree,
                           min_period: float) -> None:
    """Refuse short literal cycle timers, and loops that do not wait long enough."""
    for timer in tree.iter("{*}timerEventDefinition"):
        cycle = timer.find("{*}timeCycle")
        period = literal_period(timer)
        if cycle is not None and period is not None and period < min_period:
            event = timer.getparent()
            c.add(name, event.get("id"), cycle.sourceline,
                  _("the timer %(timer)s repeats every %(period)s: a cycle timer must wait "
                    "at least %(minimum)s between repeats (%(setting)s)", timer=_label(event),
                    period=_seconds(period), minimum=_seconds(min_period),
                    setting=SETTING_PERIOD))
    for container in tree.iter():
        if local_name(container.tag) in CONTAINERS:
            _check_loops(c, name, container, min_period)


def check_due_in(c: Checker, name: str, tree: etree._ElementTree) -> None:
    """Every dueIn sits on a user task and compiles like a timer expression."""
    for prop in tree.iter("{*}property"):
        parent = prop.getparent()
        if prop.get("name") != DUE_IN_KEY or parent is None or \
                local_name(parent.tag) != "properties":
            continue
        task = parent.getparent().getparent() if parent.getparent() is not None else None
        owner = task.get("id") if task is not None else None
        text = (prop.get("value") or "").strip()
        if task is None or local_name(task.tag) != "userTask":
            c.add(name, owner, prop.sourceline,
                  _("%(property)s is read on user tasks only: move it to the task it times",
                    property=DUE_IN_KEY))
            continue
        if not text:
            c.add(name, owner, prop.sourceline,
                  _("%(property)s of %(task)s is empty: give an expression such as "
                    'working_days(2) or deadline("response")', property=DUE_IN_KEY,
                    task=_label(task)))
            continue
        try:
            compile_expression(text)
        except SandboxError as exc:
            c.add(name, owner, prop.sourceline,
                  _("%(property)s of %(task)s is refused: %(error)s", property=DUE_IN_KEY,
                    task=_label(task), error=exc))
            continue
        problem = literal_problem(text)
        if problem:
            c.add(name, owner, prop.sourceline, problem)
        for kind in KIND_CALL.findall(text) if c.clock_kinds else ():
            if kind not in c.clock_kinds:
                c.add(name, owner, prop.sourceline,
                      _("'%(kind)s' in %(property)s of %(task)s is not a deadline kind of the "
                        "escalation policy: use one of %(kinds)s", kind=kind,
                        property=DUE_IN_KEY, task=_label(task), kinds=", ".join(c.clock_kinds)))


def literal_period(timer: etree._Element) -> float | None:
    """The seconds a timer written as a literal waits (its period, for a cycle).

    None when an expression computes it (limits.py checks it when it runs) or when it is
    not a valid literal (check_code reports that); FIXED_DATE for a literal date.
    """
    for tag in ("timeCycle", "timeDuration", "timeDate"):
        elem = timer.find("{*}" + tag)
        if elem is None:
            continue
        try:
            value = ast.literal_eval((elem.text or "").strip())
        except (ValueError, SyntaxError):
            return None
        if not isinstance(value, str):
            return None
        try:
            if tag == "timeCycle":
                return float(TimerEventDefinition.parse_iso_recurring_interval(value)[2]
                             .total_seconds())
            if tag == "timeDuration":
                parsed = TimerEventDefinition.parse_iso_duration(value)
                return TimerEventDefinition.get_timedelta_from_start(parsed).total_seconds()
        except Exception:  # SpiffWorkflow raises bare exceptions; check_code reports them
            return None
        return FIXED_DATE
    return None


def _kind(elem: etree._Element, min_period: float) -> tuple[str, float | None]:
    """How an element waits: 'wait', 'person' (its own outflows wait), 'short' or 'pass'.

    A short timer comes with the seconds it waits (FIXED_DATE for a literal date).
    """
    tag = local_name(elem.tag)
    if tag in PEOPLE_TASKS:
        return "person", None
    if tag in OPAQUE:
        return "wait", None
    definitions = {local_name(child.tag) for child in elem}
    if definitions & WAITING_EVENTS:
        return "wait", None
    timer = elem.find("{*}timerEventDefinition")
    if timer is not None:
        period = literal_period(timer)
        # A short cycle timer is refused on its own (check_timers_and_loops), not twice.
        if period is None or period >= min_period or timer.find("{*}timeCycle") is not None:
            return "wait", None
        return "short", period
    return "pass", None


def _check_loops(c: Checker, name: str, container: etree._Element, min_period: float) -> None:
    """Refuse the loops of one process or subprocess that never wait long enough."""
    nodes: dict[str, etree._Element] = {}
    flows: list[tuple[str, str]] = []
    links: dict[str, tuple[list[str], list[str]]] = {}  # link name -> (throws, catches)
    for child in container:
        tag = local_name(child.tag)
        if tag == "sequenceFlow":
            flows.append((child.get("sourceRef") or "", child.get("targetRef") or ""))
        elif tag and tag not in NOT_FLOW_NODES and child.get("id"):
            nodes[child.get("id") or ""] = child
            if tag == "boundaryEvent":
                flows.append((child.get("attachedToRef") or "", child.get("id") or ""))
            link = child.find("{*}linkEventDefinition")
            if link is not None:
                ends = links.setdefault(link.get("name") or "", ([], []))
                ends[0 if tag == "intermediateThrowEvent" else 1].append(child.get("id") or "")
    for throws, catches in links.values():
        flows.extend((throw, catch) for throw in throws for catch in catches)
    kinds: dict[str, str] = {}
    periods: dict[str, float] = {}
    for node_id, elem in nodes.items():
        kinds[node_id], period = _kind(elem, min_period)
        if period is not None:
            periods[node_id] = period
    graph: dict[str, list[str]] = {node_id: [] for node_id, kind in kinds.items()
                                   if kind != "wait"}
    for source, target in flows:
        if source not in graph or target not in graph:
            continue
        boundary = local_name(nodes[target].tag) == "boundaryEvent" and \
            nodes[target].get("attachedToRef") == source
        if kinds[source] == "person" and not boundary:
            continue  # leaving the task the normal way waits for whoever works it
        graph[source].append(target)
    for component in loops(graph):
        shorts = [node_id for node_id in component if kinds[node_id] == "short"]
        if shorts:
            for timer_id in shorts:
                _refuse_short(c, name, nodes[timer_id], periods[timer_id],
                              _path(nodes, graph, component, timer_id), min_period)
            continue
        first = nodes[component[0]]
        c.add(name, component[0], first.sourceline,
              _("the flow loops through %(path)s without waiting for a person, a message or "
                "a timer, so a case would run round it without end: put a user task, a "
                "message or a timer of at least %(minimum)s on the loop",
                path=_path(nodes, graph, component, component[0]),
                minimum=_seconds(min_period)))


def _refuse_short(c: Checker, name: str, timer: etree._Element, period: float, path: str,
                  min_period: float) -> None:
    """Refuse a timer that is the only wait of a loop and waits less than the minimum."""
    if period == FIXED_DATE:
        message = _("the timer %(timer)s waits for a fixed date, then never again, and the "
                    "flow loops back to it (%(path)s): a loop must wait at least %(minimum)s "
                    "(%(setting)s) for a timer, or wait for a person or a message",
                    timer=_label(timer), path=path, minimum=_seconds(min_period),
                    setting=SETTING_PERIOD)
    else:
        message = _("the timer %(timer)s waits only %(period)s and the flow loops back to "
                    "it (%(path)s): a loop must wait at least %(minimum)s (%(setting)s) for a "
                    "timer, or wait for a person or a message", timer=_label(timer),
                    period=_seconds(period), path=path, minimum=_seconds(min_period),
                    setting=SETTING_PERIOD)
    c.add(name, timer.get("id"), timer.sourceline, message)


def _path(nodes: dict[str, etree._Element], graph: dict[str, list[str]],
          component: list[str], start: str) -> str:
    """The shortest round from `start` back to it, as element labels joined by arrows."""
    members = set(component)
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    last = start
    for node in queue:
        if start in graph[node]:
            last = node
            break
        for nxt in graph[node]:
            if nxt in members and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    route: list[str] = []
    at: str | None = last
    while at is not None:
        route.append(at)
        at = parent[at]
    route.reverse()
    labels = [_label(nodes[node_id]) for node_id in [*route, start]]
    if len(labels) > 8:
        labels = [*labels[:6], "…", labels[-1]]
    return " → ".join(labels)


def _label(elem: Any) -> str:
    """An element as a person reads it: its name, else its id."""
    return f"'{elem.get('name') or elem.get('id')}'"


def _seconds(value: float) -> str:
    """A number of seconds as a person reads it ("60 s")."""
    return _("%(seconds)s s", seconds=f"{value:g}")
