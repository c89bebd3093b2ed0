"""Times as people read them: in the organisation's time zone, with the zone named.

Every time shown on a page, in an e-mail or in a letter is an instant stored in UTC and
shown in the business calendar's zone (services/calendar.py), followed by the city of
that zone as the reader's language names it: "2026-05-04 08:00 Riyadh". The city, not an
abbreviation such as "+03" or "AST", because a complainant recognises a city and Babel
names it in Arabic too. A zone without a city (UTC, Etc/GMT+3) shows its own name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_location
from hijridate import Gregorian
from sqlalchemy import select

from ..extensions import db
from ..models import BusinessCalendar
from . import calendar, lookups

STAMP = "yyyy-MM-dd HH:mm"  # pages: sortable and short, in a table as in a sentence


_DISPLAY = select(BusinessCalendar.time_zone, BusinessCalendar.show_hijri).where(
    BusinessCalendar.id == calendar.CALENDAR_ID)


def setting() -> tuple[str | None, bool]:
    """The saved zone name (None when no calendar is saved) and the Hijri switch, one query.

    Kept per settings stamp (services/lookups.py): every page and a sweep's e-mails ask.
    """
    return lookups.setting("localtime.display", _read_setting)


def _read_setting() -> tuple[str | None, bool]:
    row = db.session.execute(_DISPLAY).first()
    return (row[0], bool(row[1])) if row else (None, False)


def organisation_zone() -> ZoneInfo:
    """The business calendar's time zone (the seeded default when none is saved)."""
    return zone_named(setting()[0] or calendar.DEFAULT_ZONE)


def display() -> tuple[ZoneInfo, bool]:
    """The zone and whether Hijri dates are shown, in one query (a page needs both)."""
    name, hijri = setting()
    return zone_named(name or calendar.DEFAULT_ZONE), hijri


def shows_hijri() -> bool:
    """Whether the organisation shows the Hijri (Umm al-Qura) date beside the Gregorian one."""
    return setting()[1]


def hijri_date(day: date, locale: str = "en") -> str:
    """A day in the Umm al-Qura calendar: "17 Dhu al-Qa'dah 1447 AH", "17 ذو القعدة 1447 هـ".

    '' outside the years its tables cover (1343 to 1500 AH): no date is better than a wrong one.
    """
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except (OverflowError, ValueError):
        return ""
    language: Literal["ar", "en"] = "ar" if locale.startswith("ar") else "en"
    return f"{hijri.day} {hijri.month_name(language)} {hijri.year} {hijri.notation(language)}"


def _with_hijri(text: str, day: date, locale: str, hijri: bool) -> str:
    other = hijri_date(day, locale) if hijri else ""
    return f"{text} ({other})" if other else text


def zone_named(name: str) -> ZoneInfo:
    """The zone of an IANA name; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def zone_label(zone: str, locale: str = "en") -> str:
    """The city that names a zone in a language ("Riyadh", "الرياض"), else the zone's name."""
    if "/" not in zone or zone.startswith("Etc/"):
        return zone.rpartition("/")[2]
    try:
        return str(get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True))
    except (ValueError, LookupError):
        return zone.rpartition("/")[2].replace("_", " ")


def _aware(value: datetime) -> datetime:
    # Columns come back aware (UTCDateTime); a naive value from elsewhere is UTC by contract.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def stamp(value: datetime, zone: tzinfo, locale: str = "en", hijri: bool = False) -> str:
    """A timestamp as a short local date and time with the zone's city (and Hijri date)."""
    local = _aware(value).astimezone(zone)
    # STAMP by hand: Babel writes this all-numeric pattern with ASCII digits in every
    # language (checked), and a page shows dozens of times, at 14 us each through Babel.
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return _with_hijri(f"{text} {zone_label(str(zone), locale)}", local.date(), locale, hijri)


def long_text(value: datetime | date, zone: tzinfo, locale: str = "en",
              with_time: bool = True, hijri: bool = False) -> str:
    """A timestamp (or date) in words for letters and e-mails: "4 May 2026 08:00 Riyadh".

    With `hijri`, the Umm al-Qura date follows in brackets.
    """
    return _long_text(value, zone, locale, with_time, hijri)


# Pure formatting (no setting is read): a sweep's reminders show the same few times, and
# Babel takes tens of microseconds for each.
@lru_cache(maxsize=2048)
def _long_text(value: datetime | date, zone: tzinfo, locale: str, with_time: bool,
               hijri: bool) -> str:
    """long_text, remembered."""
    if not isinstance(value, datetime):
        return _with_hijri(_long_date(value, locale), value, locale, hijri)
    local = _aware(value).astimezone(zone)
    text = _long_date(local.date(), locale)
    if not with_time:
        return _with_hijri(text, local.date(), locale, hijri)
    try:
        clock = format_datetime(local, "HH:mm", locale=locale)
    except (ValueError, LookupError):
        clock = local.strftime("%H:%M")
    return _with_hijri(f"{text} {clock} {zone_label(str(zone), locale)}", local.date(), locale,
                       hijri)


def _long_date(day: date, locale: str) -> str:
    try:
        return str(format_date(day, "long", locale=locale))
    except (ValueError, LookupError):
        return day.isoformat()
