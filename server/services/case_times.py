"""How long a case took in business time: to acknowledge, to resolve, and how long it was paused.

Counted in the business calendar (working hours only, holidays excluded) from
`received_at`, as deadlines are (DESIGN decision 8). Paused time is what the diagram's
`pausesClock` tasks held each clock for: the hours the engine added up when each pause
ended, plus the pause still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from ..models import Case, utcnow
from . import calendar
from .business_time import Calendar
from .processes import runtime_for


@dataclass(frozen=True)
class Span:
    """Working time between two moments; `so_far` when the second one has not come yet."""

    hours: float
    days: float
    so_far: bool


@dataclass(frozen=True)
class Pause:
    """How long one clock (e.g. "resolution") stood still; `ongoing` while it still does."""

    clock: str
    hours: float
    days: float
    ongoing: bool


@dataclass(frozen=True)
class CaseTimes:
    """The business-time figures of one case."""

    acknowledge: Span
    resolve: Span
    pauses: list[Pause]
    day_hours: float  # the working day the figures in days are counted in


def figures(case: Case, now: datetime | None = None) -> CaseTimes:
    """The case's time to acknowledge, time to resolve (so far, if open) and paused time."""
    now = now or utcnow()
    cal = calendar.load()
    day = _day_hours(cal)
    acknowledge = _span(cal, day, case.received_at, case.acknowledged_at, now)
    resolve = _span(cal, day, case.received_at, case.resolved_at or case.closed_at, now)
    return CaseTimes(acknowledge, resolve, _pauses(case, cal, day, now), day)


def _span(cal: Calendar, day: float, start: datetime, end: datetime | None,
          now: datetime) -> Span:
    hours = cal.working_hours_between(start, end or now)
    return Span(round(hours, 2), round(hours / day, 2), end is None)


def _pauses(case: Case, cal: Calendar, day: float, now: datetime) -> list[Pause]:
    """Each clock that was ever paused, with the pause running now counted up to now."""
    closed, running = runtime_for(case.process_version_id).clock_pauses(case.workflow_state)
    found: list[Pause] = []
    for clock in sorted(closed.keys() | running.keys()):
        hours = closed.get(clock, 0.0)
        since = _parsed(running.get(clock))
        if since is not None:
            hours += cal.working_hours_between(since, now)
        found.append(Pause(clock, round(hours, 2), round(hours / day, 2), since is not None))
    return found


def _parsed(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _day_hours(cal: Calendar) -> float:
    """The usual length of a working day in hours (the median of the week's days)."""
    lengths = [(closes.hour * 60 + closes.minute - opens.hour * 60 - opens.minute) / 60
               for opens, closes in cal.week.values()]
    usual = median(lengths) if lengths else 8.0
    return usual if usual > 0 else 8.0
