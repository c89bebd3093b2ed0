"""What a report is asked about: the period, the filters and a figure's condition.

Read from GET parameters; a value that cannot be used gets a message naming what to fix.
The same `Filters` select the rows of the dashboard, of each export and of a drill-down,
so a figure and the list of cases behind it can never disagree.

Two scopes: "received" (the default) counts the cases received in the period; "open"
counts the cases open now, whatever their receipt date (the backlog, the workload).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select

from ...extensions import db
from ...models import Case, CaseReport, Role, User
from ...models.report import OUTCOMES, TARGET_KINDS
from ...models.user import user_roles
from .. import calendar, choice_titles, policy, visibility
from ..actors import Actor
from ..cases import CHANNELS
from ..search import date_field

PRESETS = ("last_30_days", "last_90_days", "this_month", "last_month", "this_quarter",
           "year_to_date", "last_12_months")
DEFAULT_PRESET = "last_90_days"
GROUPINGS = ("week", "month")
SCOPES = ("received", "open")
SLA_STATES = ("breached", "on_track")
# Age bands of the open backlog, in calendar days since receipt: (key, from, until).
AGE_BANDS = (("0-2", 0, 3), ("3-7", 3, 8), ("8-14", 8, 15), ("15-30", 15, 31),
             ("31-60", 31, 61), ("61+", 61, None))
MAX_DAYS = 3 * 366 + 1  # a longer period is a question for an export of the cases
MAX_BUCKETS = 60
MAX_VALUE = 64
NOBODY = "-"  # the owner condition of cases nobody owns
# The condition "no value recorded" of a coded field (a "Not recorded" row's cases);
# no code can be it, as codes start with a letter or digit.
NOT_RECORDED = "-"
_CODE = re.compile(r"[\w.-]{1,64}")
_TARGET = re.compile(r"(" + "|".join(TARGET_KINDS) + r")\.(met|missed)")
TIMED = ("acknowledgement", "resolution")
UPHELD = ("upheld", "partly_upheld")  # partly upheld counts as upheld (as the FCA's return)


@dataclass(frozen=True)
class Filters:
    """The question: a period (dates in the organisation's zone, inclusive) and conditions."""

    start: date
    end: date
    preset: str = ""
    by: str = "month"
    category: str = ""
    product: str = ""
    channel: str = ""
    priority: str = ""
    # A figure's condition (drill-downs); each empty value means "any".
    scope: str = "received"
    outcome: str = ""
    cause: str = ""
    currency: str = ""
    target: str = ""  # "<kind>.met" or "<kind>.missed"
    timed: str = ""   # cases with a time to acknowledge/resolve
    escalated: bool = False
    closed: bool = False
    upheld: bool = False  # upheld or partly upheld
    fcr: bool = False     # resolved at first contact
    reopened: bool = False
    rated: bool = False  # a satisfaction score was given
    score: str = ""   # a satisfaction score "1".."5"
    age: str = ""
    sla: str = ""
    owner: str = ""   # a user id, or NOBODY
    role: str = ""
    # Whose need-to-know limits the cases counted (services/visibility.py); not typed.
    viewer: Actor | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as GET parameters (links, exports, drill-downs)."""
        args: dict[str, str] = {}
        for item in fields(self):
            if item.name == "viewer":
                continue
            value = getattr(self, item.name)
            if item.name in ("start", "end"):
                if not self.preset:
                    args["from" if item.name == "start" else "to"] = value.isoformat()
                continue
            if isinstance(value, bool):
                value = "1" if value else ""
            if value and not (item.name == "by" and value == "month") \
                    and not (item.name == "scope" and value == "received"):
                args[item.name] = str(value)
        return args

    def base_args(self) -> dict[str, str]:
        """The dashboard's own filters, without a figure's condition."""
        keep = {"preset", "by", "category", "product", "channel", "priority"}
        return {k: v for k, v in self.query_args().items() if k in keep | {"from", "to"}}

    def narrowed(self, **condition: Any) -> dict[str, str]:
        """GET parameters of the cases behind a figure: these filters and its condition."""
        return {**self.base_args(), **{k: str(v) for k, v in condition.items() if v}}

    def with_period(self, start: date, end: date) -> Filters:
        """The same question over another period (a bucket, the previous period)."""
        return replace(self, start=start, end=end, preset="")

    @property
    def days(self) -> int:
        """The length of the period in days."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Parsed:
    """Filters read from the query string, what was typed, and what could not be used."""

    filters: Filters
    typed: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


def today() -> date:
    """Today's date in the organisation's time zone."""
    return datetime.now(calendar.load().tz).date()


def preset_period(name: str, day: date) -> tuple[date, date]:
    """The first and last day of a named period that ends on or before `day`."""
    if name == "last_30_days":
        return day - timedelta(days=29), day
    if name == "last_90_days":
        return day - timedelta(days=89), day
    if name == "this_month":
        return day.replace(day=1), day
    if name == "last_month":
        last = day.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if name == "this_quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), day
    if name == "year_to_date":
        return date(day.year, 1, 1), day
    return _add_months(day, -12) + timedelta(days=1), day  # last_12_months


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return day.replace(year=year, month=month + 1)
    except ValueError:  # the 31st of a shorter month: its last day
        return (date(year, month + 2, 1) if month < 11 else date(year + 1, 1, 1)) \
            - timedelta(days=1)


# Filters whose "Not recorded" row drills down to the cases without a value.
RECORDABLE = ("category", "product", "channel", "priority", "outcome", "cause", "currency")
NAMES = ("from", "to", "preset", "by", "category", "product", "channel", "priority", "scope",
         "outcome", "cause", "currency", "target", "timed", "escalated", "closed", "upheld",
         "fcr", "reopened", "rated", "score", "age", "sla", "owner", "role")


def parse(args: Mapping[str, str]) -> Parsed:
    """Read the filters from GET parameters; each unusable value gets a message."""
    typed = {name: str(args.get(name, "")).strip()[:MAX_VALUE] for name in NAMES}
    errors: dict[str, list[str]] = {}

    def one_of(name: str, allowed: tuple[str, ...], message: str) -> str:
        value = typed[name]
        if value and value not in allowed and not (name in RECORDABLE
                                                   and value == NOT_RECORDED):
            errors[name] = [message]
            return ""
        return value

    def code(name: str) -> str:
        value = typed[name]
        if value and not _CODE.fullmatch(value):
            errors[name] = [_("Use a code of letters, digits, dots, dashes or underscores.")]
            return ""
        return value

    preset = one_of("preset", PRESETS, _("Choose a period from the list."))
    start, end = _period(typed, preset, errors)
    by = one_of("by", GROUPINGS, _("Group by week or by month.")) or "month"
    if start and end and not errors and _bucket_count(start, end, by) > MAX_BUCKETS:
        errors["by"] = [_("That is too many weeks to draw: group by month or choose a "
                          "shorter period.")]
    score = one_of("score", ("1", "2", "3", "4", "5"), _("Give a satisfaction score from "
                                                         "1 to 5."))
    owner = typed["owner"]
    if owner and owner != NOBODY and not owner.isdigit():
        errors["owner"] = [_("Choose a handler from the workload table.")]
        owner = ""
    target = typed["target"]
    if target and not _TARGET.fullmatch(target):
        errors["target"] = [_("Name a deadline kind and met or missed, e.g. "
                              "resolution.met.")]
        target = ""
    currency = typed["currency"].upper()
    if currency and currency != NOT_RECORDED and not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = [_("Give a currency as its three-letter code, e.g. SAR.")]
        currency = ""
    filters = Filters(
        start=start or today(), end=end or today(), preset=preset, by=by,
        category=(NOT_RECORDED if typed["category"] == NOT_RECORDED
                  else choice_titles.code_for("category", code("category")) or ""),
        product=code("product"),
        channel=one_of("channel", CHANNELS, _("Choose a channel from the list.")),
        priority=one_of("priority", policy.PRIORITIES, _("Choose a priority from the list.")),
        scope=one_of("scope", SCOPES, _("Choose cases received in the period or open now."))
        or "received",
        outcome=one_of("outcome", OUTCOMES, _("Choose an outcome from the list.")),
        cause=code("cause"), currency=currency, target=target,
        timed=one_of("timed", TIMED, _("Choose acknowledgement or resolution.")),
        escalated=_flag(typed, "escalated", errors), closed=_flag(typed, "closed", errors),
        upheld=_flag(typed, "upheld", errors), fcr=_flag(typed, "fcr", errors),
        reopened=_flag(typed, "reopened", errors),
        rated=_flag(typed, "rated", errors), score=score,
        age=one_of("age", tuple(band[0] for band in AGE_BANDS),
                   _("Choose an age band from the backlog table.")),
        sla=one_of("sla", SLA_STATES, _("Choose breached or on track.")),
        owner=owner, role=one_of("role", tuple(_role_names()), _("Choose a role from the "
                                                                    "list.")))
    return Parsed(filters, typed, errors)


def _role_names() -> list[str]:
    return list(db.session.scalars(select(Role.name).order_by(Role.name)))


def _flag(typed: dict[str, str], name: str, errors: dict[str, list[str]]) -> bool:
    value = typed[name]
    if value and value not in ("1", "0"):
        errors[name] = [_("Use 1 for yes or leave it out.")]
    return value == "1"


def _period(typed: dict[str, str], preset: str,
            errors: dict[str, list[str]]) -> tuple[date | None, date | None]:
    """The period's first and last day: typed dates win over a preset, else the default."""
    start, end = date_field(typed, "from", errors), date_field(typed, "to", errors)
    if errors.get("from") or errors.get("to"):
        return None, None
    if not typed["from"] and not typed["to"]:
        return preset_period(preset or DEFAULT_PRESET, today())
    start = start or (end - timedelta(days=89) if end else None)
    end = end or today()
    assert start is not None
    if start > end:
        errors["to"] = [_("The end of the period comes before its start.")]
    elif (end - start).days + 1 > MAX_DAYS:
        errors["from"] = [_("Choose a period of at most three years.")]
    return start, end


# ---- periods as UTC instants and buckets ------------------------------------------------

def instant(day: date) -> datetime:
    """The start of a day in the organisation's time zone, as an aware timestamp."""
    return datetime.combine(day, time(), tzinfo=calendar.load().tz)


def bucket_starts(start: date, end: date, by: str) -> list[date]:
    """The first day of each week (Monday) or month in the period, the period's start first."""
    starts = [start]
    if by == "week":
        day = start + timedelta(days=(7 - start.weekday()) % 7 or 7)
        step = timedelta(days=7)
        while day <= end:
            starts.append(day)
            day += step
    else:
        day = _add_months(start.replace(day=1), 1)
        while day <= end:
            starts.append(day)
            day = _add_months(day, 1)
    return starts


def _bucket_count(start: date, end: date, by: str) -> int:
    if by == "week":
        return (end - start).days // 7 + 2
    return (end.year - start.year) * 12 + end.month - start.month + 1


# ---- the rows a question selects ---------------------------------------------------------

def conditions(f: Filters, now: datetime | None = None) -> list[ColumnElement[bool]]:
    """The WHERE clauses over case_report that these filters and condition mean."""
    r = CaseReport
    found: list[ColumnElement[bool]] = []
    limits = visibility.where(f.viewer) if f.viewer is not None else []
    if limits:  # a supervisor's figures cover the cases they may read: their teams'
        found.append(r.case_id.in_(select(Case.id).where(*limits)))
    for column, value in ((r.category, f.category), (r.product, f.product),
                          (r.channel, f.channel), (r.priority, f.priority),
                          (r.outcome, f.outcome), (r.cause, f.cause)):
        if value == NOT_RECORDED:  # "" is read as nothing recorded too, as labels do
            found.append(or_(column.is_(None), column == ""))
        elif value:
            found.append(column == value)
    if f.scope == "open":
        found.append(r.is_open.is_(True))
    else:
        found += [r.received_at >= instant(f.start),
                  r.received_at < instant(f.end + timedelta(days=1))]
    if f.currency:
        found += [or_(r.remedy_currency.is_(None), r.remedy_currency == "")
                  if f.currency == NOT_RECORDED else r.remedy_currency == f.currency,
                  r.remedy_amount > 0]
    if f.target:
        kind, _dot, state = f.target.partition(".")
        column = getattr(r, f"{kind}_on_target")
        found.append(column.is_(state == "met"))
    if f.timed:
        found.append(timed_column(f.timed).is_not(None))
    if f.escalated:
        found.append(r.escalation_level > 0)
    if f.closed:
        found.append(r.is_open.is_(False))
    if f.upheld:
        found.append(r.outcome.in_(UPHELD))
    if f.fcr:
        found.append(r.first_contact_resolution.is_(True))
    if f.reopened:
        found.append(r.reopen_count > 0)
    if f.rated:
        found.append(r.satisfaction.is_not(None))
    if f.score:
        found.append(r.satisfaction == int(f.score))
    if f.age:
        found += age_band(f.age, now)
    if f.sla:
        found.append(breached() if f.sla == "breached" else ~breached())
    if f.owner == NOBODY:
        found.append(r.owner_id.is_(None))
    elif f.owner:
        found.append(r.owner_id == int(f.owner))
    if f.role:
        found.append(r.owner_id.in_(select(user_roles.c.user_id)
                                    .where(user_roles.c.role_name == f.role)))
    return found


def timed_column(kind: str) -> Any:
    """The business hours a timed figure measures."""
    return CaseReport.acknowledge_hours if kind == "acknowledgement" \
        else CaseReport.resolution_hours


def breached() -> ColumnElement[bool]:
    """A case with a deadline already missed (any kind)."""
    r = CaseReport
    return or_(r.acknowledgement_on_target.is_(False), r.response_on_target.is_(False),
               r.resolution_on_target.is_(False))


def age_band(key: str, now: datetime | None = None) -> list[ColumnElement[bool]]:
    """The received_at range of an age band, counted back from now."""
    from ...models import utcnow

    now = now or utcnow()
    low, high = next((lo, hi) for name, lo, hi in AGE_BANDS if name == key)
    found = [CaseReport.received_at <= now - timedelta(days=low)]
    if high is not None:
        found.append(CaseReport.received_at > now - timedelta(days=high))
    return [and_(*found)]


def owner_names(ids: set[int]) -> dict[int, str]:
    """Display names of the owners a report lists."""
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name)
                                   .where(User.id.in_(sorted(ids)))).all())  # type: ignore[arg-type]


def choices() -> dict[str, Any]:
    """The values each filter offers, with the titles people read."""
    from .labels import titles

    return {"preset": {"last_30_days": _("Last 30 days"), "last_90_days": _("Last 90 days"),
                       "this_month": _("This month"), "last_month": _("Last month"),
                       "this_quarter": _("This quarter"), "year_to_date": _("Year to date"),
                       "last_12_months": _("Last 12 months")},
            "by": {"month": _("Month"), "week": _("Week")},
            "category": _titled("category", sorted(set(policy.CATEGORIES)
                                                   | set(_in_use(CaseReport.category)))),
            "product": _titled("product", _in_use(CaseReport.product)),
            "channel": titles("channel"),
            "priority": {p: choice_titles.humanize(p) or p
                         for p in reversed(policy.PRIORITIES)}}


def _titled(field: str, codes: list[str]) -> dict[str, str]:
    from .labels import label

    return {code: label(field, code) for code in codes}


def _in_use(column: Any, limit: int = 200) -> list[str]:
    """The distinct values of an indexed column, one index probe each (a loose scan)."""
    values: list[str] = []
    last = db.session.scalar(select(func.min(column)))
    while last is not None and len(values) < limit:
        values.append(last)
        last = db.session.scalar(select(func.min(column)).where(column > last))
    return values
