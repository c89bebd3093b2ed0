"""The organisation's working calendar: reading it for deadlines, and editing it.

The arithmetic is business_time.py: `load` gives it a snapshot of the rows. The snapshot is
kept per process under the settings stamp (services/lookups.py), read once per run, so a
change saved in one process applies to the next deadline computed in any other.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, NoReturn
from zoneinfo import available_timezones

import holidays as holiday_package
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, delete, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import BusinessCalendar, CalendarDate, WorkingHours, utcnow
from . import lookups, system_log
from .actors import Actor
from .business_time import Calendar, Hours, Special

CALENDAR_ID = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
DEFAULT_ZONE = "Asia/Riyadh"
DEFAULT_COUNTRY = "SA"
DEFAULT_WEEK = {day: (time(8), time(16)) for day in (6, 0, 1, 2, 3)}  # Sunday to Thursday
DATE_KINDS = ("holiday", "working", "hours")
MAX_SPAN_DAYS = 366
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def supported_countries() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Country code -> (English name, subdivision codes) for every country the package knows."""
    names = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0])
             for entry in holiday_package.registry.COUNTRIES.values()}
    return {code: (names.get(code, code), tuple(subdivisions))
            for code, subdivisions in holiday_package.list_supported_countries().items()}


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows."""
    return frozenset(available_timezones())


@cache
def _read_settings() -> Select[*tuple[Any, ...]]:
    """The calendar row with its weekly hours, built once: it runs on every deadline."""
    return (select(BusinessCalendar.time_zone, BusinessCalendar.holiday_country,
                   BusinessCalendar.holiday_subdivision, WorkingHours.weekday,
                   WorkingHours.opens, WorkingHours.closes)
            .outerjoin(WorkingHours, WorkingHours.calendar_id == BusinessCalendar.id)
            .where(BusinessCalendar.id == CALENDAR_ID))


@cache
def _read_dates() -> Select[*tuple[Any, ...]]:
    """Every dated entry, built once."""
    return select(CalendarDate.id, CalendarDate.kind, CalendarDate.first_day,
                  CalendarDate.last_day, CalendarDate.opens, CalendarDate.closes,
                  CalendarDate.name)


@dataclass(frozen=True)
class WhatIf:
    """A preview's changed calendar: extra days off, and other hours on every working day."""

    closed: tuple[date, ...] = ()
    hours: Hours | None = None

    def applied(self, cal: Calendar) -> Calendar:
        """`cal` as if it had these days off and these hours (a copy; rows untouched)."""
        week = {day: self.hours for day in cal.week} if self.hours else cal.week
        extra = [Special(-n, "holiday", day, day, None, None, "what-if")
                 for n, day in enumerate(self.closed, start=1)]
        return Calendar(cal.zone, week, cal.country, cal.subdivision, cal.specials + extra)


# A preview's what-if calendar (services/processes/replay.py), bound in the preview's own
# context only and never saved; with the calendars it changed, each changed once.
_WHAT_IF: ContextVar[tuple[WhatIf, dict[int, tuple[Calendar, Calendar]]] | None] = \
    ContextVar("calendar_what_if", default=None)


@contextmanager
def what_if(change: WhatIf | None) -> Iterator[None]:
    """Within the block (this context only), count business time on the changed calendar."""
    token = _WHAT_IF.set((change, {}) if change else None)
    try:
        yield
    finally:
        _WHAT_IF.reset(token)


def load() -> Calendar:
    """The calendar as now saved, every dated entry with it."""
    # Every dated entry, kept per settings stamp: the same arithmetic for any case, and a
    # change saved in any process renews the stamp (services/lookups.py).
    found = lookups.setting("calendar", _load)
    changing = _WHAT_IF.get()
    if changing is None:
        return found
    change, done = changing
    if id(found) not in done:  # keyed by the saved snapshot, kept alive beside it
        done[id(found)] = (found, change.applied(found))
    return done[id(found)][1]


def _load() -> Calendar:
    """Read the calendar from the database."""
    # Core execution on the session's connection (and transaction): the ORM layer would
    # cost more than the queries on this path.
    connection = db.session.connection()
    rows = connection.execute(_read_settings()).all()
    specials = [Special(*row) for row in connection.execute(_read_dates())]
    if not rows:  # never set up (or removed by hand): the seeded default
        return Calendar(DEFAULT_ZONE, DEFAULT_WEEK, DEFAULT_COUNTRY, None, specials)
    week = {r.weekday: (r.opens, r.closes) for r in rows if r.weekday is not None}
    return Calendar(rows[0].time_zone, week, rows[0].holiday_country,
                    rows[0].holiday_subdivision, specials)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local clock time on the n-th following working day, in UTC.

    If `start` is outside working hours, counting starts from the next opening (so a
    complaint received on Thursday evening counts from Sunday 08:00). The clock time is
    then clamped into the hours of the day reached: 14:30 on a half day that closes at
    12:00 gives 12:00. With days=0 the result is that next opening (or `start` itself).
    """
    return load().add_working_days(start, days)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant, in UTC, when `hours` of working time have passed since `start`."""
    return load().add_working_hours(start, hours)


def working_hours_between(start: datetime, end: datetime) -> float:
    """Hours of working time between two instants (0 if end <= start)."""
    return load().working_hours_between(start, end)


def is_working_time(at: datetime) -> bool:
    """Whether an instant falls inside working hours (opening included, closing not)."""
    return load().is_working_time(at)


# Administration: the form values as typed, checked, saved with a system event.

def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def parse_time(text: str | None) -> time | None:
    """A 24-hour HH:MM time, or None when it is not one."""
    match = _TIME.match((text or "").strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_date(text: str | None) -> date | None:
    """A YYYY-MM-DD date between 2000 and 2100, or None when it is not one."""
    text = (text or "").strip()
    if not _DATE.match(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _shows_hijri() -> bool:
    return bool(db.session.scalar(select(BusinessCalendar.show_hijri).where(
        BusinessCalendar.id == CALENDAR_ID)))


def settings_form() -> dict[str, Any]:
    """The calendar's settings as the form shows them."""
    cal = load()
    form: dict[str, Any] = {"time_zone": cal.zone, "holiday_country": cal.country or "",
                            "holiday_subdivision": cal.subdivision or "",
                            "show_hijri": _shows_hijri()}
    for index, name in enumerate(WEEKDAYS):
        hours = cal.week.get(index)
        form[f"{name}_works"] = hours is not None
        form[f"{name}_opens"] = hours[0].strftime("%H:%M") if hours else ""
        form[f"{name}_closes"] = hours[1].strftime("%H:%M") if hours else ""
    return form


def _hours_errors(opens_text: str, closes_text: str, opens_field: str, closes_field: str,
                  errors: dict[str, list[str]]) -> Hours | None:
    opens, closes = parse_time(opens_text), parse_time(closes_text)
    if opens is None:
        errors[opens_field] = [_("Enter a time like 08:00 (24-hour clock).")]
    if closes is None:
        errors[closes_field] = [_("Enter a time like 16:00 (24-hour clock).")]
    elif opens is not None and closes <= opens:
        errors[closes_field] = [_("The closing time must be after the opening time.")]
    return (opens, closes) if opens and closes and closes > opens else None


def _described(cal: Calendar) -> dict[str, Any]:
    return {"time_zone": cal.zone, "holiday_country": cal.country,
            "holiday_subdivision": cal.subdivision,
            "week": {WEEKDAYS[d]: f"{h[0]:%H:%M}-{h[1]:%H:%M}"
                     for d, h in sorted(cal.week.items())}}


def save_settings(values: Mapping[str, Any], by: Actor) -> None:
    """Check and save the time zone, public holidays and working week."""
    errors: dict[str, list[str]] = {}
    zone = str(values.get("time_zone") or "").strip()
    if zone not in time_zones():
        errors["time_zone"] = [_("Enter a time zone from the list, such as Asia/Riyadh or "
                                 "Asia/Dubai.")]
    country = str(values.get("holiday_country") or "").strip().upper() or None
    subdivision = str(values.get("holiday_subdivision") or "").strip() or None
    known = supported_countries()
    if country is not None and country not in known:
        errors["holiday_country"] = [_("The holidays package does not know the country code "
                                       "%(code)s: use a code like SA or AE, or leave it empty "
                                       "for no public holidays.", code=country[:8])]
    elif subdivision is not None:
        choices = {code.upper(): code for code in known[country][1]} if country else {}
        if subdivision.upper() not in choices:
            errors["holiday_subdivision"] = [
                _("Use one of %(codes)s, or leave it empty.",
                  codes=", ".join(sorted(choices.values())))
                if choices else _("This country has no subdivisions: leave it empty.")]
        else:
            subdivision = choices[subdivision.upper()]
    week: dict[int, Hours] = {}
    for index, name in enumerate(WEEKDAYS):
        if values.get(f"{name}_works"):
            hours = _hours_errors(str(values.get(f"{name}_opens") or ""),
                                  str(values.get(f"{name}_closes") or ""),
                                  f"{name}_opens", f"{name}_closes", errors)
            if hours:
                week[index] = hours
    if not any(values.get(f"{name}_works") for name in WEEKDAYS):
        errors["week"] = [_("Choose at least one working weekday.")]
    if errors:
        _refuse(errors)
    begin_write()
    before = _described(_load())  # the rows as locked, never a run's snapshot
    row = db.session.get(BusinessCalendar, CALENDAR_ID)
    if row is None:
        row = BusinessCalendar(id=CALENDAR_ID)
        db.session.add(row)
    row.time_zone, row.holiday_country, row.holiday_subdivision = zone, country, subdivision
    hijri_before, row.show_hijri = bool(row.show_hijri), bool(values.get("show_hijri"))
    row.updated_at, row.updated_by = utcnow(), by.name
    db.session.flush()
    db.session.execute(delete(WorkingHours).where(WorkingHours.calendar_id == CALENDAR_ID))
    db.session.add_all(WorkingHours(calendar_id=CALENDAR_ID, weekday=d, opens=h[0], closes=h[1])
                       for d, h in week.items())
    after = _described(Calendar(zone, week, country, subdivision))
    before["show_hijri"], after["show_hijri"] = hijri_before, row.show_hijri
    if after != before:
        system_log.record(by, "calendar.settings", "Calendar settings changed",
                          {"before": before, "after": after})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    log.info("%s changed the business calendar: %s", by.name, after)


def list_dates() -> list[CalendarDate]:
    """Every dated entry (custom holidays, working dates, reduced hours), by first day."""
    return list(db.session.scalars(
        select(CalendarDate).order_by(CalendarDate.first_day, CalendarDate.id)))


def _entry(row: CalendarDate) -> dict[str, Any]:
    return {"kind": row.kind, "first_day": str(row.first_day), "last_day": str(row.last_day),
            "opens": f"{row.opens:%H:%M}" if row.opens else None,
            "closes": f"{row.closes:%H:%M}" if row.closes else None, "name": row.name}


def add_date(kind: str, values: Mapping[str, Any], by: Actor) -> CalendarDate:
    """Check and add a custom holiday, a working date, or reduced hours for some dates."""
    if kind not in DATE_KINDS:
        raise InvalidInput(_("Unknown kind of date %(kind)s: use one of %(kinds)s.",
                             kind=repr(kind[:20]), kinds=", ".join(DATE_KINDS)))
    errors: dict[str, list[str]] = {}
    first = parse_date(values.get("first_day"))
    last_text = str(values.get("last_day") or "").strip()
    last = parse_date(last_text) if last_text else first
    if first is None:
        errors["first_day"] = [_("Enter a date like 2026-03-19.")]
    if last is None and last_text:
        errors["last_day"] = [_("Enter a date like 2026-03-21, or leave it empty for one day.")]
    elif first and last and last < first:
        errors["last_day"] = [_("The last day must be on or after the first day.")]
    elif first and last and (last - first).days >= MAX_SPAN_DAYS:
        errors["last_day"] = [_("An entry covers at most %(days)s days.", days=MAX_SPAN_DAYS)]
    name = " ".join(str(values.get("name") or "").split())
    if len(name) > 200:
        errors["name"] = [_("Use at most 200 characters.")]
    elif kind == "holiday" and not name:
        errors["name"] = [_("Name the holiday, e.g. Eid al-Fitr.")]
    hours: Hours | None = None
    opens_text, closes_text = str(values.get("opens") or ""), str(values.get("closes") or "")
    if kind == "hours" or (kind == "working" and (opens_text.strip() or closes_text.strip())):
        hours = _hours_errors(opens_text, closes_text, "opens", "closes", errors)
    begin_write()
    cal = _load()  # the rows as locked, never a run's snapshot
    if first and last and "last_day" not in errors:
        _check_overlaps(cal, kind, first, last, hours, errors)
    if errors:
        _refuse(errors)
    assert first is not None and last is not None
    row = CalendarDate(kind=kind, first_day=first, last_day=last, name=name,
                       opens=hours[0] if hours else None, closes=hours[1] if hours else None,
                       created_by=by.name, created_at=utcnow())
    db.session.add(row)
    system_log.record(by, f"calendar.{kind}", f"Calendar: added {kind} {first}"
                      f"{'' if last == first else f' to {last}'} {name}".strip(),
                      {"before": None, "after": _entry(row)})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    return row


def _check_overlaps(cal: Calendar, kind: str, first: date, last: date, hours: Hours | None,
                    errors: dict[str, list[str]]) -> None:
    overlapping = [s for s in cal.specials if s.first <= last and first <= s.last]
    if any(s.kind == kind and (s.first, s.last) == (first, last) for s in overlapping):
        errors["first_day"] = [_("There is already an entry of this kind for these dates.")]
    clash = {"holiday": "working", "working": "holiday"}.get(kind)
    if clash and (other := next((s for s in overlapping if s.kind == clash), None)):
        what = _("a working date") if clash == "working" else _("a custom holiday")
        errors["first_day"] = [_("%(day)s is also %(what)s (%(name)s): remove that entry first.",
                                 day=other.first, what=what,
                                 name=other.name or _("no name"))]
    if kind == "working" and hours is None and "opens" not in errors:
        day = first
        while day <= last:
            if day.weekday() not in cal.week:
                errors["opens"] = [_("%(day)s is a %(weekday)s, which is not a working "
                                     "weekday: give the hours for it.", day=day,
                                     weekday=format_date(day, "EEEE"))]
                break
            day += timedelta(days=1)


def remove_date(entry_id: int, by: Actor) -> None:
    """Remove a dated entry."""
    begin_write()
    row = db.session.get(CalendarDate, entry_id)
    if row is None:
        raise NotFound(_("That calendar entry no longer exists."))
    system_log.record(by, f"calendar.{row.kind}", f"Calendar: removed {row.kind} "
                      f"{row.first_day} {row.name}".strip(), {"before": _entry(row), "after": None})
    db.session.delete(row)
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
