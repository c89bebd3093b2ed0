"""The dashboard's numbers: a few aggregate passes over case_report, each run when needed.

Every pass aggregates in SQL over the indexed columns (received_at, is_open and the
grouping codes); no case is read one by one. Percentiles are PostgreSQL's percentile_cont
(linear between the closest ranks); SQLite has none, so there one column of hours is
read and the same rule applied in Python.

The "received" passes read the period and the one before it (of the same length) in one
go, so the period-over-period change costs no second pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from ...extensions import db
from ...models import CaseReport, utcnow
from ...models.report import TARGET_KINDS
from ...models.user import user_roles
from .filters import AGE_BANDS, UPHELD, Filters, breached, bucket_starts, conditions, instant


@dataclass
class Counts:
    """Counts over one period bucket of received cases."""

    received: int = 0
    closed: int = 0
    escalated: int = 0
    reopened: int = 0
    rated: int = 0
    score_sum: int = 0
    scores: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    fcr_yes: int = 0
    fcr_known: int = 0
    upheld: int = 0
    outcome_known: int = 0
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGET_KINDS, 0))
    known: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGET_KINDS, 0))

    def add(self, other: Counts) -> None:
        """Add another bucket's counts to these."""
        for name in ("received", "closed", "escalated", "reopened", "rated", "score_sum",
                     "fcr_yes", "fcr_known", "upheld", "outcome_known"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("scores", "met", "known"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key in mine:
                mine[key] += theirs[key]


@dataclass(frozen=True)
class Spread:
    """How long something took, in business hours: how many cases, median and p90."""

    n: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Bucket:
    """One week or month of the period: its first and last day."""

    start: date
    end: date


def ratio(part: int, whole: int) -> float | None:
    """A share in percent, None when there is nothing to share."""
    return 100.0 * part / whole if whole else None


def percentile(ordered: list[float], p: float) -> float | None:
    """PostgreSQL's percentile_cont over sorted values: linear between the closest ranks."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


class Figures:
    """Every figure of the dashboard for one question, each pass run on first use."""

    def __init__(self, filters: Filters, now: datetime | None = None) -> None:
        self.asked = filters  # with a figure's condition, for the list of cases
        f = filters  # the dashboard's own filters only: a figure's condition narrows a list
        self.filters = Filters(f.start, f.end, f.preset, f.by, f.category, f.product,
                               f.channel, f.priority)
        self.now = now or utcnow()
        self.previous = filters.with_period(filters.start - timedelta(days=filters.days),
                                            filters.start - timedelta(days=1))

    @cached_property
    def buckets(self) -> list[Bucket]:
        """The weeks or months of the period, in order."""
        f = self.filters
        starts = bucket_starts(f.start, f.end, f.by)
        ends = [day - timedelta(days=1) for day in starts[1:]] + [f.end]
        return [Bucket(s, e) for s, e in zip(starts, ends, strict=True)]

    # ---- pass 1: counts per bucket, the previous period as bucket -1 ---------------------

    @cached_property
    def by_bucket(self) -> dict[int, Counts]:
        """Counts per bucket index; -1 is the previous period."""
        r = CaseReport
        whens = [(r.received_at < instant(self.filters.start), -1)]
        whens += [(r.received_at < instant(b.end + timedelta(days=1)), index)
                  for index, b in enumerate(self.buckets[:-1])]
        bucket = case(*whens, else_=len(self.buckets) - 1).label("bucket")
        columns = [
            func.count().label("received"), _sum(r.is_open.is_(False)).label("closed"),
            _sum(r.escalation_level > 0).label("escalated"),
            _sum(r.reopen_count > 0).label("reopened"),
            func.count(r.satisfaction).label("rated"),
            func.coalesce(func.sum(r.satisfaction), 0).label("score_sum"),
            *(_sum(r.satisfaction == score).label(f"score{score}") for score in range(1, 6)),
            _sum(r.first_contact_resolution.is_(True)).label("fcr_yes"),
            func.count(r.first_contact_resolution).label("fcr_known"),
            _sum(r.outcome.in_(UPHELD)).label("upheld"),
            func.count(r.outcome).label("outcome_known"),
        ]
        for kind in TARGET_KINDS:
            column = getattr(r, f"{kind}_on_target")
            columns += [_sum(column.is_(True)).label(f"met_{kind}"),
                        func.count(column).label(f"known_{kind}")]
        span = self.filters.with_period(self.previous.start, self.filters.end)
        query = select(bucket, *columns).where(*conditions(span)).group_by(bucket)
        found: dict[int, Counts] = {}
        for row in db.session.execute(query).mappings():
            found[row["bucket"]] = Counts(
                received=row["received"], closed=row["closed"] or 0,
                escalated=row["escalated"] or 0, reopened=row["reopened"] or 0,
                rated=row["rated"], score_sum=int(row["score_sum"] or 0),
                scores={s: row[f"score{s}"] or 0 for s in range(1, 6)},
                fcr_yes=row["fcr_yes"] or 0, fcr_known=row["fcr_known"],
                upheld=row["upheld"] or 0, outcome_known=row["outcome_known"],
                met={k: row[f"met_{k}"] or 0 for k in TARGET_KINDS},
                known={k: row[f"known_{k}"] for k in TARGET_KINDS})
        return found

    @cached_property
    def current(self) -> Counts:
        """Counts over the whole period."""
        total = Counts()
        for index, counts in self.by_bucket.items():
            if index >= 0:
                total.add(counts)
        return total

    @cached_property
    def before(self) -> Counts:
        """Counts over the previous period of the same length."""
        return self.by_bucket.get(-1) or Counts()

    # ---- pass 2: volume by category, product and channel ---------------------------------

    @cached_property
    def breakdown(self) -> list[tuple[Any, ...]]:
        """(category, product, channel, cases) of the period."""
        r = CaseReport
        query = (select(r.category, r.product, r.channel, func.count())
                 .where(*conditions(self.filters))
                 .group_by(r.category, r.product, r.channel))
        return [tuple(row) for row in db.session.execute(query)]

    def volume(self, index: int) -> list[tuple[str | None, int]]:
        """Cases per value of one breakdown column (0 category, 1 product, 2 channel)."""
        counted: dict[str | None, int] = {}
        row: tuple[Any, ...]
        for row in self.breakdown:
            counted[row[index]] = counted.get(row[index], 0) + row[3]
        return sorted(counted.items(), key=lambda item: (-item[1], item[0] or ""))

    # ---- pass 3: outcomes, causes, compensation ------------------------------------------

    @cached_property
    def results(self) -> list[tuple[str | None, str | None, str | None, int, int, Decimal]]:
        """(outcome, cause, currency, cases, cases paid, amount paid) of the period."""
        r = CaseReport
        paid = r.remedy_amount > 0
        query = (select(r.outcome, r.cause, r.remedy_currency, func.count(), _sum(paid),
                        func.sum(case((paid, r.remedy_amount), else_=literal(0))))
                 .where(*conditions(self.filters))
                 .group_by(r.outcome, r.cause, r.remedy_currency))
        return [(o, c, cur, n, int(p or 0), Decimal(str(s or 0)))
                for o, c, cur, n, p, s in db.session.execute(query)]

    def outcomes(self) -> list[tuple[str | None, int]]:
        """Cases per outcome (None: no outcome yet)."""
        counted: dict[str | None, int] = {}
        for outcome, _cause, _cur, n, _p, _s in self.results:
            counted[outcome] = counted.get(outcome, 0) + n
        return sorted(counted.items(), key=lambda item: (item[0] is None, -item[1],
                                                         item[0] or ""))

    def causes(self) -> list[tuple[str, int]]:
        """Cases per root cause, most frequent first (the Pareto order)."""
        counted: dict[str, int] = {}
        for _outcome, cause, _cur, n, _p, _s in self.results:
            if cause:
                counted[cause] = counted.get(cause, 0) + n
        return sorted(counted.items(), key=lambda item: (-item[1], item[0]))

    def compensation(self) -> list[tuple[str, int, Decimal]]:
        """(currency, cases paid, amount paid) of the period, largest amount first."""
        paid: dict[str, tuple[int, Decimal]] = {}
        for _outcome, _cause, currency, _n, count, amount in self.results:
            if count:
                key = currency or ""
                before = paid.get(key, (0, Decimal(0)))
                paid[key] = (before[0] + count, before[1] + amount)
        return sorted(((c, n, a) for c, (n, a) in paid.items()), key=lambda x: (-x[2], x[0]))

    # ---- pass 4: times to acknowledge and resolve ----------------------------------------

    @cached_property
    def times(self) -> dict[tuple[str, str], Spread]:
        """(period "current" or "previous", "acknowledgement" or "resolution") -> Spread."""
        r = CaseReport
        span = self.filters.with_period(self.previous.start, self.filters.end)
        now_period = r.received_at >= instant(self.filters.start)
        kinds = {"acknowledgement": r.acknowledge_hours, "resolution": r.resolution_hours}
        found: dict[tuple[str, str], Spread] = {}
        if db.engine.dialect.name == "postgresql":
            columns = []
            for column in kinds.values():
                for part in (now_period, ~now_period):
                    columns += [func.count(column).filter(part),
                                func.percentile_cont(0.5).within_group(column).filter(part),
                                func.percentile_cont(0.9).within_group(column).filter(part)]
            row = db.session.execute(select(*columns).where(*conditions(span))).one()
            values = iter(row)
            for kind in kinds:
                for which in ("current", "previous"):
                    n, median, p90 = next(values), next(values), next(values)
                    found[(which, kind)] = Spread(n, median, p90)
            return found
        for kind, column in kinds.items():
            hours: dict[bool, list[float]] = {True: [], False: []}
            query = select(column, now_period).where(*conditions(span), column.is_not(None))
            for value, is_now in db.session.execute(query):
                hours[bool(is_now)].append(float(value or 0))  # never None here
            for which, is_now in (("current", True), ("previous", False)):
                ordered = sorted(hours[is_now])
                found[(which, kind)] = Spread(len(ordered), percentile(ordered, 0.5),
                                              percentile(ordered, 0.9))
        return found

    # ---- pass 5: the open backlog and the workload ---------------------------------------

    @cached_property
    def open_conditions(self) -> list[ColumnElement[bool]]:
        """The dashboard's filters over the cases open now."""
        return conditions(replace(self.filters, scope="open"), self.now)

    @cached_property
    def backlog(self) -> dict[tuple[str, str], int]:
        """(age band, "breached" or "on_track") -> open cases."""
        r = CaseReport
        whens = []
        for name, _low, high in AGE_BANDS:
            if high is not None:
                whens.append((r.received_at > self.now - timedelta(days=high), name))
        band = case(*whens, else_=AGE_BANDS[-1][0]).label("band")
        state = case((breached(), "breached"), else_="on_track").label("state")
        query = (select(band, state, func.count()).where(*self.open_conditions)
                 .group_by(band, state))
        return {(b, s): n for b, s, n in db.session.execute(query)}

    @cached_property
    def workload(self) -> list[tuple[int | None, int, int]]:
        """(owner id or None, open cases, of which breached) per owner."""
        r = CaseReport
        query = (select(r.owner_id, func.count(), _sum(breached()))
                 .where(*self.open_conditions).group_by(r.owner_id))
        return sorted(((o, n, int(b or 0)) for o, n, b in db.session.execute(query)),
                      key=lambda x: -x[1])

    @cached_property
    def role_workload(self) -> list[tuple[str, int, int]]:
        """(role, open cases owned by its holders, of which breached) per role."""
        r = CaseReport
        query = (select(user_roles.c.role_name, func.count(), _sum(breached()))
                 .join(user_roles, and_(user_roles.c.user_id == r.owner_id))
                 .where(*self.open_conditions).group_by(user_roles.c.role_name))
        return sorted(((role, n, int(b or 0)) for role, n, b in db.session.execute(query)),
                      key=lambda x: (-x[1], x[0]))
