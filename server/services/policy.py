"""The escalation policy: targets per kind, priority and category turned into UTC deadlines.

For a complaint the most specific row wins: its priority and category, then its priority
alone, then its category alone, then the row for any priority. Rows are kept per process
under the settings stamp, read once per run (services/lookups.py), so a target changed by
an administrator in any process applies to the next deadline anywhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

from flask_babel import gettext as _
from sqlalchemy import Select, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import EscalationTarget, utcnow
from ..models.policy import ANY
from . import business_time, calendar, lookups, system_log
from .actors import Actor

COMPLAINT_KINDS = ("acknowledge", "response", "resolution")
DATA_REQUEST = "data_request"  # the statutory deadline of a data-subject request (PDPL)
KINDS = (*COMPLAINT_KINDS, DATA_REQUEST)
PRIORITIES = ("low", "medium", "high", "urgent")
CATEGORIES = ("service_quality", "billing", "product_defect", "staff_conduct", "delay",
              "privacy", "other")
UNITS = business_time.UNITS
# The longest target an administrator may set per unit: about a year.
LIMITS = {"working_days": 250, "working_hours": 2000, "calendar_days": 366,
          "calendar_hours": 8784}
FIELDS = ("amount", "unit", "remind_amount", "remind_unit", "next_level_amount",
          "next_level_unit")
_NUMBER = re.compile(r"^\d{1,6}$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """How long a deadline runs, the reminder before it, and the next level after it."""

    amount: int
    unit: str
    remind_amount: int
    remind_unit: str
    next_level_amount: int
    next_level_unit: str


# Used only when the table has no row for a kind at all (the migration seeds them).
DEFAULTS = {
    "acknowledge": Target(1, "working_days", 4, "working_hours", 1, "working_days"),
    "response": Target(3, "working_days", 1, "working_days", 1, "working_days"),
    "resolution": Target(5, "working_days", 1, "working_days", 2, "working_days"),
    # PDPL: 30 days to answer; remind 5 days before; the migration seeds the same row.
    DATA_REQUEST: Target(30, "calendar_days", 5, "calendar_days", 5, "calendar_days"),
}


@dataclass(frozen=True)
class PublicTarget:
    """A target as the public page states it: "we acknowledge within 1 working day"."""

    kind: str
    amount: int
    unit: str


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(_("Unknown deadline kind %(kind)s: use one of %(kinds)s.",
                             kind=repr(str(kind)[:40]), kinds=", ".join(KINDS)),
                           {"kind": [_("Use one of %(kinds)s.", kinds=", ".join(KINDS))]})
    return kind


def _known(value: str | None, choices: tuple[str, ...]) -> str:
    # A priority or category the policy does not know falls back to the "any" rows, so
    # a case is never left without a deadline.
    value = (value or "").strip().lower()
    return value if value in choices else ANY


# A preview's what-if targets (services/processes/replay.py): kind -> (amount, unit) for
# every priority and category, bound in the preview's own context only and never saved.
_WHAT_IF: ContextVar[Mapping[str, tuple[int, str]] | None] = ContextVar(
    "plaint_policy_what_if", default=None)


@contextmanager
def what_if(targets: Mapping[str, tuple[int, str]]) -> Iterator[None]:
    """Within the block (this context only), count these kinds with these targets."""
    token = _WHAT_IF.set(targets)
    try:
        yield
    finally:
        _WHAT_IF.reset(token)


def target_for(kind: str, *, priority: str | None, category: str | None) -> Target:
    """The target of the most specific row for a kind, priority and category."""
    _kind(kind)
    changed = (_WHAT_IF.get() or {}).get(kind)
    if changed is not None:
        return replace(_stored_target(kind, priority, category), amount=changed[0],
                       unit=changed[1])
    return _stored_target(kind, priority, category)


def _stored_target(kind: str, priority: str | None, category: str | None) -> Target:
    """The target the policy's rows give (kept per settings stamp: services/lookups.py)."""
    return lookups.setting(("policy.target", kind, priority, category),
                           lambda: _pick(kind, priority, category, _all_rows()))


def _all_rows() -> tuple[Any, ...]:
    """Every target row: a step asks for up to four targets, a sweep for many."""
    return lookups.setting("policy.rows",
                           lambda: tuple(db.session.connection().execute(_read_all())))


@cache
def _read_all() -> Select[*tuple[Any, ...]]:
    """Every target row with its kind, built once."""
    return select(EscalationTarget.kind, EscalationTarget.priority, EscalationTarget.category,
                  *(getattr(EscalationTarget, f) for f in FIELDS))


def _pick(kind: str, priority: str | None, category: str | None,
          rows: Sequence[Any]) -> Target:
    """The most specific of the rows for the kind, priority and category."""
    wanted_priority, wanted_category = _known(priority, PRIORITIES), _known(category, CATEGORIES)
    return _best([row[1:] for row in rows if row.kind == kind
                  and row.priority in (wanted_priority, ANY)
                  and row.category in (wanted_category, ANY)], kind)


def _best(rows: Sequence[Any], kind: str) -> Target:
    """The most specific of (priority, category, *FIELDS) rows; the default when none."""
    if not rows:
        return DEFAULTS[kind]
    best = max(rows, key=lambda r: 2 * (r[0] != ANY) + (r[1] != ANY))
    return Target(*best[2:])


def deadline(kind: str, *, priority: str | None, category: str | None,
             since: datetime) -> datetime:
    """When a deadline of this kind falls for a complaint received (or started) at `since`."""
    target = target_for(kind, priority=priority, category=category)
    return calendar.load().add(since, target.amount, target.unit)


def reminder_at(kind: str, *, priority: str | None, category: str | None,
                since: datetime) -> datetime:
    """When to remind: the deadline less the reminder lead (same kind of time), not before since."""
    target = target_for(kind, priority=priority, category=category)
    cal = calendar.load()
    due = cal.add(since, target.amount, target.unit)
    return max(since, cal.subtract(due, target.remind_amount, target.remind_unit))


def next_level_at(kind: str, *, priority: str | None, category: str | None,
                  since: datetime) -> datetime:
    """When an escalation that began at `since` (the breach) goes up one more level."""
    target = target_for(kind, priority=priority, category=category)
    return calendar.load().add(since, target.next_level_amount, target.next_level_unit)


def targets_for_public() -> list[PublicTarget]:
    """The standard target of each complaint deadline (the row for any priority and category)."""
    found: list[PublicTarget] = []
    for kind in COMPLAINT_KINDS:
        target = target_for(kind, priority=None, category=None)
        found.append(PublicTarget(kind, target.amount, target.unit))
    return found


def preview(since: datetime) -> list[tuple[str, datetime, datetime]]:
    """Each complaint deadline and its reminder, in local time, for a complaint of no priority."""
    tz = calendar.load().tz
    return [(kind, deadline(kind, priority=None, category=None, since=since).astimezone(tz),
             reminder_at(kind, priority=None, category=None, since=since).astimezone(tz))
            for kind in COMPLAINT_KINDS]


# Administration: the targets table as typed, checked, saved with a system event.

def _order(row: EscalationTarget) -> tuple[int, int, int, str]:
    ranks = (ANY, *PRIORITIES)
    return (KINDS.index(row.kind) if row.kind in KINDS else 9, row.category != ANY,
            ranks.index(row.priority) if row.priority in ranks else 9, row.category)


def list_targets() -> dict[str, list[EscalationTarget]]:
    """Every row, grouped by kind: the priority rows first, then the category rows."""
    rows = sorted(db.session.scalars(select(EscalationTarget)), key=_order)
    return {kind: [r for r in rows if r.kind == kind] for kind in KINDS}


def row_form(row: EscalationTarget) -> dict[str, str]:
    """A row's values as the table's inputs show them."""
    return {f"t{row.id}_{f}": str(getattr(row, f)) for f in FIELDS}


def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def _parse(values: Mapping[str, Any], prefix: str, errors: dict[str, list[str]]) -> Target | None:
    """Read the six fields of a target, noting what is wrong with each."""
    parsed: dict[str, Any] = {}
    for what, minimum in (("", 1), ("remind_", 0), ("next_level_", 1)):
        unit = str(values.get(f"{prefix}{what}unit") or "").strip()
        text = str(values.get(f"{prefix}{what}amount") or "").strip()
        if unit not in UNITS:
            errors[f"{prefix}{what}unit"] = [_("Choose working days, working hours, calendar "
                                               "days or calendar hours.")]
            limit = max(LIMITS.values())
        else:
            limit = LIMITS[unit]
        if not _NUMBER.match(text) or not minimum <= int(text) <= limit:
            errors[f"{prefix}{what}amount"] = [
                _("Enter a whole number from %(minimum)s to %(limit)s.", minimum=minimum,
                  limit=limit)]
        else:
            parsed[f"{what}amount"] = int(text)
        parsed[f"{what}unit"] = unit
    return None if len(parsed) < 6 else Target(**parsed)


def _label(row: EscalationTarget) -> str:
    return f"{row.kind}/{row.priority}/{row.category}"


def save_targets(kind: str, values: Mapping[str, Any], by: Actor) -> int:
    """Check and save every row of one kind from the table's inputs; return how many changed."""
    _kind(kind)
    begin_write()
    rows = [r for r in db.session.scalars(select(EscalationTarget)
                                          .where(EscalationTarget.kind == kind))]
    errors: dict[str, list[str]] = {}
    parsed = {row.id: _parse(values, f"t{row.id}_", errors) for row in rows}
    if errors:
        _refuse(errors)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for row in rows:
        new = parsed[row.id]
        old = Target(*(getattr(row, f) for f in FIELDS))
        if new is None or new == old:
            continue
        before[_label(row)], after[_label(row)] = asdict(old), asdict(new)
        for name, value in asdict(new).items():
            setattr(row, name, value)
        row.updated_at = utcnow()
    if after:
        system_log.record(by, "policy.targets", f"Escalation targets for {kind} changed "
                          f"({len(after)} row{'s' if len(after) > 1 else ''})",
                          {"before": before, "after": after})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    log.info("%s changed %d %s target(s)", by.name, len(after), kind)
    return len(after)


def add_target(values: Mapping[str, Any], by: Actor) -> EscalationTarget:
    """Check and add a row for one category (with a priority, or for any priority)."""
    errors: dict[str, list[str]] = {}
    kind = str(values.get("kind") or "")
    if kind not in KINDS:
        errors["kind"] = [_("Choose one of %(kinds)s.", kinds=", ".join(KINDS))]
    priority = str(values.get("priority") or "")
    if priority not in (ANY, *PRIORITIES):
        errors["priority"] = [_("Choose a priority, or any.")]
    category = str(values.get("category") or "")
    if category not in CATEGORIES:
        errors["category"] = [_("Choose a category.")]
    target = _parse(values, "", errors)
    begin_write()
    if not errors and db.session.scalar(select(EscalationTarget.id).where(
            EscalationTarget.kind == kind, EscalationTarget.priority == priority,
            EscalationTarget.category == category)):
        errors["category"] = [_("There is already a %(kind)s row for priority %(priority)s and "
                                "category %(category)s: change that row instead.", kind=kind,
                                priority=priority, category=category)]
    if errors or target is None:
        _refuse(errors)
    row = EscalationTarget(kind=kind, priority=priority, category=category,
                           updated_at=utcnow(), **asdict(target))
    db.session.add(row)
    system_log.record(by, "policy.row_added", f"Escalation row added: {_label(row)}",
                      {"before": None, "after": {_label(row): asdict(target)}})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    return row


def remove_target(target_id: int, by: Actor) -> None:
    """Remove a category row; the rows every complaint falls back on stay."""
    begin_write()
    row = db.session.get(EscalationTarget, target_id)
    if row is None:
        raise NotFound(_("That escalation row no longer exists."))
    if row.category == ANY:
        raise InvalidInput(_("Only rows for a category can be removed: the priority rows are "
                             "what every complaint falls back on."))
    old = Target(*(getattr(row, f) for f in FIELDS))
    system_log.record(by, "policy.row_removed", f"Escalation row removed: {_label(row)}",
                      {"before": {_label(row): asdict(old)}, "after": None})
    db.session.delete(row)
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
