"""A case's reporting facts (models/report.py): computed and written on the step's write path.

The values come from the case row (times, channel, priority, owner), from what the diagram
reports with `reportAs` (engine/reports.py, carried on the Snapshot) and from business-time
arithmetic. That arithmetic reads the calendar and the policy, so it runs only when a
milestone time changed or a deadline has not been settled yet; other steps copy it.

Rules, stated once:

* hours: working hours (the business calendar) from `received_at` to the milestone, less
  the hours that kind's clock stood still (`pausesClock`) when the milestone was reached;
  `close_hours` is net of the resolution clock's pauses;
* on target, per deadline kind: met when the milestone came at or before the policy's
  deadline for the case's priority and category, moved by that clock's pauses; missed
  (False) once a step of the case runs after the deadline with the milestone not reached
  (the diagram's overdue timer is such a step); None until then;
* first-contact resolution: the case was resolved within FCR_DAYS working days of receipt,
  without waiting on the complainant (no paused time), without escalation and without
  being reopened; None until it is resolved;
* paused_hours: the longest any clock stood still (pauses that ended).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Table, bindparam, select

from ..engine import Snapshot
from ..engine.clocks import PAUSED_HOURS
from ..extensions import db
from ..models import utcnow
from ..models.report import CaseReport
from . import calendar, deferred, money, policy
from .business_time import Calendar
from .records import CaseRecord

FCR_DAYS = 3
# Deadline kind of the report -> (policy kind and clock, the row's milestone column).
KINDS = {"acknowledgement": ("acknowledge", "acknowledged_at"),
         "response": ("response", "responded_at"),
         "resolution": ("resolution", "resolved_at")}
HOURS = {"acknowledge_hours": ("acknowledged_at", "acknowledge"),
         "response_hours": ("responded_at", "response"),
         "resolution_hours": ("resolved_at", "resolution"),
         "close_hours": ("closed_at", "resolution")}
MILESTONE_COLUMNS = ("acknowledged_at", "responded_at", "resolved_at", "closed_at")
RESPONDED = "responded"  # the milestone that stamps responded_at
REOPENED = "reopened"

REPORTS: Table = CaseReport.__table__
_ROW = select(REPORTS).where(REPORTS.c.case_id == bindparam("of_case"))
_ROWS = select(REPORTS).where(REPORTS.c.case_id.in_(bindparam("of_cases", expanding=True)))
_INSERT = REPORTS.insert()
# The rows read ahead for a batch (known()): case id -> row, None where there is none yet.
_KNOWN: ContextVar[dict[int, dict[str, Any] | None] | None] = ContextVar(
    "plaint_known_reports", default=None)
_UPDATE = REPORTS.update().where(REPORTS.c.case_id == bindparam("of_case"))
deferred.combine(_UPDATE, deferred.updating(REPORTS, {"of_case": "case_id"}))


@dataclass(frozen=True)
class Clocks:
    """The hours each clock stood still so far (pauses that ended)."""

    paused: dict[str, float]

    def of(self, clock: str) -> float:
        """Hours this clock stood still."""
        return self.paused.get(clock, 0.0)

    def longest(self) -> float:
        """The longest any clock stood still."""
        return round(max(self.paused.values(), default=0.0), 2)


@contextmanager
def known(case_ids: Collection[int]) -> Iterator[None]:
    """Read these cases' report rows in one query, for a batch that records their steps.

    Each row is used once, by the case's next `record` in the block: a sweep's batch reads
    them under the write lock, and a case someone moved since (whose row may have
    changed) fails its version check before its step gets here.
    """
    rows: dict[int, dict[str, Any] | None] = dict.fromkeys(case_ids)
    for found in db.session.connection().execute(_ROWS, {"of_cases": list(case_ids)}):
        rows[found.case_id] = dict(found._mapping)
    token = _KNOWN.set(rows)
    try:
        yield
    finally:
        _KNOWN.reset(token)


def record(case: CaseRecord, snapshot: Snapshot, now: datetime) -> None:
    """Bring the case's report row in line with the case as saved, in the step's transaction."""
    connection = db.session.connection()
    rows = _KNOWN.get()
    if rows is not None and case.id in rows:
        before = rows.pop(case.id)
    else:
        found = connection.execute(_ROW, {"of_case": case.id}).first()
        before = dict(found._mapping) if found is not None else None
    values = compute(case, snapshot, before, now)
    if before is None:
        connection.execute(_INSERT, {"case_id": case.id, **values})
        return
    changed = {name: value for name, value in values.items()
               if name != "updated_at" and before.get(name) != value}
    if changed:  # read again only by the case's next step: a batch writes it at its end
        deferred.write(_UPDATE, {"of_case": case.id, **changed, "updated_at": now})


def compute(case: CaseRecord, snapshot: Snapshot, before: dict[str, Any] | None,
            now: datetime) -> dict[str, Any]:
    """The report row's values for a case (without case_id)."""
    report = snapshot.report
    clocks = Clocks(_paused(snapshot.data))
    responded = (before or {}).get("responded_at") or snapshot.milestone_times.get(RESPONDED)
    amount = _amount(report.get("remedy_amount"))
    row: dict[str, Any] = {
        "received_at": case.received_at, "acknowledged_at": case.acknowledged_at,
        "responded_at": responded, "resolved_at": case.resolved_at,
        "closed_at": case.closed_at, "is_open": case.is_open,
        "priority": _text(report.get("priority"), 32) or case.priority,
        "channel": _text(report.get("channel"), 32) or case.channel,
        # A code of the products list, only as the diagram reports it: the intake's
        # product text is the complainant's own words, not a code.
        "product": _text(report.get("product"), 64),
        "category": _text(report.get("category"), 64) or case.category,
        "cause": _text(report.get("cause"), 64),
        "outcome": _text(report.get("outcome"), 32),
        "remedy_type": _text(report.get("remedy_type"), 64),
        "remedy_amount": amount,
        "remedy_currency": (_text(report.get("remedy_currency"), 3) or money.currency())
        if amount is not None else None,
        "vulnerable": _flag(report.get("vulnerable")),
        "regulator": _flag(report.get("regulator")),
        "escalation_level": _whole(report.get("escalation_level")) or 0,
        "reopen_count": snapshot.milestone_counts.get(REOPENED, 0),
        "satisfaction": _score(report.get("satisfaction")),
        "owner_id": case.owner_id, "paused_hours": clocks.longest(), "updated_at": now,
    }
    _times(row, before, clocks, now, bool(snapshot.fired))
    return row


def _times(row: dict[str, Any], before: dict[str, Any] | None, clocks: Clocks,
           now: datetime, fired: bool) -> None:
    """Hours, on-target flags and first-contact resolution, recomputed only when needed."""
    moved = before is None or any(before[c] != row[c] for c in MILESTONE_COLUMNS) or \
        before["priority"] != row["priority"] or before["category"] != row["category"]
    # A deadline passes unseen between steps; the step after it (the diagram's overdue
    # timer firing) settles it, so only runs where a timer fired look again.
    unsettled = [kind for kind in KINDS
                 if moved or (fired and before is not None
                              and before[f"{kind}_on_target"] is None)]
    cal: Calendar | None = calendar.load() if moved or unsettled else None
    within = None
    if moved and cal is not None:
        for name, (column, clock) in HOURS.items():
            at = row[column]
            row[name] = None if at is None else round(max(
                0.0, cal.working_hours_between(row["received_at"], at) - clocks.of(clock)), 2)
        if row["resolved_at"] is not None:
            within = row["resolved_at"] <= cal.add(row["received_at"], FCR_DAYS, "working_days")
    else:
        assert before is not None
        row.update({name: before[name] for name in HOURS})
        # Settled when it was resolved; later steps can only take it away (a reopen).
        within = bool(before["first_contact_resolution"])
    for kind, (policy_kind, column) in KINDS.items():
        flag = f"{kind}_on_target"
        if kind not in unsettled or cal is None:
            assert before is not None
            row[flag] = before[flag]
            continue
        target = policy.target_for(policy_kind, priority=row["priority"],
                                   category=row["category"])
        due = cal.add(row["received_at"], target.amount, target.unit)
        if clocks.of(policy_kind):
            due = cal.add_working_hours(due, clocks.of(policy_kind))
        at = row[column]
        row[flag] = (at <= due) if at is not None else (False if now > due else None)
    row["first_contact_resolution"] = _first_contact(row, within)


def _first_contact(row: dict[str, Any], within: bool | None) -> bool | None:
    """Resolved in time, with no wait on the complainant, no escalation, never reopened."""
    if row["resolved_at"] is None:
        return None
    return bool(within) and row["paused_hours"] == 0 and row["escalation_level"] == 0 \
        and row["reopen_count"] == 0


def _paused(data: dict[str, Any]) -> dict[str, float]:
    hours = data.get(PAUSED_HOURS)
    if not isinstance(hours, dict):
        return {}
    return {str(k): float(v) for k, v in hours.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def _text(value: Any, size: int) -> str | None:
    return value[:size] if isinstance(value, str) and value.strip() else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _score(value: Any) -> int | None:
    score = _whole(value)
    return score if score is not None and 1 <= score <= 5 else None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return amount if abs(amount) < Decimal("1e12") else None


def rebuild(case_ids: list[int] | None = None, commit: bool = True) -> int:
    """Rewrite the report rows of these cases (all by default) from their saved state."""
    from ..models import Case
    from .processes import runtime_for

    ids = case_ids if case_ids is not None else list(db.session.scalars(
        select(Case.id).where(Case.kind == "complaint").order_by(Case.id)))
    done = 0
    for start in range(0, len(ids), 200):
        for case_id in ids[start:start + 200]:
            _rebuild_one(case_id, runtime_for)
            done += 1
        if commit:
            db.session.commit()
    return done


def _rebuild_one(case_id: int, runtime_for: Any) -> None:
    """Recompute one case's row from its saved workflow, replacing what was there."""
    from .recording import load_case_by_id

    case = load_case_by_id(case_id)
    if case is None or case.kind != "complaint":  # only complaints have reporting facts
        return
    runtime = runtime_for(case.process_version_id)
    snapshot = runtime.snapshot(runtime.load(case.workflow_state))
    connection = db.session.connection()
    connection.execute(REPORTS.delete().where(REPORTS.c.case_id == case_id))
    connection.execute(_INSERT, {"case_id": case_id,
                                 **compute(case, snapshot, None, utcnow())})
