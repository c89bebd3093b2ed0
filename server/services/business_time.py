"""Business time: deadline arithmetic in a snapshot of the organisation's working calendar.

Working time is real elapsed time inside each day's opening hours, in the calendar's
time zone. A day's hours come from, in order of precedence: a custom holiday (closed), a
"working" date (open although a public holiday or the weekend would close it, with its
own hours or the weekday's), the public holidays of the `holidays` package (closed), the
working week; unless a working date gave its own hours, a worked day's hours are then
replaced by the narrowest reduced-hours entry (Ramadan, a half day) that covers it.

Reading the saved calendar and editing it is services/calendar.py; only the package's
holidays are cached in-process (and each day's hours within one snapshot).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_package
from flask_babel import gettext as _

from ..errors import PlaintError

UNITS = ("working_days", "working_hours", "calendar_days", "calendar_hours")
MAX_CLOSED_DAYS = 3660  # ten years without a working day: the calendar is broken

Hours = tuple[time, time]


@dataclass(frozen=True)
class Special:
    """A dated entry as the arithmetic uses it."""

    id: int
    kind: str
    first: date
    last: date
    opens: time | None
    closes: time | None
    name: str

    def covers(self, day: date) -> bool:
        """Whether the entry applies on this day."""
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Holiday:
    """A closed (or overridden) day of a year, with where it comes from."""

    day: date
    name: str
    source: str  # "package" (public holiday of holiday_country) or "custom"
    worked: bool = False  # a public holiday marked as a working day


@lru_cache(maxsize=512)
def package_holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    """The public holidays of a country (and subdivision) in a year; slow to build, so cached."""
    return dict(holiday_package.country_holidays(country, subdiv=subdivision, years=year))


class Calendar:
    """A snapshot of the calendar rows, with the arithmetic of business time."""

    def __init__(self, zone: str, week: Mapping[int, Hours], country: str | None,
                 subdivision: str | None, specials: Sequence[Special] = ()) -> None:
        self.zone = zone
        self.tz = ZoneInfo(zone)
        self.week = dict(week)
        self.country = country
        self.subdivision = subdivision
        self.specials = list(specials)
        self._closed = [s for s in specials if s.kind == "holiday"]
        self._open = [s for s in specials if s.kind == "working"]
        # Narrowest first; among equals, the one added last.
        self._hours = sorted((s for s in specials if s.kind == "hours"),
                             key=lambda s: (s.last - s.first, -s.id))
        # Each day's interval, worked out once: a sweep counts the same weeks for every case.
        self._intervals: dict[date, tuple[datetime, datetime] | None] = {}

    def public_holiday(self, day: date) -> str | None:
        """The package's holiday name on this day, if any."""
        if not self.country:
            return None
        return package_holidays(self.country, self.subdivision, day.year).get(day)

    def hours_on(self, day: date) -> Hours | None:
        """The opening hours of a day (local times), or None when it is not worked."""
        if any(s.covers(day) for s in self._closed):
            return None
        override = next((s for s in self._open if s.covers(day)), None)
        if override is not None and override.opens and override.closes:
            return override.opens, override.closes  # hours given for that very date
        if override is not None:
            hours = self.week.get(day.weekday())
        elif self.public_holiday(day) is not None:
            return None
        else:
            hours = self.week.get(day.weekday())
        if hours is None:
            return None
        reduced = next((s for s in self._hours if s.covers(day)), None)
        return (reduced.opens, reduced.closes) if reduced and reduced.opens and reduced.closes \
            else hours

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def interval(self, day: date) -> tuple[datetime, datetime] | None:
        """A day's working interval in UTC, or None when it is not worked."""
        try:
            return self._intervals[day]
        except KeyError:
            hours = self.hours_on(day)
            found = self._intervals[day] = \
                (self._at(day, hours[0]), self._at(day, hours[1])) if hours else None
            return found

    def local_day(self, at: datetime) -> date:
        """The calendar's date at an instant."""
        return aware(at).astimezone(self.tz).date()

    def _worked(self, first: date, step: int) -> Iterator[tuple[date, datetime, datetime]]:
        """Worked days from `first` on (step 1) or back (step -1), with their intervals."""
        day, closed = first, 0
        while True:
            interval = self.interval(day)
            if interval is None:
                closed += 1
                if closed > MAX_CLOSED_DAYS:
                    raise PlaintError(_("The business calendar has no working day in ten years: "
                                        "give the working week some hours."))
            else:
                closed = 0
                yield day, interval[0], interval[1]
            day += timedelta(days=step)

    def is_working_time(self, at: datetime) -> bool:
        """Whether an instant falls inside working hours (opening included, closing not)."""
        at = aware(at)
        interval = self.interval(self.local_day(at))
        return interval is not None and interval[0] <= at < interval[1]

    def next_opening(self, at: datetime) -> datetime:
        """The first working moment at or after an instant."""
        at = aware(at)
        for _day, opens, closes in self._worked(self.local_day(at), 1):
            if closes > at:
                return max(opens, at)
        raise AssertionError("unreachable")  # pragma: no cover

    def last_working(self, at: datetime) -> datetime:
        """The last moment at or before an instant that closes working time (a closing counts)."""
        at = aware(at)
        for _day, opens, closes in self._worked(self.local_day(at), -1):
            if opens < at:
                return min(closes, at)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant when `hours` of working time have passed since `start`."""
        remaining = timedelta(hours=_not_negative(hours))
        start = aware(start)
        for _day, opens, closes in self._worked(self.local_day(start), 1):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def subtract_working_hours(self, end: datetime, hours: float) -> datetime:
        """The instant `hours` of working time before `end`."""
        remaining = timedelta(hours=_not_negative(hours))
        end = aware(end)
        for _day, opens, closes in self._worked(self.local_day(end), -1):
            if opens >= end:
                continue
            finish = min(closes, end)
            if remaining <= finish - opens:
                return finish - remaining
            remaining -= finish - opens
        raise AssertionError("unreachable")  # pragma: no cover

    def _days_away(self, moment: datetime, days: int, step: int) -> datetime:
        local = moment.astimezone(self.tz)
        clock = local.time()
        worked = self._worked(local.date() + timedelta(days=step), step)
        for counted, (day, opens, closes) in enumerate(worked, start=1):
            if counted == days:
                return min(max(self._at(day, clock), opens), closes)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local clock time on the n-th following working day (see the module)."""
        begin = self.next_opening(aware(start))
        return begin if _not_negative(days) == 0 else self._days_away(begin, int(days), 1)

    def subtract_working_days(self, end: datetime, days: int) -> datetime:
        """The same local clock time on the n-th preceding working day, clamped into its hours."""
        finish = self.last_working(aware(end))
        return finish if _not_negative(days) == 0 else self._days_away(finish, int(days), -1)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Hours of working time between two instants (0 if end <= start)."""
        start, end = aware(start), aware(end)
        total = timedelta()
        if end <= start:
            return 0.0
        for day, opens, closes in self._worked(self.local_day(start), 1):
            if day > self.local_day(end):
                break
            overlap = min(closes, end) - max(opens, start)
            total += max(overlap, timedelta())
        return total.total_seconds() / 3600

    def add(self, start: datetime, amount: int, unit: str) -> datetime:
        """`start` plus an amount of a unit of business or calendar time."""
        start = aware(start)
        if unit == "working_days":
            return self.add_working_days(start, amount)
        if unit == "working_hours":
            return self.add_working_hours(start, amount)
        if unit == "calendar_days":
            local = start.astimezone(self.tz)
            # Same wall-clock time n days on, whatever the clocks did in between.
            return self._at(local.date() + timedelta(days=amount), local.time())
        if unit == "calendar_hours":
            return start + timedelta(hours=amount)
        raise PlaintError(_("Unknown unit %(unit)s: use one of %(units)s.", unit=repr(unit),
                            units=", ".join(UNITS)))

    def subtract(self, end: datetime, amount: int, unit: str) -> datetime:
        """`end` less an amount of a unit of business or calendar time."""
        end = aware(end)
        if unit == "working_days":
            return self.subtract_working_days(end, amount)
        if unit == "working_hours":
            return self.subtract_working_hours(end, amount)
        if unit == "calendar_days":
            local = end.astimezone(self.tz)
            return self._at(local.date() - timedelta(days=amount), local.time())
        if unit == "calendar_hours":
            return end - timedelta(hours=amount)
        raise PlaintError(_("Unknown unit %(unit)s: use one of %(units)s.", unit=repr(unit),
                            units=", ".join(UNITS)))

    def holidays_of(self, year: int) -> list[Holiday]:
        """The public and custom holidays of a year, with their source, by date."""
        found: dict[date, Holiday] = {}
        if self.country:
            for day, name in package_holidays(self.country, self.subdivision, year).items():
                worked = any(s.covers(day) for s in self._open)
                found[day] = Holiday(day, name, "package", worked)
        for entry in self._closed:
            day = max(entry.first, date(year, 1, 1))
            while day <= min(entry.last, date(year, 12, 31)):
                found[day] = Holiday(day, entry.name, "custom")
                day += timedelta(days=1)
        return [found[day] for day in sorted(found)]


def aware(at: datetime) -> datetime:
    """The instant in UTC, where adding a timedelta adds elapsed time (not wall-clock time)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return at.astimezone(UTC)


def _not_negative(amount: float) -> float:
    if amount < 0:
        raise ValueError("business time adds only non-negative amounts")
    return amount
