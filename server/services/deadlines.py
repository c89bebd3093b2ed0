"""The business-time helpers diagrams call in timer expressions, given to the engine.

Diagram code may call, in the sandbox:

* ``deadline(kind)``: when the target of that kind ("acknowledge", "response",
  "resolution") falls for this case, from the escalation policy for its priority and
  category, counted from ``received_at`` in the business calendar, plus any time the
  clock of that kind was paused (waiting on the complainant);
* ``reminder(kind)``: when to remind before that deadline;
* ``next_level(kind)``: when an escalation at that deadline goes up one more level;
* ``working_days(n)`` / ``working_hours(n)``: now plus that much business time.

Each returns an ISO 8601 UTC timestamp, so it fits a timeDate timer directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..engine import WorkingTime
from ..engine.clocks import PAUSED_HOURS
from ..engine.clocks import now as engine_now
from . import calendar, policy, script_functions


def working_time() -> WorkingTime:
    """The helpers and calendar arithmetic the engine runs diagrams with."""
    return WorkingTime(
        helpers={"working_days": working_days, "working_hours": working_hours,
                 **script_functions.HELPERS},
        data_helpers={"deadline": deadline, "reminder": reminder, "next_level": next_level},
        add_hours=calendar.add_working_hours,
        hours_between=calendar.working_hours_between,
    )


def _received(data: Mapping[str, Any]) -> datetime:
    value = data.get("received_at")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return engine_now()


def _case(data: Mapping[str, Any]) -> dict[str, Any]:
    def text(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) and value else None

    return {"priority": text("priority"), "category": text("category")}


def _due(data: Mapping[str, Any], kind: str) -> datetime:
    due = policy.deadline(kind, since=_received(data), **_case(data))
    return _plus_pause(data, kind, due)


def _plus_pause(data: Mapping[str, Any], kind: str, at: datetime) -> datetime:
    paused = data.get(PAUSED_HOURS)
    hours = paused.get(kind, 0) if isinstance(paused, dict) else 0
    return calendar.add_working_hours(at, float(hours)) if hours else at


def deadline(data: Mapping[str, Any], kind: str) -> str:
    """The case's deadline of this kind, as an ISO UTC timestamp."""
    return _due(data, kind).isoformat()


def reminder(data: Mapping[str, Any], kind: str) -> str:
    """When to remind before the case's deadline of this kind."""
    at = policy.reminder_at(kind, since=_received(data), **_case(data))
    return _plus_pause(data, kind, at).isoformat()


def next_level(data: Mapping[str, Any], kind: str) -> str:
    """When the escalation at the case's deadline of this kind goes up a level."""
    return policy.next_level_at(kind, since=_due(data, kind), **_case(data)).isoformat()


def working_days(days: int) -> str:
    """Now plus `days` working days."""
    return calendar.add_working_days(engine_now(), int(days)).isoformat()


def working_hours(hours: float) -> str:
    """Now plus `hours` working hours."""
    return calendar.add_working_hours(engine_now(), float(hours)).isoformat()
