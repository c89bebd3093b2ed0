"""What each golden case must report, worked out by hand from how it was made.

tests/support/golden.py records what each case was given (times, pauses, outcome, cause,
survey); this module turns that into the figures a report counts for the case: business
hours, on-target flags per deadline kind, first-contact resolution, the remedy. It counts
business time with the golden builder's own hand-written calendar arithmetic and reads
only the policy's targets (amount and unit), never the reporting code. The golden
figure tests aggregate these with plain Python.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .golden import Expected, _deadline, add_working_hours, working_day

RIYADH = ZoneInfo("Asia/Riyadh")
CURRENCY = "SAR"  # PLAINT_CURRENCY's default: the currency the golden remedies are in
FCR_DAYS = 3  # first-contact resolution: resolved within 3 working days (README)
UPHELD = ("upheld", "partly_upheld")


@dataclass(frozen=True)
class Fact:
    """One golden case as the reports must see it."""

    exp: Expected
    acknowledge_hours: float | None
    response_hours: float | None
    resolution_hours: float | None
    on_target: dict[str, bool | None]  # acknowledgement, response, resolution
    first_contact: bool | None
    remedy_amount: Decimal | None

    @property
    def reference(self) -> str:
        """The case reference."""
        return self.exp.reference

    @property
    def breached(self) -> bool:
        """A deadline of any kind already missed."""
        return any(flag is False for flag in self.on_target.values())

    def received_in(self, start: date, end: date) -> bool:
        """Received between two organisation dates, both included."""
        return start <= local_day(self.exp.received_at) <= end


def local_day(at: datetime) -> date:
    """An instant's date in the golden calendar's zone (Riyadh)."""
    return at.astimezone(RIYADH).date()


def _flag(at: datetime | None, due: datetime, fired: datetime | None) -> bool | None:
    """Met when the milestone came by the deadline; missed when a timer fired after the
    deadline without it; else None (the golden builder runs no other step late)."""
    if at is not None:
        return at <= due
    return False if fired is not None and fired > due else None


def fact(exp: Expected) -> Fact:
    """What one golden case must report."""
    dues = {"acknowledgement": _deadline(exp, "acknowledge"),
            "response": _deadline(exp, "response"),
            "resolution": add_working_hours(_deadline(exp, "resolution"), exp.paused_hours)
            if exp.paused_hours else _deadline(exp, "resolution")}
    fired = exp.overdue_fired_at
    flags = {"acknowledgement": _flag(exp.acknowledged_at, dues["acknowledgement"], fired),
             "response": _flag(exp.responded_at, dues["response"], fired),
             "resolution": _flag(exp.resolved_at, dues["resolution"], fired)}
    first_contact = None
    if exp.resolved_at is not None:
        first_contact = (exp.resolved_at <= working_day(exp.received_at, FCR_DAYS)
                         and exp.paused_hours == 0 and exp.escalation_level == 0
                         and exp.reopen_count == 0)
    return Fact(exp, exp.hours(exp.acknowledged_at), exp.hours(exp.responded_at),
                exp.hours(exp.resolved_at, exp.paused_hours), flags, first_contact,
                exp.remedy_amount)


def percent(part: int, whole: int) -> float | None:
    """A share in percent, None when there is nothing to share."""
    return 100.0 * part / whole if whole else None


def spread(hours: list[float]) -> tuple[int, float | None, float | None]:
    """How many, median and 90th percentile, as the README defines them: linear between
    the two closest ranks of the sorted values (percentile_cont, Excel PERCENTILE.INC)."""
    if not hours:
        return 0, None, None
    if len(hours) == 1:
        return 1, hours[0], hours[0]
    tenths = statistics.quantiles(hours, n=10, method="inclusive")
    return len(hours), statistics.median(hours), tenths[8]


def closed_by_third_working_day(exp: Expected) -> bool:
    """Closed on or before the organisation's date of the third working day after receipt."""
    assert exp.closed_at is not None
    return local_day(exp.closed_at) <= local_day(working_day(exp.received_at, 3))


def within_eight_weeks(exp: Expected) -> bool:
    """Closed within 8 weeks (56 x 24 h) of receipt."""
    assert exp.closed_at is not None
    return exp.closed_at - exp.received_at <= timedelta(weeks=8)
