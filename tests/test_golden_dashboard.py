"""Golden tests: every figure of the reports dashboard, on the golden data set.

The golden cases were made through the services (tests/support/golden.py); what each
must report is worked out by hand (tests/support/golden_facts.py), and each figure here
is aggregated from those facts with plain Python, then compared with the row the
dashboard (and so its CSV, XLSX and chart) shows. Codes are read from each row's
drill-down condition, so a row is matched to its code, not to its label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import User
from server.services.reports import BY_NAME
from server.services.reports.figures import Figures
from server.services.reports.filters import AGE_BANDS, Filters
from tests.support.golden import GoldenSet
from tests.support.golden_facts import UPHELD, Fact, fact, local_day, percent, spread

FIRST, LAST = date(2026, 2, 1), date(2026, 3, 31)  # the question: February and March
NOT_RECORDED = "-"
KINDS = ("acknowledgement", "response", "resolution")


@pytest.fixture
def facts(golden_app: Flask, golden_set: GoldenSet) -> list[Fact]:
    """What every golden case must report."""
    return [fact(e) for e in golden_set.expected]


@pytest.fixture
def table(golden_app: Flask) -> Iterator[Callable[..., list[dict[str, Any]]]]:
    """A report's rows as the dashboard shows them: column -> (value, drill condition)."""
    def rows(name: str, by: str = "month", now: datetime | None = None
             ) -> list[dict[str, Any]]:
        figures = Figures(Filters(FIRST, LAST, by=by), now)
        return [{key: (cell.value, cell.drill) for key, cell in row.items()}
                for row in BY_NAME[name].table(figures)]
    with golden_app.test_request_context("/reports"):
        yield rows


def within(facts: list[Fact], first: date, last: date) -> list[Fact]:
    """The cases received from `first` to `last` (organisation dates, both included)."""
    return [f for f in facts if f.received_in(first, last)]


def previous(facts: list[Fact]) -> list[Fact]:
    """The cases of the period of the same length just before the question's."""
    days = (LAST - FIRST).days + 1
    return within(facts, FIRST - timedelta(days=days), FIRST - timedelta(days=1))


def close(a: float | None, b: float | None) -> bool:
    """Equal, or both missing; floats to a hundredth of an hour or percent."""
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) < 0.005


def key_figures(cases: list[Fact]) -> dict[str, float | None]:
    """The headline's figures over some cases, from the facts."""
    closed = [f for f in cases if not f.exp.is_open]
    rated = [f.exp.satisfaction for f in cases if f.exp.satisfaction is not None]
    with_outcome = [f for f in cases if f.exp.outcome is not None]
    fcr = [f.first_contact for f in cases if f.first_contact is not None]
    found: dict[str, float | None] = {
        "Complaints received": len(cases), "Of which closed": len(closed)}
    for kind in KINDS:
        known = [f.on_target[kind] for f in cases if f.on_target[kind] is not None]
        found[f"{kind.capitalize()} on target"] = percent(sum(known), len(known))
    for title, hours in (("Median hours to acknowledge", "acknowledge_hours"),
                         ("Median hours to resolve", "resolution_hours")):
        found[title] = spread([getattr(f, hours) for f in cases
                               if getattr(f, hours) is not None])[1]
    found.update({
        "Escalation rate": percent(sum(f.exp.escalation_level > 0 for f in cases), len(cases)),
        "Reopen rate": percent(sum(f.exp.reopen_count > 0 for f in cases), len(cases)),
        "Upheld (fully or partly)": percent(sum(f.exp.outcome in UPHELD for f in with_outcome),
                                            len(with_outcome)),
        "Resolved at first contact": percent(sum(fcr), len(fcr)),
        "Satisfaction survey response rate": percent(len(rated), len(closed)),
        "Mean satisfaction (1-5)": sum(rated) / len(rated) if rated else None})
    return found


def test_the_key_figures_and_their_change_from_the_previous_period(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]]) -> None:
    now, before = key_figures(within(facts, FIRST, LAST)), key_figures(previous(facts))
    shown = {row["figure"][0]: row for row in table("headline")}
    assert list(shown) == list(now)
    for title, row in shown.items():
        assert close(row["current"][0], now[title]), title
        assert close(row["previous"][0], before[title]), title
        expected_change = None if now[title] is None or before[title] is None \
            else now[title] - before[title]  # type: ignore[operator]
        assert close(row["change"][0], expected_change), title
    assert 0 < now["Escalation rate"] < 100  # type: ignore[operator]
    assert now["Satisfaction survey response rate"] not in (None, 0, 100)


def test_volume_by_month_and_by_week(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]]) -> None:
    cases = within(facts, FIRST, LAST)
    months = table("volume-by-period")
    assert [row["received"][0] for row in months] == [
        len([f for f in cases if local_day(f.exp.received_at).month == m]) for m in (2, 3)]
    assert [row["closed"][0] for row in months] == [
        len([f for f in cases if local_day(f.exp.received_at).month == m
             and not f.exp.is_open]) for m in (2, 3)]
    weeks = table("volume-by-period", by="week")
    starts = [date.fromisoformat(row["received"][1]["from"]) for row in weeks]
    assert starts[0] == FIRST and all(d.weekday() == 0 for d in starts[1:])
    for row in weeks:
        first, last = (date.fromisoformat(row["received"][1][k]) for k in ("from", "to"))
        inside = within(facts, first, last)
        assert row["received"][0] == len(inside), first
        assert row["closed"][0] == sum(not f.exp.is_open for f in inside), first
    assert sum(row["received"][0] for row in weeks) == len(cases)


def counted(rows: list[dict[str, Any]], field: str, column: str = "received"
            ) -> dict[str, int]:
    """A table's counts by the code in each row's drill-down condition."""
    return {row[column][1][field]: row[column][0] for row in rows}


@pytest.mark.parametrize("field", ["category", "product", "channel"])
def test_volume_by_category_product_and_channel(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]], field: str) -> None:
    cases = within(facts, FIRST, LAST)
    expected = Counter(getattr(f.exp, field) or NOT_RECORDED for f in cases)
    rows = table(f"volume-by-{field}")
    assert counted(rows, field) == dict(expected)
    counts = [row["received"][0] for row in rows]
    assert counts == sorted(counts, reverse=True)  # most first
    for row in rows:
        assert close(row["share"][0], percent(row["received"][0], len(cases)))


def test_deadlines_on_target_and_hours_per_kind(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]]) -> None:
    cases = within(facts, FIRST, LAST)
    hours = {"acknowledgement": "acknowledge_hours", "resolution": "resolution_hours"}
    rows = table("deadlines")
    assert len(rows) == len(KINDS)
    for kind, row in zip(KINDS, rows, strict=True):
        flags = [f.on_target[kind] for f in cases if f.on_target[kind] is not None]
        met, missed = sum(flags), len(flags) - sum(flags)
        assert (row["met"][0], row["missed"][0]) == (met, missed), kind
        assert close(row["on_target"][0], percent(met, len(flags))), kind
        if kind in hours:
            n, median, p90 = spread([getattr(f, hours[kind]) for f in cases
                                     if getattr(f, hours[kind]) is not None])
        else:  # the response is not timed on the dashboard
            n, median, p90 = None, None, None  # type: ignore[assignment]
        assert row["timed"][0] == n, kind
        assert close(row["median"][0], median) and close(row["p90"][0], p90), kind
    assert rows[2]["missed"][0] > 0 and rows[0]["missed"][0] > 0


def test_outcomes_root_causes_satisfaction_and_compensation(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]]) -> None:
    cases = within(facts, FIRST, LAST)
    outcomes = Counter(f.exp.outcome or NOT_RECORDED for f in cases)
    rows = table("outcomes")
    assert counted(rows, "outcome") == dict(outcomes)
    assert all(close(r["share"][0], percent(r["received"][0], len(cases))) for r in rows)
    causes = Counter(f.exp.cause for f in cases if f.exp.cause)
    pareto = table("root-causes")
    assert [(r["received"][1]["cause"], r["received"][0]) for r in pareto] == sorted(
        causes.items(), key=lambda item: (-item[1], item[0]))
    running = 0
    for row in pareto:
        running += row["received"][0]
        assert close(row["share"][0], percent(row["received"][0], sum(causes.values())))
        assert close(row["cumulative"][0], percent(running, sum(causes.values())))
    scores = Counter(f.exp.satisfaction for f in cases if f.exp.satisfaction is not None)
    satisfaction = table("satisfaction")
    assert {int(r["score"][0]): r["received"][0] for r in satisfaction} == \
        {s: scores[s] for s in range(1, 6)}
    paid = [f for f in cases if (f.remedy_amount or 0) > 0]
    [row] = table("compensation")
    assert (row["currency"][0], row["paid"][0]) == ("SAR", len(paid))
    assert row["amount"][0] == sum((f.remedy_amount for f in paid), Decimal(0))  # type: ignore[misc]


def band(age: timedelta) -> str:
    """The backlog's age band of a case received `age` ago (calendar days)."""
    return next(name for name, low, high in AGE_BANDS
                if age >= timedelta(days=low) and (high is None or age < timedelta(days=high)))


def test_the_open_backlog_by_age_and_deadline_state_and_the_workload(
        facts: list[Fact], table: Callable[..., list[dict[str, Any]]]) -> None:
    now = max(f.exp.received_at for f in facts) + timedelta(days=1, minutes=30)
    open_now = [f for f in facts if f.exp.is_open]
    expected = Counter((band(now - f.exp.received_at), f.breached) for f in open_now)
    rows = table("backlog", now=now)
    assert [name for name, _low, _high in AGE_BANDS] == [r["total"][1]["age"] for r in rows]
    for row in rows:
        name = row["total"][1]["age"]
        assert row["breached"][0] == expected[(name, True)], name
        assert row["on_track"][0] == expected[(name, False)], name
        assert row["total"][0] == expected[(name, True)] + expected[(name, False)], name
    assert sum(r["breached"][0] for r in rows) > 0
    assert len({r["total"][0] for r in rows}) > 2  # the cases spread over the bands
    names = dict(db.session.execute(select(User.id, User.username)).all())
    owners = Counter(f.exp.owner for f in open_now)
    late = Counter(f.exp.owner for f in open_now if f.breached)
    workload = table("workload", now=now)
    assert {names.get(int(r["open"][1]["owner"])) if r["open"][1]["owner"] != "-"
            else None: (r["open"][0], r["breached"][0]) for r in workload} == \
        {owner: (n, late[owner]) for owner, n in owners.items()}
    [handlers] = [r for r in table("workload-by-role", now=now) if r["open"][1]["role"]
                  == "handler"]
    assert (handlers["open"][0], handlers["breached"][0]) == (
        sum(n for o, n in owners.items() if o), sum(n for o, n in late.items() if o))
