"""SpiffArena's script globals (datetime, json, decimal...) as small, listed façades.

SpiffArena hands scripts whole modules. Here each name is a `Facade`: a fixed list of
functions and constants, each either bounded by its arguments or wrapped so that the
sandbox's limits still hold (format strings and texts are capped, sizes are checked
before anything is built, ``time.sleep`` counts against the time limit, random numbers
come from the system and cannot be seeded). Values they return (datetimes, Decimals,
UUIDs, time zones) have their own attribute lists in sandbox_values.py.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
import decimal as _decimal
import json as _json
import random as _random
import time as _time
import uuid as _uuid
import zoneinfo as _zoneinfo
from collections.abc import Callable
from typing import Any

from .sandbox_builtins import TypeCall, _repr, _str, need, need_bits
from .sandbox_limits import MAX_ITEMS, ValueTooLarge, tick, weigh

try:  # SpiffArena exposes pytz; it is here only when installed
    import pytz as _pytz
except ImportError:  # pragma: no cover - pytz is a dependency of our own deps
    _pytz = None

MAX_FORMAT = 1000  # characters of a strftime/strptime format or a parsed date text
MAX_WIDTH = 40  # column width and line count the calendar text functions take
_SLEEP_STEP = 0.05


class Facade(TypeCall):
    """A module or class as diagram code sees it: listed names only."""

    __slots__ = ("label", "names")

    def __init__(self, label: str, names: dict[str, Any], kind: type | None = None,
                 call: Callable[..., Any] | None = None) -> None:
        super().__init__(kind if kind is not None else type(None), call or self._not_callable)
        self.label, self.names = label, names

    def _not_callable(self, *args: Any, **kwargs: Any) -> Any:
        """A module is not called."""
        raise TypeError(f"'{self.label}' is a module, not a function")

    def __repr__(self) -> str:
        """Look like what it stands for."""
        return f"<{self.label}>"


def _refused(name: str, why: str) -> Callable[..., Any]:
    """A listed name that explains why it cannot be used."""
    def call(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{name} is not available in diagram code: {why}")
    return call


def _text(value: Any, what: str, limit: int = MAX_FORMAT) -> Any:
    """A format or text argument, refused above `limit` characters."""
    if isinstance(value, str | bytes) and len(value) > limit:
        raise ValueTooLarge(f"{what} takes at most {limit:,} characters")
    return value


# --- datetime ------------------------------------------------------------------------

def _strptime(text: str, fmt: str) -> _dt.datetime:
    """datetime.strptime with the text and format capped."""
    return _dt.datetime.strptime(_text(text, "strptime()"), _text(fmt, "strptime()"))


def _fromisoformat(kind: Any) -> Callable[[str], Any]:
    """fromisoformat with the text capped."""
    def call(text: str) -> Any:
        return kind.fromisoformat(_text(text, "fromisoformat()", 100))
    return call


TIMEDELTA = Facade("class 'timedelta'", {
    "min": _dt.timedelta.min, "max": _dt.timedelta.max,
    "resolution": _dt.timedelta.resolution}, _dt.timedelta, _dt.timedelta)
TIMEZONE = Facade("class 'timezone'", {"utc": _dt.UTC}, _dt.timezone, _dt.timezone)
DATE = Facade("class 'date'", {
    "today": _dt.date.today, "fromisoformat": _fromisoformat(_dt.date),
    "fromordinal": _dt.date.fromordinal, "fromtimestamp": _dt.date.fromtimestamp,
    "fromisocalendar": _dt.date.fromisocalendar, "min": _dt.date.min, "max": _dt.date.max},
    _dt.date, _dt.date)
TIME_OF_DAY = Facade("class 'time'", {
    "fromisoformat": _fromisoformat(_dt.time), "min": _dt.time.min, "max": _dt.time.max},
    _dt.time, _dt.time)
DATETIME = Facade("class 'datetime'", {
    "now": _dt.datetime.now, "utcnow": _dt.datetime.utcnow, "today": _dt.datetime.today,
    "fromisoformat": _fromisoformat(_dt.datetime), "strptime": _strptime,
    "fromtimestamp": _dt.datetime.fromtimestamp,
    "utcfromtimestamp": _dt.datetime.utcfromtimestamp, "combine": _dt.datetime.combine,
    "fromordinal": _dt.datetime.fromordinal, "min": _dt.datetime.min,
    "max": _dt.datetime.max, "resolution": _dt.datetime.resolution,
    # SpiffArena's `datetime` is the class; models written for the module work too.
    "date": DATE, "time": TIME_OF_DAY, "timedelta": TIMEDELTA, "timezone": TIMEZONE,
    "UTC": _dt.UTC, "MINYEAR": _dt.MINYEAR, "MAXYEAR": _dt.MAXYEAR},
    _dt.datetime, _dt.datetime)
DATETIME.names["datetime"] = DATETIME


# --- time ----------------------------------------------------------------------------

def _sleep(seconds: float) -> None:
    """time.sleep in short steps, each a checkpoint of the script's time limit."""
    end = _time.monotonic() + max(float(seconds), 0.0)
    while (left := end - _time.monotonic()) > 0:
        tick()
        _time.sleep(min(left, _SLEEP_STEP))
    tick()


def _time_strftime(fmt: str, *args: Any) -> str:
    """time.strftime with the format capped."""
    return _time.strftime(_text(fmt, "strftime()"), *args)


def _time_strptime(text: str, fmt: str = "%a %b %d %H:%M:%S %Y") -> Any:
    """time.strptime with the text and format capped."""
    return _time.strptime(_text(text, "strptime()"), _text(fmt, "strptime()"))


TIME = Facade("module 'time'", {
    "time": _time.time, "time_ns": _time.time_ns, "monotonic": _time.monotonic,
    "perf_counter": _time.perf_counter, "sleep": _sleep, "gmtime": _time.gmtime,
    "localtime": _time.localtime, "mktime": _time.mktime, "asctime": _time.asctime,
    "ctime": _time.ctime, "strftime": _time_strftime, "strptime": _time_strptime,
    "timezone": _time.timezone, "altzone": _time.altzone, "daylight": _time.daylight,
    "tzname": tuple(_time.tzname)})


# --- json ----------------------------------------------------------------------------

_DUMPS_OPTIONS = frozenset({"indent", "sort_keys", "ensure_ascii", "separators", "default",
                            "skipkeys", "allow_nan"})


def _dumps(obj: Any, **options: Any) -> str:
    """json.dumps, the value weighed first (more room is needed when it is indented)."""
    unknown = set(options) - _DUMPS_OPTIONS
    if unknown:
        raise TypeError(f"json.dumps() in diagram code takes {', '.join(sorted(_DUMPS_OPTIONS))}"
                        f", not {', '.join(sorted(unknown))}")
    default = options.get("default")
    if default is not None:
        if default not in (_str, _repr, str, repr) and \
                not (isinstance(default, TypeCall) and default.type is str):
            raise TypeError("json.dumps(default=...) takes str in diagram code")
        options["default"] = str
    indent = options.get("indent")
    width = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if width > 16:
        raise ValueTooLarge("json.dumps() indents by at most 16 characters")
    for part in options.get("separators") or ():
        _text(part, "json.dumps() separators", 16)
    weigh("json.dumps()", obj, limit=MAX_ITEMS // (1 + 4 * width))
    return _json.dumps(obj, **options)


def _loads(text: str | bytes) -> Any:
    """json.loads of at most MAX_ITEMS characters, with no hooks."""
    if isinstance(text, str | bytes):
        need(len(text), "json.loads()")
    return _json.loads(text)


JSON = Facade("module 'json'", {"dumps": _dumps, "loads": _loads,
                                "JSONDecodeError": _json.JSONDecodeError})


# --- decimal ---------------------------------------------------------------------------

CONTEXT = _decimal.Context(prec=28, Emax=999_999, Emin=-999_999, traps=[
    _decimal.InvalidOperation, _decimal.DivisionByZero, _decimal.Overflow])

DECIMAL = Facade("module 'decimal'", {
    "Decimal": Facade("class 'Decimal'", {}, _decimal.Decimal, _decimal.Decimal),
    "InvalidOperation": _decimal.InvalidOperation,
    "DivisionByZero": _decimal.DivisionByZero, "Overflow": _decimal.Overflow,
    "DecimalException": _decimal.DecimalException,
    **{name: getattr(_decimal, name) for name in dir(_decimal) if name.startswith("ROUND_")},
    "getcontext": _refused("decimal.getcontext", "diagram code computes with 28 digits"),
    "setcontext": _refused("decimal.setcontext", "diagram code computes with 28 digits"),
    "localcontext": _refused("decimal.localcontext", "diagram code computes with 28 digits"),
})


# --- uuid, random, calendar, time zones ------------------------------------------------

UUID = Facade("module 'uuid'", {
    "uuid4": _uuid.uuid4, "uuid3": _uuid.uuid3, "uuid5": _uuid.uuid5,
    "UUID": Facade("class 'UUID'", {}, _uuid.UUID, _uuid.UUID),
    "NAMESPACE_DNS": _uuid.NAMESPACE_DNS, "NAMESPACE_URL": _uuid.NAMESPACE_URL,
    "NAMESPACE_OID": _uuid.NAMESPACE_OID, "NAMESPACE_X500": _uuid.NAMESPACE_X500,
    "uuid1": _refused("uuid.uuid1", "it reveals the server's network address; use uuid4()"),
})

_RNG = _random.SystemRandom()


def _choices(population: Any, weights: Any = None, *, cum_weights: Any = None,
             k: int = 1) -> list[Any]:
    """random.choices of at most MAX_ITEMS picks."""
    need(k, "random.choices()")
    return _RNG.choices(population, weights, cum_weights=cum_weights, k=k)


def _sample(population: Any, k: int, *, counts: Any = None) -> list[Any]:
    """random.sample of a sequence, at most MAX_ITEMS picks."""
    need(k, "random.sample()")
    if counts is not None:
        need(sum(counts), "random.sample()")
    return _RNG.sample(population, k, counts=counts)


def _getrandbits(k: int) -> int:
    """random.getrandbits, size-checked."""
    need_bits(k, "random.getrandbits()")
    return _RNG.getrandbits(k)


def _randbytes(n: int) -> bytes:
    """random.randbytes, size-checked."""
    need(n, "random.randbytes()")
    return _RNG.randbytes(n)


_NO_SEED = "random numbers in diagram code come from the system and cannot be replayed"
RANDOM = Facade("module 'random'", {
    **{name: getattr(_RNG, name) for name in (
        "random", "uniform", "randint", "randrange", "choice", "shuffle", "gauss",
        "normalvariate", "triangular", "betavariate", "expovariate", "lognormvariate",
        "vonmisesvariate", "gammavariate", "paretovariate", "weibullvariate")},
    "choices": _choices, "sample": _sample, "getrandbits": _getrandbits,
    "randbytes": _randbytes, "seed": _refused("random.seed", _NO_SEED),
    "getstate": _refused("random.getstate", _NO_SEED),
    "setstate": _refused("random.setstate", _NO_SEED)})


def _width(fn: Callable[..., str], *caps: str) -> Callable[..., str]:
    """A calendar text function whose width and spacing arguments are capped."""
    def call(*args: Any, **kwargs: Any) -> str:
        for name in caps:
            value = kwargs.get(name)
            if isinstance(value, int) and value > MAX_WIDTH:
                raise ValueTooLarge(f"calendar.{fn.__name__}({name}=...) is at most {MAX_WIDTH}")
        for value in args[1 if fn.__name__ == "weekheader" else 2:]:
            if isinstance(value, int) and value > MAX_WIDTH:
                raise ValueTooLarge(f"calendar.{fn.__name__}() widths are at most {MAX_WIDTH}")
        return fn(*args, **kwargs)
    call.__name__ = fn.__name__
    return call


_TEXT = _calendar.TextCalendar()
CALENDAR = Facade("module 'calendar'", {
    "isleap": _calendar.isleap, "leapdays": _calendar.leapdays,
    "monthrange": _calendar.monthrange, "weekday": _calendar.weekday,
    "monthcalendar": _calendar.monthcalendar, "timegm": _calendar.timegm,
    "month": _width(_TEXT.formatmonth, "w", "l"),
    "calendar": _width(_TEXT.formatyear, "w", "l", "c", "m"),
    "weekheader": _width(_calendar.weekheader), "firstweekday": _calendar.firstweekday,
    "day_name": tuple(_calendar.day_name), "day_abbr": tuple(_calendar.day_abbr),
    "month_name": tuple(_calendar.month_name), "month_abbr": tuple(_calendar.month_abbr),
    **{day: getattr(_calendar, day) for day in (
        "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")},
    "setfirstweekday": _refused("calendar.setfirstweekday",
                                "it would change the calendar for every case"),
})


def _zone(key: str) -> _zoneinfo.ZoneInfo:
    """A time zone by its IANA name."""
    return _zoneinfo.ZoneInfo(_text(key, "ZoneInfo()", 64))


ZONEINFO = Facade("module 'zoneinfo'", {
    "ZoneInfo": Facade("class 'ZoneInfo'", {}, _zoneinfo.ZoneInfo, _zone),
    "available_timezones": lambda: sorted(_zoneinfo.available_timezones()),
    "ZoneInfoNotFoundError": _zoneinfo.ZoneInfoNotFoundError})

MODULES: dict[str, Facade] = {
    "datetime": DATETIME, "timedelta": TIMEDELTA, "time": TIME, "json": JSON,
    "decimal": DECIMAL, "uuid": UUID, "random": RANDOM, "calendar": CALENDAR,
    "zoneinfo": ZONEINFO}

if _pytz is not None:
    _pytz_module = _pytz

    def _pytz_zone(key: str) -> Any:
        """A pytz time zone by its IANA name."""
        return _pytz_module.timezone(_text(key, "pytz.timezone()", 64))

    MODULES["pytz"] = Facade("module 'pytz'", {
        "timezone": _pytz_zone, "utc": _pytz.utc, "UTC": _pytz.UTC,
        "all_timezones": tuple(_pytz.all_timezones),
        "common_timezones": tuple(_pytz.common_timezones),
        "UnknownTimeZoneError": _pytz.UnknownTimeZoneError})
