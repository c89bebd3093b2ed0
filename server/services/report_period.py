"""The period a return, the conformance evidence or the review pack covers.

A period is a range of whole days in the organisation's time zone, first and last day
included, held as UTC instants [start, end). People give it as two dates (`from`, `to`);
with none given it is the last full calendar month.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import localtime

MAX_DAYS = 3 * 366  # a longer range is refused: no return covers more than a few years

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` (both included), and their UTC bounds."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return datetime.combine(self.first, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone).astimezone(UTC)

    def query_args(self) -> dict[str, str]:
        """The period as the query string gives it."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    def label(self) -> str:
        """The period as a file name part: 2026-03-01_2026-03-31."""
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    def months(self) -> Iterator[Period]:
        """The calendar months the period touches, each cut to the period."""
        first = self.first
        while first <= self.last:
            following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
            yield Period(first, min(self.last, following - timedelta(days=1)), self.zone)
            first = following

    def local_day(self, at: datetime) -> date:
        """The organisation's date of an instant."""
        return at.astimezone(self.zone).date()


@dataclass
class ParsedPeriod:
    """The period asked for, or the messages that say what to fix, with the input kept."""

    period: Period | None
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def last_full_month(today: date, zone: ZoneInfo) -> Period:
    """The calendar month before the one `today` is in."""
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last, zone)


def date_field(typed: dict[str, str], name: str,
               errors: dict[str, list[str]]) -> date | None:
    """A typed YYYY-MM-DD date, or None; a malformed one gets a message under its name."""
    value = typed[name]
    if not value:
        return None
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    errors[name] = [_("Give a date as YYYY-MM-DD, for example 2026-03-31.")]
    return None


def parse(args: Mapping[str, str], today: date | None = None) -> ParsedPeriod:
    """The period of a query string (`from`, `to`: YYYY-MM-DD), or what is wrong with it."""
    zone = localtime.organisation_zone()
    today = today or datetime.now(zone).date()
    typed = {name: (args.get(name) or "").strip()[:40] for name in ("from", "to")}
    if not typed["from"] and not typed["to"]:
        period = last_full_month(today, zone)
        return ParsedPeriod(period, period.query_args())
    errors: dict[str, list[str]] = {}
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if not typed[name]:
            errors[name] = [_("Give a date as YYYY-MM-DD.")]
            continue
        day = date_field(typed, name, errors)
        if day is not None:
            days[name] = day
    if not errors and days["to"] < days["from"]:
        errors["to"] = [_("The last day must not come before the first day.")]
    elif not errors and (days["to"] - days["from"]).days > MAX_DAYS:
        errors["to"] = [_("A period can cover at most %(days)d days.", days=MAX_DAYS)]
    if errors:
        return ParsedPeriod(None, typed, errors)
    return ParsedPeriod(Period(days["from"], days["to"], zone), typed)
