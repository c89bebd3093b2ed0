"""Finding cases: filters, sorts and pages over the case rows, words through full-text search.

An exact reference is found through the unique index on `case.reference`; words through
the database's full-text index (migration 0015: FTS5 on SQLite, a tsvector with a GIN
index on PostgreSQL). Whatever a person types is reduced to quoted terms, so the query
languages' own syntax (quotes, `NEAR(`, `*`, `&`, `:`) is never read from their input.
Overdue comes from the projection tables (human_task, timer), never from workflows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, text

from ..extensions import db
from ..models import Case, HumanTask, Timer, User, utcnow
from . import calendar, choice_titles, ownership, policy, process_texts, teams, visibility
from .actors import Actor
from .cases import CHANNELS
from .report_period import date_field

PER_PAGE = 50
SORTS = ("received", "reference", "priority", "due")
STATES = ("open", "closed")
MAX_QUERY = 200
MAX_TERMS = 12
MAX_VALUE = 200
MAX_CHOICES = 200
NO_OWNER = "-"  # the owner filter's value for cases nobody owns yet
NO_TEAM = "-"  # the team filter's value for cases of no team
DENSE = 500  # word matches above which a page walks the sort's index (see find)
# Most urgent first, in the escalation policy's own scale of priorities.
PRIORITY_ORDER = {name: rank for rank, name in enumerate(reversed(policy.PRIORITIES))}
_WORD = re.compile(r"[^\W_]")  # a term with no letter or digit indexes nothing


@dataclass(frozen=True)
class Filters:
    """What a person asked for on the search page (each empty value means "any")."""

    q: str = ""
    status: str = ""
    state: str = ""  # "open", "closed" or "" for both
    priority: str = ""
    category: str = ""
    product: str = ""
    channel: str = ""
    owner: str = ""  # a username, or NO_OWNER for cases nobody owns yet
    overdue: bool = False
    received_from: date | None = None
    received_to: date | None = None
    sort: str = "received"
    team: str = ""  # a team id, or NO_TEAM for cases of no team
    # Whose need-to-know limits the cases (services/visibility.py); not a typed filter.
    viewer: Actor | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query-string values (for page links and the export form)."""
        args: dict[str, str] = {}
        for item in fields(self):
            if item.name == "viewer":
                continue
            value = getattr(self, item.name)
            if isinstance(value, bool):
                value = "1" if value else ""
            elif isinstance(value, date):
                value = value.isoformat()
            if value and not (item.name == "sort" and value == "received"):
                args[item.name] = str(value)
        return args


@dataclass(frozen=True)
class Parsed:
    """Filters read from the query string, the raw text typed, and what could not be read."""

    filters: Filters
    typed: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One case as the search lists it."""

    reference: str
    complainant_name: str
    complainant_email: str | None
    received_at: datetime
    status_label: str | None
    is_open: bool
    priority: str | None
    category: str | None
    channel: str
    product_service: str | None
    due_at: datetime | None
    version_id: int | None = None  # the case's process version, whose words the status is


@dataclass(frozen=True)
class Page:
    """A page of matching cases and what is needed to link the others."""

    rows: list[Row]
    total: int
    page: int
    pages: int


def parse(args: Mapping[str, str]) -> Parsed:
    """Read the filters from the query string; a value that cannot be used gets a message."""
    typed = {name: str(args.get(name, "")).strip()[:MAX_VALUE] for name in
             ("q", "status", "state", "priority", "category", "product", "channel",
              "owner", "overdue", "received_from", "received_to", "sort", "team")}
    typed["q"] = typed["q"][:MAX_QUERY]
    errors: dict[str, list[str]] = {}

    def one_of(name: str, allowed: tuple[str, ...], message: str) -> str:
        value = typed[name]
        if value and value not in allowed:
            errors[name] = [message]
            return ""
        return value

    state = one_of("state", STATES, _("Choose open or closed cases, or both."))
    priority = one_of("priority", policy.PRIORITIES, _("Choose a priority from the list."))
    channel = one_of("channel", CHANNELS, _("Choose a channel from the list."))
    sort = one_of("sort", SORTS, _("Sort by received, reference, priority or due time.")) \
        or "received"
    team = typed["team"]
    if team and team != NO_TEAM and not (team.isdigit() and int(team) in teams.names()):
        errors["team"] = [_("Choose a team from the list.")]
        team = ""
    received_from = date_field(typed, "received_from", errors)
    received_to = date_field(typed, "received_to", errors)
    if received_from and received_to and received_from > received_to:
        errors["received_to"] = [_("The end of the range comes before its start.")]
    filters = Filters(q=typed["q"], status=typed["status"], state=state, priority=priority,
                      category=choice_titles.code_for("category", typed["category"]) or "",
                      product=typed["product"], channel=channel, owner=typed["owner"],
                      overdue=typed["overdue"] in ("1", "on", "true", "yes"),
                      received_from=received_from, received_to=received_to, sort=sort,
                      team=team)
    return Parsed(filters, typed, errors)


def find(filters: Filters, page: int = 1) -> Page:
    """The cases that match, sorted and paged (PER_PAGE a page)."""
    reference = exact_reference(filters.q) if filters.q else None
    total = _count(filters, reference)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    # Many word matches: walk the sort's index and test each case against the matches
    # (no case row is read); few: read the matching rows and sort them.
    walk = total > DENSE and filters.sort in ("received", "reference")
    conditions = _conditions(filters, reference, walk)
    order = _order(filters)
    if filters.sort != "due":  # the page's ids first: the next due time for 50 rows only
        ids = (select(Case.id).where(*conditions).order_by(*order, Case.id.desc())
               .limit(PER_PAGE).offset((page - 1) * PER_PAGE).scalar_subquery())
        query = _rows(filters, [Case.id.in_(ids)])
    else:
        query = _rows(filters, conditions).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    return Page([Row(*r) for r in db.session.execute(query)], total, page, pages)


def _count(filters: Filters, reference: str | None) -> int:
    """How many cases match; words alone are counted in the full-text index itself."""
    words_only = filters.q and not reference and filters.query_args().keys() <= {"q", "sort"} \
        and not _limits(filters)
    if words_only and db.engine.dialect.name == "sqlite":
        query = fts_query(filters.q, "sqlite")
        if not query:
            return 0
        # The index is the case table's own (external content, kept by triggers); it
        # holds the few corrective actions too, counted apart by the kind index.
        return db.session.scalar(text(
            "SELECT count(*) FROM case_search WHERE case_search MATCH :words AND rowid NOT "
            "IN (SELECT id FROM \"case\" WHERE kind = 'action')").bindparams(words=query)) or 0
    return db.session.scalar(select(func.count()).select_from(Case).where(
        *_conditions(filters, reference))) or 0


def exact_reference(query: str, viewer: Actor | None = None) -> str | None:
    """The reference of the case whose reference was typed (any letter case), else None.

    With a viewer, only a case their need-to-know lets them read.
    """
    typed = query.strip()
    if not typed or len(typed) > 32 or " " in typed:
        return None
    return db.session.scalar(select(Case.reference).where(
        Case.reference.in_(sorted({typed, typed.upper()})), Case.kind == "complaint",
        *(visibility.where(viewer) if viewer is not None else [])))


def choices() -> dict[str, Any]:
    """The values each list filter offers: the known scales plus what the cases hold.

    The status labels are offered as stored (what the filter compares) and named in the
    reader's language, each by a version one of its complaints runs on.
    """
    reader = process_texts.reading()
    statuses = {label: process_texts.text(version, label, reader)
                for label in _in_use(Case.status_label)
                if (version := _complaint_version(label)) is not None}
    return {"priority": list(reversed(policy.PRIORITIES)), "channel": list(CHANNELS),
            "state": list(STATES), "sort": list(SORTS),
            "status": list(statuses), "status_names": statuses,
            "category": sorted(set(policy.CATEGORIES) | set(_in_use(Case.category))),
            "category_names": choice_titles.titles("category"),
            "team": {NO_TEAM: _("No team"), **{str(k): v for k, v in teams.names().items()}},
            "owner": {NO_OWNER: _("Nobody yet"),
                      **{user.username: user.display_name for user in ownership.candidates()}}}


def _complaint_version(status_label: str) -> int | None:
    """The version of some complaint (not a corrective action) with this status label."""
    return db.session.scalar(select(Case.process_version_id).where(
        Case.status_label == status_label, Case.kind == "complaint").limit(1))


def _in_use(column: Any) -> list[str]:
    """The distinct values of an indexed column, one index probe each (a loose scan)."""
    values: list[str] = []
    last = db.session.scalar(select(func.min(column)))
    while last is not None and len(values) < MAX_CHOICES:
        values.append(last)
        last = db.session.scalar(select(func.min(column)).where(column > last))
    return values


def _conditions(f: Filters, reference: str | None,
                walk: bool = False) -> list[ColumnElement[bool]]:
    # Corrective actions are cases too, listed in their own register (/actions).
    found: list[ColumnElement[bool]] = [Case.kind == "complaint", *_limits(f)]
    if f.q:
        found.append(Case.reference == reference if reference else _words(f.q, walk))
    for column, value in ((Case.status_label, f.status), (Case.priority, f.priority),
                          (Case.category, f.category), (Case.channel, f.channel)):
        if value:
            found.append(column == value)
    if f.owner == NO_OWNER:
        found.append(Case.owner_id.is_(None))
    elif f.owner:
        found.append(Case.owner_id == select(User.id).where(User.username == f.owner)
                     .scalar_subquery())
    if f.team == NO_TEAM:
        found.append(Case.team_id.is_(None))
    elif f.team:
        found.append(Case.team_id == int(f.team))
    if f.state:
        found.append(Case.is_open.is_(f.state == "open"))
    if f.product:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", f.product.lower()) + "%"
        found.append(func.lower(Case.product_service).like(pattern, escape="\\"))
    if f.overdue:
        found.append(_overdue(utcnow()))
    if f.received_from or f.received_to:
        zone = calendar.load().tz
        if f.received_from:
            start = datetime.combine(f.received_from, time(), tzinfo=zone)
            found.append(Case.received_at >= start)
        if f.received_to:
            end = datetime.combine(f.received_to + timedelta(days=1), time(), tzinfo=zone)
            found.append(Case.received_at < end)
    return found


def _limits(f: Filters) -> list[ColumnElement[bool]]:
    """The viewer's need-to-know, as conditions (none for those who read every case)."""
    return visibility.where(f.viewer) if f.viewer is not None else []


def _overdue(now: datetime) -> ColumnElement[bool]:
    """An open case with a ready task past its due time, or a timer past due unfired."""
    late_task = exists().where(HumanTask.case_id == Case.id, HumanTask.due_at < now)
    # A deadline timer still waiting after its time (a stopped case, a late scheduler).
    late_timer = exists().where(Timer.case_id == Case.id, Timer.due_at < now)
    return and_(Case.is_open.is_(True), or_(late_task, late_timer))


def fts_query(typed: str, dialect: str) -> str:
    """The words typed as a full-text query of the dialect: every term, each as a prefix.

    Each term is quoted, so no character typed is read as query syntax.
    """
    terms = [t for t in typed.split() if _WORD.search(t)][:MAX_TERMS]
    if dialect == "postgresql":
        quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "':*" for t in terms)
        return " & ".join(quoted)
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


_MATCHES = "\"case\".id IN (SELECT rowid FROM case_search WHERE case_search MATCH :words)"
_WALK_MATCHES = "+" + _MATCHES


def _words(typed: str, walk: bool) -> ColumnElement[bool]:
    dialect = db.engine.dialect.name
    words = fts_query(typed, dialect)
    if not words:
        return Case.id.is_(None)  # nothing searchable was typed: nothing matches
    if dialect == "postgresql":
        return and_(text("\"case\".search_vector @@ to_tsquery('simple', :words)")
                    .bindparams(words=words))
    # "+" keeps SQLite from looking the matches up by id, so it walks the sort's index.
    return and_(text(_WALK_MATCHES if walk else _MATCHES).bindparams(words=words))


def _due() -> Any:
    """The case's next due time: the earliest of its ready tasks'."""
    return (select(func.min(HumanTask.due_at)).where(HumanTask.case_id == Case.id)
            .correlate(Case).scalar_subquery())


def _order(f: Filters) -> tuple[Any, ...]:
    if f.sort == "reference":
        return (Case.reference,)
    if f.sort == "priority":
        return (case(PRIORITY_ORDER, value=Case.priority, else_=9), Case.received_at.desc())
    if f.sort == "due":
        due = _due()
        return (due.is_(None), due, Case.received_at.desc())
    return (Case.received_at.desc(),)


def _rows(f: Filters, conditions: list[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    return (select(Case.reference, Case.complainant_name, Case.complainant_email,
                   Case.received_at, Case.status_label, Case.is_open, Case.priority,
                   Case.category, Case.channel, Case.product_service, _due().label("due_at"),
                   Case.process_version_id)
            .where(*conditions).order_by(*_order(f), Case.id.desc()))


def matching(filters: Filters) -> tuple[Select[Any], int]:
    """The rows of every case that matches (sorted as the page sorts them) and how many."""
    reference = exact_reference(filters.q) if filters.q else None
    return _rows(filters, _conditions(filters, reference)), _count(filters, reference)


def label(value: str | None) -> str:
    """A code as people read it: "service_quality" -> "Service quality"."""
    return (value or "").replace("_", " ").capitalize()
