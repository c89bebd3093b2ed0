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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from datetime import date as date_type
from datetime import time as time_type
from types import ModuleType
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


# The engine's idea of "now". Real runs leave it unbound and read the real clock; a
# replay (services/processes/replay.py) binds a clock of its own in its own context, so
# the recorded business times drive the run there and nowhere else: a contextvar is per
# thread (and per task), where patching `datetime` would move every thread's clock.
_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("plaint_engine_clock",
                                                               default=None)


def now() -> datetime:
    """The current time as the engine sees it: the bound clock's, else the real one (UTC)."""
    clock = _CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


@dataclass
class SetClock:
    """A clock that says what it was last set to (a replay moves it to each recorded time)."""

    at: datetime

    def __call__(self) -> datetime:
        """The time it was set to."""
        return self.at


@contextmanager
def bound(clock: Callable[[], datetime]) -> Iterator[None]:
    """Run the block with the engine reading `clock` in this context only."""
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)


class _AnyDatetime(type):
    """Makes `isinstance(x, EngineDatetime)` true for every datetime, as the real name was."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, datetime)


class EngineDatetime(datetime, metaclass=_AnyDatetime):
    """`datetime` as SpiffWorkflow's timer module sees it: `now()` asks the engine clock.

    Everything it makes is a plain datetime, so no instance of this class reaches task
    data (the serializer knows types by their exact class).
    """

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        """The engine's now, in `tz` (naive local time without one, like datetime.now)."""
        clock = _CLOCK.get()
        if clock is None:
            return datetime.now(tz)
        at = clock()
        return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)

    @classmethod
    def fromisoformat(cls, text: str) -> datetime:  # type: ignore[override]
        """A plain datetime from ISO 8601 text."""
        return datetime.fromisoformat(text)

    @classmethod
    def combine(cls, date: date_type, time: time_type,  # type: ignore[override]
                tzinfo: tzinfo | None = None) -> datetime:
        """A plain datetime from a date and a time."""
        return datetime.combine(date, time, tzinfo)


def install_engine_clock(timer_module: ModuleType) -> None:
    """Make SpiffWorkflow's timer module read the engine clock (once; thread-safe after)."""
    if getattr(timer_module, "datetime", None) is datetime:
        timer_module.datetime = EngineDatetime  # type: ignore[attr-defined]
