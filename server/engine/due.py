"""When a user task is due, from its `dueIn` property.

A task without a boundary timer has no due time unless the diagram says so: `dueIn` is
an expression, evaluated in the sandbox with the task's data and the business-time
helpers (``working_days(2)``, ``deadline("response")``), once, when the task becomes
ready. Its value is kept in the task's internal data, so it is saved with the case and
does not move on later runs (as a timer's due time does not); it moves only when a clock
it counts on was paused, like that clock's timers.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task

from . import tasks
from .clocks import now as engine_now
from .clocks import timer_clock
from .errors import EngineError
from .walk import TaskWalk

DUE_IN_KEY = "dueIn"  # on a user task: an expression giving when it is due
DUE_AT_KEY = "plaint_due_at"  # in a task's internal data: the ISO UTC time dueIn gave
_STORED = DUE_AT_KEY
_EXAMPLES = 'working_days(2), deadline("response") or "P2D"'


def due_in(task: Task) -> datetime | None:
    """The due time a ready task's dueIn gave when it became ready (None without one)."""
    value = task.internal_data.get(_STORED)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def settle(walk: TaskWalk, script_engine: Any) -> None:
    """Evaluate dueIn for every user task that became ready without its due time yet."""
    for task in walk.ready_manual():
        expression = tasks.props(task).get(DUE_IN_KEY, "").strip()
        if expression and _STORED not in task.internal_data:
            value = script_engine.evaluate(task, expression)
            task.internal_data[_STORED] = as_due_time(value, tasks.title(task)).isoformat()


def shift(task: Task, ended: dict[str, float], add_hours: Any) -> None:
    """Move a ready task's stored due time later by the pause of the clock it counts on."""
    value = task.internal_data.get(_STORED)
    if not isinstance(value, str):
        return
    props = tasks.props(task)
    counts_on = timer_clock(props, props.get(DUE_IN_KEY))
    if counts_on in ended:
        moved = add_hours(datetime.fromisoformat(value), ended[counts_on])
        task.internal_data[_STORED] = moved.isoformat()


def as_due_time(value: Any, title: str, now: datetime | None = None) -> datetime:
    """A dueIn value as a UTC time: an ISO 8601 time with an offset, or a duration from now."""
    if isinstance(value, datetime):
        moment: datetime | None = value
    elif isinstance(value, str):
        moment = _parse_time(value)
        if moment is None:
            delta = parse_duration(value)
            if delta is not None:
                return (now or engine_now()) + delta
    else:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise EngineError(_("the due time of '%(task)s' (dueIn) gave %(value)s: it must give "
                            "an ISO 8601 time with a UTC offset or a duration, e.g. "
                            "%(examples)s", task=title, value=repr(str(value)[:80]),
                            examples=_EXAMPLES))
    return moment.astimezone(UTC)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_duration(value: str) -> timedelta | None:
    """An ISO 8601 duration such as "P2D" or "PT4H" (None if it is not one)."""
    if not value.startswith("P"):
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return TimerEventDefinition.get_timedelta_from_start(parsed)
    except Exception:  # SpiffWorkflow raises bare exceptions for bad durations
        return None


def literal_problem(expression: str) -> str | None:
    """What is wrong with a dueIn written as a literal (None if fine or computed)."""
    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        return None  # computed when the task becomes ready
    try:
        as_due_time(value, "", now=engine_now())
    except EngineError:
        return _("dueIn %(expression)s is not an ISO 8601 time with a UTC offset or a "
                 "duration: use e.g. %(examples)s", expression=expression, examples=_EXAMPLES)
    return None
