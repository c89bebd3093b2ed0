"""Golden tests: the regulator return and the ISO 10002 evidence, on the golden data set.

The golden cases were made through the services (tests/support/golden.py), so their
reporting rows come from the write path; each figure here is computed independently from
what the builder says each case must show, with plain Python.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask

from server.services import conformance, returns
from server.services.report_period import Period
from tests.support.golden import GoldenSet

RIYADH = ZoneInfo("Asia/Riyadh")
UPHELD = {"upheld", "partly_upheld"}


def months(golden_set: GoldenSet) -> list[Period]:
    """Each calendar month the golden cases were received in."""
    seen = sorted({(e.received_at.astimezone(RIYADH).year, e.received_at.astimezone(RIYADH).month)
                   for e in golden_set.expected})
    periods = []
    for year, month in seen:
        following = date(year + month // 12, month % 12 + 1, 1)
        periods.append(Period(date(year, month, 1), date.fromordinal(following.toordinal() - 1),
                              RIYADH))
    return periods


def test_the_complaints_return_counts_each_month_as_the_cases_were_made(
        golden_app: Flask, golden_set: GoldenSet) -> None:
    periods = months(golden_set)
    assert len(periods) >= 2
    upheld_seen = 0
    for period in periods:
        [table] = returns.build("fca_disp1", period)
        total = table.rows[-1]
        start, end = period.start, period.end
        touched = [e for e in golden_set.expected if e.received_at < end
                   and (e.closed_at is None or e.closed_at >= start)]
        closed = [e for e in touched if e.closed_at is not None and e.closed_at < end]
        assert total["opened"] == sum(e.received_at >= start for e in touched), period
        assert total["outstanding_at_start"] == sum(e.received_at < start for e in touched)
        assert total["closed"] == len(closed)
        assert total["upheld"] == sum(e.outcome in UPHELD for e in closed)
        upheld_seen += total["upheld"]
        assert total["outstanding_at_end"] == len(touched) - len(closed)
        assert Decimal(total["redress_paid"]) == sum(
            (e.remedy_amount or Decimal(0) for e in closed), Decimal(0))
        assert total["closed_within_3_days"] + total["closed_within_8_weeks"] + \
            total["closed_later"] == len(closed)
    assert upheld_seen > 0  # the set exercises the figures, not only zeros


def test_the_satisfaction_evidence_is_the_survey_response_rate_and_mean(
        golden_app: Flask, golden_set: GoldenSet) -> None:
    measured = 0
    for period in months(golden_set):
        closed = [e for e in golden_set.expected if e.closed_at is not None
                  and period.start <= e.closed_at < period.end]
        if not closed:
            continue
        scores = [e.satisfaction for e in closed if e.satisfaction is not None]
        [item] = [ev for ev in conformance.evidence(period) if ev.item.ref == "8.3"]
        figures = dict(item.figures)
        assert figures["Survey response rate"] == \
            f"{round(100 * len(scores) / len(closed), 1):.1f}%"
        mean = f"{sum(scores) / len(scores):.1f}" if scores else "—"
        assert figures["Mean satisfaction score (1 to 5)"] == mean
        measured += len(scores)
    assert measured > 0
