"""Dates, times, Decimals, UUIDs and time zones in diagram code, and in the saved data.

What diagram code may read of these values is listed here (sandbox_methods.py looks it
up). Before task data is saved, values SpiffWorkflow's serializer cannot store are
turned into text: a date or time of day into ISO 8601, a Decimal into its digits.
Datetimes, timedeltas and UUIDs are stored as they are.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import time as _time
import uuid as _uuid
from collections.abc import Callable, MutableMapping
from typing import Any

from .sandbox_modules import MAX_FORMAT, ValueTooLarge

Wrap = Callable[[Any, Callable[..., Any]], Callable[..., Any]]


def _strftime(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """strftime with the format capped."""
    def call(fmt: str) -> str:
        if isinstance(fmt, str) and len(fmt) > MAX_FORMAT:
            raise ValueTooLarge(f"strftime() takes at most {MAX_FORMAT:,} characters")
        return str(method(fmt))
    return call


def _no_context(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """A Decimal method without its context argument (diagram code uses 28 digits)."""
    def call(*args: Any, **kwargs: Any) -> Any:
        if "context" in kwargs:
            raise TypeError("Decimal methods in diagram code take no context")
        return method(*args, **kwargs)
    return call


_DATE = ("year", "month", "day", "weekday", "isoweekday", "isocalendar", "isoformat",
         "toordinal", "ctime", "timetuple", "replace")
_TIME = ("hour", "minute", "second", "microsecond", "tzinfo", "fold", "utcoffset",
         "tzname", "dst", "isoformat", "replace")
_DECIMAL = ("is_nan", "is_zero", "is_signed", "is_finite", "is_infinite", "adjusted",
            "copy_abs", "copy_negate", "real", "imag")
_DECIMAL_CONTEXT = ("quantize", "to_integral_value", "to_integral", "normalize", "sqrt",
                    "exp", "ln", "log10", "compare", "max", "min", "copy_sign")

VALUE_METHODS: dict[type, dict[str, Wrap | None]] = {
    _dt.date: {**dict.fromkeys(_DATE), "strftime": _strftime},
    _dt.time: {**dict.fromkeys(_TIME), "strftime": _strftime},
    _dt.datetime: {**dict.fromkeys(_DATE + _TIME), "date": None, "time": None,
                   "timetz": None, "timestamp": None, "astimezone": None,
                   "utctimetuple": None, "strftime": _strftime},
    _dt.timedelta: dict.fromkeys(("days", "seconds", "microseconds", "total_seconds")),
    _decimal.Decimal: {**dict.fromkeys(_DECIMAL), **dict.fromkeys(_DECIMAL_CONTEXT,
                                                                 _no_context)},
    _uuid.UUID: dict.fromkeys(("hex", "int", "urn", "version", "variant")),
    _time.struct_time: dict.fromkeys(("tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min",
                                      "tm_sec", "tm_wday", "tm_yday", "tm_isdst",
                                      "tm_zone", "tm_gmtoff")),
}
# Time zones (zoneinfo, pytz, datetime.timezone) by what they are, not their exact class:
# pytz makes one class per zone.
ZONE_METHODS: dict[str, Wrap | None] = dict.fromkeys(
    ("key", "zone", "utcoffset", "tzname", "dst", "localize", "normalize"))


def zone_attribute(value: Any, name: str) -> Any:
    """A listed attribute of a time zone, or an AttributeError."""
    if name in ZONE_METHODS and hasattr(value, name):
        return getattr(value, name)
    raise AttributeError(f"'{type(value).__name__}.{name}' is not available in diagram code")


_CONVERT: dict[type, Callable[[Any], Any]] = {
    _dt.date: lambda v: v.isoformat(),
    _dt.time: lambda v: v.isoformat(),
    _decimal.Decimal: lambda v: str(v),
}


def storable(value: Any) -> Any:
    """The value with dates, times of day and Decimals as text, the rest untouched."""
    convert = _CONVERT.get(type(value))
    if convert is not None:
        return convert(value)
    if type(value) is dict:
        for k, v in value.items():
            new = storable(v)
            if new is not v:
                value[k] = new
    elif type(value) is list:
        for i, v in enumerate(value):
            new = storable(v)
            if new is not v:
                value[i] = new
    elif type(value) is tuple and any(type(v) in _CONVERT or type(v) in (dict, list, tuple)
                                      for v in value):
        return tuple(storable(v) for v in value)
    return value


def make_storable(data: MutableMapping[str, Any]) -> None:
    """Turn the values of task data the serializer cannot store into text, in place."""
    for name, value in list(data.items()):
        new = storable(value)
        if new is not value:
            data[name] = new
