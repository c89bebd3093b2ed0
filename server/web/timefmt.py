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

_DISPLAY = "plaint_display"


def page_zone() -> ZoneInfo:
    """The organisation's zone, read once per request (a page shows many times)."""
    return _display()[0]


def _hijri() -> bool:
    """Whether dates carry their Hijri date too, read once per request."""
    return _display()[1]


def _display() -> tuple[ZoneInfo, bool]:
    shown: tuple[ZoneInfo, bool] | None = g.get(_DISPLAY)
    if shown is None:
        shown = g.plaint_display = localtime.display()
    return shown


def _forget(error: BaseException | None) -> None:
    # g outlives the request when a test holds the app context: the next request reads anew.
    g.pop(_DISPLAY, None)


def _locale() -> str:
    return str(get_locale() or "en")


def show_time(value: Any) -> str:
    """A timestamp as local date, time and zone city; "—" for nothing."""
    if not isinstance(value, datetime):
        return "—" if not value else str(value)
    return localtime.stamp(value, page_zone(), _locale(), _hijri())


def zone_city() -> str:
    """The organisation's zone as its city, for texts such as "hours are Riyadh time"."""
    return localtime.zone_label(str(page_zone()), _locale())


def business_times(case: Case) -> case_times.CaseTimes:
    """The case's business-time figures (time to acknowledge, to resolve, paused)."""
    return case_times.figures(case)


def init_app(app: Flask) -> None:
    """Register the filter and the helpers every template may use."""
    app.jinja_env.filters["localtime"] = show_time
    app.jinja_env.globals["zone_city"] = zone_city
    app.jinja_env.globals["business_times"] = business_times
    app.teardown_request(_forget)
