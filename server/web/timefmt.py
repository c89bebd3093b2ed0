"""Times in templates: the `localtime` filter and the case page's business-time figures.

Pages never print a datetime themselves: `{{ value|localtime }}` shows it in the
organisation's zone with the zone's city (services/localtime.py); macros.html's `when`
wraps it in a <time> element.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_babel import get_locale

from ..models import Case
from ..services import case_times, localtime


def _zone() -> ZoneInfo:
    """The organisation's zone, read once per request (a page shows many times)."""
    zone: ZoneInfo | None = g.get("plaint_zone")
    if zone is None:
        zone = g.plaint_zone = localtime.organisation_zone()
    return zone


def _hijri() -> bool:
    """Whether dates carry their Hijri date too, read once per request."""
    shown: bool | None = g.get("plaint_hijri")
    if shown is None:
        shown = g.plaint_hijri = localtime.shows_hijri()
    return shown


def _locale() -> str:
    return str(get_locale() or "en")


def show_time(value: Any) -> str:
    """A timestamp as local date, time and zone city; "—" for nothing."""
    if not isinstance(value, datetime):
        return "—" if not value else str(value)
    return localtime.stamp(value, _zone(), _locale(), _hijri())


def zone_city() -> str:
    """The organisation's zone as its city, for texts such as "hours are Riyadh time"."""
    return localtime.zone_label(str(_zone()), _locale())


def business_times(case: Case) -> case_times.CaseTimes:
    """The case's business-time figures (time to acknowledge, to resolve, paused)."""
    return case_times.figures(case)


def init_app(app: Flask) -> None:
    """Register the filter and the helpers every template may use."""
    app.jinja_env.filters["localtime"] = show_time
    app.jinja_env.globals["zone_city"] = zone_city
    app.jinja_env.globals["business_times"] = business_times
