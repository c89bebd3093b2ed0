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

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from ...extensions import db
from ...models import CaseReport, utcnow
from ...models.report import OUTCOMES, TARGET_KINDS
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
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGET_KINDS, 0))
    known: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGET_KINDS, 0))

    def add(self, other: Counts) -> None:
        """Add another bucket's counts to these."""
        for name in ("received", "closed", "escalated", "reopened", "rated", "score_sum",
                     "fcr_yes", "fcr_known", "upheld", "outcome_known"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("scores", "met", "known", "outcomes"):
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


def _count(condition: ColumnElement[bool]) -> Any:
    """How many rows meet a condition (0, never NULL, over no rows)."""
    return func.count().filter(condition)


class Figures:
    """Every figure of the dashboard for one question, each pass run on first use."""

    def __init__(self, filters: Filters, now: datetime | None = None) -> None:
        self.asked = filters  # with a figure's condition, for the list of cases
        f = filters  # the dashboard's own filters only: a figure's condition narrows a list
        self.filters = Filters(f.start, f.end, f.preset, f.by, f.category, f.product,
                               f.channel, f.priority, viewer=f.viewer)
        self.now = now or utcnow()
        self._volumes: dict[str, list[tuple[str | None, int]]] = {}
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
    # One plain aggregate per bucket over its received_at range: no GROUP BY, so no sort.

    @cached_property
    def by_bucket(self) -> dict[int, Counts]:
        """Counts per bucket index; -1 is the previous period (the headline's figures only:
        its scores and outcomes are not split)."""
        found = {-1: self._counts(self.previous, split=False)}
        for index, b in enumerate(self.buckets):
            found[index] = self._counts(self.filters.with_period(b.start, b.end), split=True)
        return found

    def _counts(self, span: Filters, split: bool) -> Counts:
        """One pass over a span's rows: every count as `count(*) FILTER (WHERE ...)`.

        FILTER costs SQLite and PostgreSQL less per row than sum(CASE ...), and all the
        columns read are in ix_case_report_period, so no table row is visited.
        """
        r = CaseReport
        columns = [
            func.count().label("received"), _count(r.is_open.is_(False)).label("closed"),
            _count(r.escalation_level > 0).label("escalated"),
            _count(r.reopen_count > 0).label("reopened"),
            func.count(r.satisfaction).label("rated"),
            func.coalesce(func.sum(r.satisfaction), 0).label("score_sum"),
            _count(r.first_contact_resolution.is_(True)).label("fcr_yes"),
            func.count(r.first_contact_resolution).label("fcr_known"),
        ]
        if split:
            columns += [*(_count(r.satisfaction == s).label(f"score{s}") for s in range(1, 6)),
                        *(_count(r.outcome == o).label(f"outcome_{o}") for o in OUTCOMES)]
        else:
            columns += [_count(r.outcome.in_(UPHELD)).label("upheld"),
                        func.count(r.outcome).label("outcome_known")]
        for kind in TARGET_KINDS:
            column = getattr(r, f"{kind}_on_target")
            columns += [_count(column.is_(True)).label(f"met_{kind}"),
                        func.count(column).label(f"known_{kind}")]
        row = db.session.execute(select(*columns).where(*conditions(span))).mappings().one()
        counts = Counts(
            received=row["received"], closed=row["closed"], escalated=row["escalated"],
            reopened=row["reopened"], rated=row["rated"], score_sum=int(row["score_sum"]),
            fcr_yes=row["fcr_yes"], fcr_known=row["fcr_known"],
            met={k: row[f"met_{k}"] for k in TARGET_KINDS},
            known={k: row[f"known_{k}"] for k in TARGET_KINDS})
        if split:
            counts.scores = {s: row[f"score{s}"] for s in range(1, 6)}
            counts.outcomes = {o: row[f"outcome_{o}"] for o in OUTCOMES}
            counts.upheld = sum(counts.outcomes[o] for o in UPHELD)
            counts.outcome_known = sum(counts.outcomes.values())
        else:
            counts.upheld, counts.outcome_known = row["upheld"], row["outcome_known"]
        return counts

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

    # ---- pass 2: volume per code, each over its own (code, received_at) index -------------

    def volume(self, field: str) -> list[tuple[str | None, int]]:
        """Cases per code of one column (category, product, channel, cause), most first."""
        if field not in self._volumes:
            column = getattr(CaseReport, field)
            query = (select(column, func.count()).where(*conditions(self.filters))
                     .group_by(column))
            self._volumes[field] = sorted(
                ((code, n) for code, n in db.session.execute(query)),
                key=lambda item: (-item[1], item[0] or ""))
        return self._volumes[field]

    def outcomes(self) -> list[tuple[str | None, int]]:
        """Cases per outcome (None: no outcome yet), most first."""
        now = self.current
        counted: list[tuple[str | None, int]] = [(o, n) for o, n in now.outcomes.items() if n]
        counted.sort(key=lambda item: (-item[1], item[0] or ""))
        if now.received - now.outcome_known:
            counted.append((None, now.received - now.outcome_known))
        return counted

    def causes(self) -> list[tuple[str, int]]:
        """Cases per root cause, most frequent first (the Pareto order)."""
        return [(code, n) for code, n in self.volume("cause") if code]

    # ---- pass 3: compensation ------------------------------------------------------------

    def compensation(self) -> list[tuple[str, int, Decimal]]:
        """(currency, cases paid, amount paid) of the period, largest amount first."""
        return self.paid

    @cached_property
    def paid(self) -> list[tuple[str, int, Decimal]]:
        """The compensation pass, run once."""
        r = CaseReport
        query = (select(r.remedy_currency, func.count(), func.sum(r.remedy_amount))
                 .where(*conditions(self.filters), r.remedy_amount > 0)
                 .group_by(r.remedy_currency))
        return sorted(((c or "", n, Decimal(str(a or 0))) for c, n, a in
                       db.session.execute(query)), key=lambda x: (-x[2], x[0]))

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
        # Both columns of a period in one pass over its rows, fetched whole from the DB-API
        # cursor (no row objects built in Python), each sorted here: one scan per period
        # instead of one per period and kind.
        for which, period in (("current", self.filters), ("previous", self.previous)):
            query = select(*kinds.values()).where(
                *conditions(period), or_(*(column.is_not(None) for column in kinds.values())))
            cursor = db.session.connection().execute(query).cursor
            assert cursor is not None
            rows = cursor.fetchall()
            for index, kind in enumerate(kinds):
                ordered = sorted([row[index] for row in rows if row[index] is not None])
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
        query = (select(r.owner_id, func.count(), _count(breached()))
                 .where(*self.open_conditions).group_by(r.owner_id))
        return sorted(((o, n, int(b or 0)) for o, n, b in db.session.execute(query)),
                      key=lambda x: -x[1])

    @cached_property
    def role_workload(self) -> list[tuple[str, int, int]]:
        """(role, open cases owned by its holders, of which breached) per role."""
        r = CaseReport
        query = (select(user_roles.c.role_name, func.count(), _count(breached()))
                 .join(user_roles, and_(user_roles.c.user_id == r.owner_id))
                 .where(*self.open_conditions).group_by(user_roles.c.role_name))
        return sorted(((role, n, int(b or 0)) for role, n, b in db.session.execute(query)),
                      key=lambda x: (-x[1], x[0]))
