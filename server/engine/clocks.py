"""Business-time hooks for the engine: helpers bound to task data, and paused clocks.

The engine knows no calendar. The services hand it a `WorkingTime` (helpers that
diagrams call, such as ``deadline("acknowledge")``, and the two pieces of calendar
arithmetic that moving a deadline needs), and the engine applies it.

A paused clock: while a task with the property ``pausesClock`` (e.g. "resolution") is
waiting or ready, that clock stands still; typically the case waits on the
complainant. When the task is done, the working hours that passed are added to the
clock: the timers of that clock that are waiting are moved later by that much, and
``clock_paused_hours`` in the task data grows, so that deadlines computed afterwards
(``deadline("resolution")``) include the pause. A timer belongs to a clock by its
``clock`` property, or by calling deadline/reminder/next_level with a literal kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PAUSES_KEY = "pausesClock"
CLOCK_KEY = "clock"
PAUSED_HOURS = "clock_paused_hours"  # in task data: {clock: working hours paused so far}
PAUSED_SINCE = "clock_paused_since"  # in the workflow's own data: {clock: ISO time}
KIND_CALL = re.compile(r"""\b(?:deadline|reminder|next_level)\(\s*["'](\w+)["']""")

# A helper bound to task data is called as fn(data, *args) where diagrams write fn(*args).
DataHelper = Callable[..., Any]


@dataclass
class WorkingTime:
    """What the engine needs of the business calendar and the escalation policy."""

    helpers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    data_helpers: dict[str, DataHelper] = field(default_factory=dict)
    add_hours: Callable[[datetime, float], datetime] | None = None
    hours_between: Callable[[datetime, datetime], float] | None = None


def clocks_of(props: Mapping[str, str], key: str) -> set[str]:
    """The clock names a comma-separated property lists."""
    return {name.strip() for name in props.get(key, "").split(",") if name.strip()}


def timer_clock(props: Mapping[str, str], expression: str | None) -> str | None:
    """Which clock a timer counts on: its `clock` property, else the kind its helper names."""
    if props.get(CLOCK_KEY):
        return props[CLOCK_KEY].strip()
    found = KIND_CALL.search(expression or "")
    return found.group(1) if found else None
