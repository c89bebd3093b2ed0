"""The reports dashboard (/reports): every figure, the filters, the cases behind each figure,
the CSV and XLSX exports, and who may see them.

A seeded set of cases is started through the services and given reporting facts (the
case_report row the write path keeps); each test computes what a figure must be from
those facts, independently of the reports' code, and reads what a manager would see:
the downloads, the page and the list of cases behind a figure. Runs on SQLite and
PostgreSQL (percentiles are computed differently there: in SQL).
"""

from __future__ import annotations

import csv
import io
import random
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import delete, insert, select

from server.extensions import db
from server.models import CaseReport, User, utcnow
from server.services import cases
from server.services.actors import Actor
from tests.support.data import INTAKE
from tests.support.web import AuthActions, make_user

ACTOR = Actor.system("test-reports")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
CATEGORIES = ("billing", "delay", "service_quality", "staff_conduct")
PRODUCTS = ("current_account", "credit_card", "mortgage")
CHANNELS = ("web", "phone", "email")
OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn", None)
CAUSES = ("system_error", "staff_error", "policy", "third_party", "communication")
_CASE = re.compile(r'<a href="/cases/(CMP-\d{4}-\d{6})">')


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def facts(seed: int = 14) -> list[dict[str, Any]]:
    """Reporting facts of 36 cases: 26 received in March 2026 (Riyadh time), 10 in the 31
    days before; then 6 open now, received 1 to 70 days ago."""
    pick = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(36):
        if n < 26:
            received = at("2026-03-01T00:00:00") + timedelta(hours=pick.randrange(0, 740))
        else:
            received = at("2026-01-29T00:00:00") + timedelta(hours=pick.randrange(0, 740))
        closed = pick.random() < 0.85
        row = {
            "received_at": received, "is_open": not closed,
            "closed_at": received + timedelta(days=9) if closed else None,
            "priority": pick.choice(("low", "medium", "high")),
            "category": pick.choice(CATEGORIES), "product": pick.choice(PRODUCTS),
            "channel": pick.choice(CHANNELS),
            "cause": pick.choice(CAUSES) if closed and pick.random() < 0.9 else None,
            "outcome": pick.choice(OUTCOMES) if closed else None,
            "acknowledge_hours": round(pick.uniform(0.5, 30), 2),
            "resolution_hours": round(pick.uniform(10, 200), 2) if closed else None,
            "acknowledgement_on_target": pick.random() < 0.8,
            "response_on_target": pick.choice((True, False, None)),
            "resolution_on_target": (pick.random() < 0.7) if closed else None,
            "escalation_level": pick.choice((0, 0, 0, 1, 2)),
            "reopen_count": pick.choice((0, 0, 0, 0, 1)),
            "first_contact_resolution": pick.choice((True, False, None)),
            "satisfaction": pick.choice((1, 2, 3, 4, 5, None)) if closed else None,
            "remedy_amount": Decimal(pick.choice(("0", "150.00", "99.50"))) if closed
            else None,
            "remedy_currency": pick.choice(("SAR", "SAR", "AED")),
        }
        rows.append(row)
    # The first March case arrives at 01:00 in Riyadh on 1 March (22:00 UTC the day before).
    rows[0]["received_at"] = at("2026-02-28T22:00:00")
    now = utcnow()
    for n, days in enumerate((1, 5, 10, 20, 45, 70)):
        rows.append({"received_at": now - timedelta(days=days, hours=1), "is_open": True,
                     "priority": "high", "category": CATEGORIES[n % 4], "product": "mortgage",
                     "channel": "web", "acknowledge_hours": 2.0,
                     "acknowledgement_on_target": True,
                     "resolution_on_target": False if n % 2 else None,
                     "owner": "hana" if n < 3 else ("omar" if n < 5 else None)})
    return rows


def add(rows: list[dict[str, Any]]) -> list[str]:
    """Start a case for each row and give it those reporting facts; the references."""
    owners = {u.username: u.id for u in db.session.query(User).all()}
    references = []
    for row in rows:
        case = cases.start_case({**INTAKE, "complainant_name": "Layla Haddad"}, "web",
                                ACTOR).case
        values = {k: v for k, v in row.items() if k not in ("owner", "reference")}
        values["owner_id"] = owners.get(row.get("owner") or "")
        # The write path may have written a row already: the test's facts replace it.
        db.session.execute(delete(CaseReport).where(CaseReport.case_id == case.id))
        db.session.execute(insert(CaseReport).values(case_id=case.id, **values))
        db.session.commit()
        references.append(case.reference)
    return references


@pytest.fixture
def seeded(app: Flask, auth: AuthActions) -> list[dict[str, Any]]:
    """The facts, each with the reference of its case; a complaints manager signed in."""
    with app.app_context():
        make_user("hana", "handler")
        make_user("omar", "handler", "supervisor")
        rows = facts()
        for row, reference in zip(rows, add(rows), strict=True):
            row["reference"] = reference
    auth.login("maya", "complaints_manager")
    return rows


def march(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start, end = at("2026-02-28T21:00:00"), at("2026-03-31T21:00:00")  # Riyadh is UTC+3
    return [r for r in rows if start <= r["received_at"] < end]


def before(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start, end = at("2026-01-28T21:00:00"), at("2026-02-28T21:00:00")
    return [r for r in rows if start <= r["received_at"] < end]


def report(client: FlaskClient, name: str, **args: str) -> list[list[str]]:
    """The rows of a report's CSV download, under its header row."""
    answer = client.get(f"/reports/{name}.csv", query_string=args)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    header = next(i for i, line in enumerate(lines) if len(line) > 1)
    return lines[header + 1:]


def behind(client: FlaskClient, args: dict[str, str]) -> set[str]:
    """The references the drill-down lists (every page)."""
    found: set[str] = set()
    page = 1
    while True:
        answer = client.get("/reports/cases", query_string={**args, "page": page})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        listed = set(_CASE.findall(answer.get_data(as_text=True)))
        if not listed - found:
            return found
        found |= listed
        page += 1


def drill_links(page: str, table: str) -> list[dict[str, str]]:
    """The query arguments of each figure's link in one report's table."""
    from urllib.parse import parse_qsl, urlsplit
    body = page.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    return [dict(parse_qsl(urlsplit(href.replace("&amp;", "&")).query))
            for href in re.findall(r'href="(/reports/cases\?[^"]+)"', body)]


def cont(values: list[float], p: float) -> float:
    """Percentile, linear between closest ranks (Python's 'inclusive' quantiles)."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(p * 100) - 1]


def pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 2)


def test_volume_by_category_product_channel_and_period_counts_march_in_riyadh_time(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    cohort = march(seeded)
    assert len(cohort) == 26 and seeded[0] in cohort  # 22:00 UTC on 28 Feb is March
    for name, field in (("volume-by-category", "category"), ("volume-by-product", "product"),
                        ("volume-by-channel", "channel")):
        counted = Counter(r[field] for r in cohort)
        got = {line[0]: (int(line[1]), float(line[2])) for line in report(client, name,
                                                                         **MARCH)}
        assert sorted(n for n, _share in got.values()) == sorted(counted.values()), name
        assert sum(n for n, _ in got.values()) == 26
        for _title, (n, share) in got.items():
            assert share == pytest.approx(pct(n, 26), abs=0.01)
    periods = report(client, "volume-by-period", **MARCH, by="week")
    assert sum(int(line[1]) for line in periods) == 26
    assert periods[0][0] == "Week of 2026-03-01"  # a Sunday: the period's own start first
    assert periods[1][0] == "Week of 2026-03-02"
    monthly = report(client, "volume-by-period", **MARCH)
    assert [(m[0], int(m[1]), int(m[2])) for m in monthly] == [
        ("2026-03", 26, sum(not r["is_open"] for r in cohort))]


def test_deadlines_show_met_missed_share_median_and_p90(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    cohort = march(seeded)
    lines = {line[0]: line for line in report(client, "deadlines", **MARCH)}
    for title, kind, hours in (("Acknowledgement", "acknowledgement", "acknowledge_hours"),
                               ("Response", "response", None),
                               ("Resolution", "resolution", "resolution_hours")):
        flags = [r[f"{kind}_on_target"] for r in cohort if r[f"{kind}_on_target"] is not None]
        line = lines[title]
        assert int(line[1]) == sum(flags) and int(line[2]) == len(flags) - sum(flags)
        assert float(line[3]) == pytest.approx(pct(sum(flags), len(flags)), abs=0.01)
        if hours:
            values = sorted(r[hours] for r in cohort if r[hours] is not None)
            assert int(line[4]) == len(values)
            assert float(line[5]) == pytest.approx(statistics.median(values), abs=0.01)
            assert float(line[6]) == pytest.approx(cont(values, 0.9), abs=0.01)


def test_outcomes_pareto_satisfaction_and_compensation(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    cohort = march(seeded)
    outcomes = {line[0]: int(line[1]) for line in report(client, "outcomes", **MARCH)}
    expected = Counter(r["outcome"] for r in cohort)
    assert outcomes.get("Upheld", 0) == expected["upheld"]
    assert outcomes.get("Partly upheld", 0) == expected["partly_upheld"]
    assert outcomes.get("Not recorded", 0) == expected[None]
    pareto = report(client, "root-causes", **MARCH)
    causes = Counter(r["cause"] for r in cohort if r["cause"])
    total = sum(causes.values())
    counts = [int(line[1]) for line in pareto]
    assert counts == sorted(causes.values(), reverse=True)
    running = 0
    for line, n in zip(pareto, counts, strict=True):
        running += n
        assert float(line[3]) == pytest.approx(pct(running, total), abs=0.01)
    assert float(pareto[-1][3]) == 100.0
    scores = {int(line[0]): int(line[1]) for line in report(client, "satisfaction", **MARCH)}
    assert scores == {s: sum(r["satisfaction"] == s for r in cohort) for s in range(1, 6)}
    paid = {line[0]: (int(line[1]), Decimal(line[2]))
            for line in report(client, "compensation", **MARCH)}
    for currency in ("SAR", "AED"):
        rows = [r for r in cohort if r["remedy_currency"] == currency
                and (r["remedy_amount"] or 0) > 0]
        if rows:
            assert paid[currency] == (len(rows), sum(r["remedy_amount"] for r in rows))


def test_key_figures_compare_with_the_previous_period(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    now, then = march(seeded), before(seeded)
    assert len(then) == 10
    lines = {line[0]: line for line in report(client, "headline", **MARCH)}

    def check(title: str, current: float | None, previous: float | None) -> None:
        line = lines[title]
        assert float(line[1]) == pytest.approx(current, abs=0.01), title
        assert float(line[2]) == pytest.approx(previous, abs=0.01), title
        assert float(line[3]) == pytest.approx(current - previous, abs=0.02), title

    check("Complaints received", 26, 10)

    def rate(rows: list[dict[str, Any]], test: Any, among: Any = None) -> float:
        pool = [r for r in rows if among is None or among(r)]
        return pct(sum(1 for r in pool if test(r)), len(pool))

    check("Escalation rate", rate(now, lambda r: r["escalation_level"] > 0),
          rate(then, lambda r: r["escalation_level"] > 0))
    check("Reopen rate", rate(now, lambda r: r["reopen_count"] > 0),
          rate(then, lambda r: r["reopen_count"] > 0))
    known = lambda r: r["outcome"] is not None  # noqa: E731
    check("Upheld (fully or partly)",
          rate(now, lambda r: r["outcome"] in ("upheld", "partly_upheld"), known),
          rate(then, lambda r: r["outcome"] in ("upheld", "partly_upheld"), known))
    check("Resolution on target",
          rate(now, lambda r: r["resolution_on_target"],
               lambda r: r["resolution_on_target"] is not None),
          rate(then, lambda r: r["resolution_on_target"],
               lambda r: r["resolution_on_target"] is not None))
    check("Median hours to resolve",
          statistics.median(r["resolution_hours"] for r in now if r["resolution_hours"]),
          statistics.median(r["resolution_hours"] for r in then if r["resolution_hours"]))
    closed_now = [r for r in now if not r["is_open"]]
    closed_then = [r for r in then if not r["is_open"]]
    check("Satisfaction survey response rate",
          rate(closed_now, lambda r: r["satisfaction"] is not None),
          rate(closed_then, lambda r: r["satisfaction"] is not None))
    scored = [r["satisfaction"] for r in now if r["satisfaction"]]
    scored_then = [r["satisfaction"] for r in then if r["satisfaction"]]
    check("Mean satisfaction (1-5)", statistics.mean(scored), statistics.mean(scored_then))


def test_backlog_and_workload_count_the_cases_open_now(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    open_now = [r for r in seeded if r["is_open"]]
    bands = {line[0]: (int(line[1]), int(line[2]), int(line[3]))
             for line in report(client, "backlog", **MARCH)}
    assert sum(total for _on, _late, total in bands.values()) == len(open_now)
    # The six recent cases fall one in each band; March's open ones are over 61 days old.
    recent_late = {"0-2": 0, "3-7": 1, "8-14": 0, "15-30": 1, "31-60": 0}
    for band, late in recent_late.items():
        assert bands[f"{band} days"] == (1 - late, late, 1), band
    old = [r for r in open_now if r["received_at"] < utcnow() - timedelta(days=61)]
    old_late = sum(1 for r in old if False in (r.get("acknowledgement_on_target"),
                                              r.get("response_on_target"),
                                              r.get("resolution_on_target")))
    assert bands["61+ days"] == (len(old) - old_late, old_late, len(old))
    workload = {line[0]: (int(line[1]), int(line[2]))
                for line in report(client, "workload", **MARCH)}
    assert workload["Hana"] == (3, 1) and workload["Omar"] == (2, 1)
    assert workload["Nobody yet"][0] == len(open_now) - 5
    teams = {line[0]: int(line[1]) for line in report(client, "workload-by-role", **MARCH)}
    assert teams == {"Handler": 5, "Supervisor": 2}


def test_filters_narrow_every_figure_and_bad_values_say_what_to_fix(
        client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    cohort = [r for r in march(seeded) if r["channel"] == "phone" and r["priority"] == "high"]
    lines = report(client, "volume-by-category", **MARCH, channel="phone", priority="high")
    assert sum(int(line[1]) for line in lines) == len(cohort)
    billing = [r for r in march(seeded) if r["category"] == "billing"]
    lines = report(client, "volume-by-product", **MARCH, category="billing")
    assert sum(int(line[1]) for line in lines) == len(billing)
    answer = client.get("/reports", query_string={"from": "2026-03-31", "to": "2026-03-01",
                                                  "channel": "fax", "preset": "someday"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The end of the period comes before its start." in page
    assert "Choose a channel from the list." in page
    assert "Choose a period from the list." in page
    assert 'value="2026-03-31"' in page  # what was typed is kept
    answer = client.get("/reports", query_string={"from": "2026-02-30"})
    assert answer.status_code == 400
    assert "Give a date as YYYY-MM-DD" in answer.get_data(as_text=True)
    assert client.get("/reports/volume-by-category.csv",
                      query_string={"priority": "whenever"}).status_code == 400
    assert client.get("/reports/no-such-report.csv").status_code == 404


def test_every_figure_on_the_page_links_to_exactly_the_cases_behind_it(
        app: Flask, client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    with app.app_context():
        hana_id = db.session.scalar(select(User.id).where(User.username == "hana"))
    page = client.get("/reports", query_string=MARCH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<canvas id="chart-root-causes"' in html and 'id="report-charts"' in html
    assert '<th scope="col">' in html and "<caption" in html
    cohort = march(seeded)
    # Each category's count links to its cases.
    for args in drill_links(html, "volume-by-category"):
        expected = {r["reference"] for r in cohort if r["category"] == args["category"]}
        assert behind(client, args) == expected
    # Root causes; resolution deadlines missed; the backlog's late cases; Hana's workload.
    for args in drill_links(html, "root-causes"):
        assert behind(client, args) == {r["reference"] for r in cohort
                                        if r["cause"] == args["cause"]}
    missed = next(a for a in drill_links(html, "deadlines")
                  if a.get("target") == "resolution.missed")
    assert behind(client, missed) == {r["reference"] for r in cohort
                                      if r["resolution_on_target"] is False}
    late = next(a for a in drill_links(html, "backlog")
                if a.get("age") == "3-7" and a.get("sla") == "breached")
    assert behind(client, late) == {seeded[-5]["reference"]}
    hana = next(a for a in drill_links(html, "workload")
                if a["owner"] == str(hana_id) and "sla" not in a)
    assert behind(client, hana) == {r["reference"] for r in seeded[-6:-3]}
    # The previous period's figure lists the previous period's cases.
    escalated = [a for a in drill_links(html, "headline") if a.get("escalated")]
    assert behind(client, escalated[1]) == {r["reference"] for r in before(seeded)
                                            if r["escalation_level"] > 0}


def test_a_not_recorded_row_links_to_exactly_the_cases_without_a_value(
        app: Flask, client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    with app.app_context():
        blank = {**seeded[1], "received_at": at("2026-03-06T09:00:00"), "category": None,
                 "product": None, "is_open": False, "outcome": None,
                 "remedy_amount": Decimal("40.00"), "remedy_currency": None}
        refs = add([blank, {**blank, "received_at": at("2026-03-07T09:00:00")}])
    cohort = march(seeded)
    html = client.get("/reports", query_string=MARCH).get_data(as_text=True)
    for table, name, expected in (
            ("volume-by-category", "category", set(refs)),
            ("volume-by-product", "product", set(refs)),
            ("outcomes", "outcome",
             set(refs) | {r["reference"] for r in cohort if r["outcome"] is None}),
            ("compensation", "currency", set(refs))):
        [link] = [a for a in drill_links(html, table) if a.get(name) == "-"]
        assert behind(client, link) == expected, table
    # Every row of those tables links, and the rows' cases add up to the whole period.
    rows = drill_links(html, "volume-by-category")
    assert len(rows) == len({r["category"] for r in cohort}) + 1
    assert sum(len(behind(client, a)) for a in rows) == len(cohort) + 2


def test_reports_download_as_csv_and_xlsx_with_formula_like_text_made_safe(
        app: Flask, client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    with app.app_context():
        add([{**seeded[1], "received_at": at("2026-03-05T09:00:00"),
              "cause": "=HYPERLINK(1)", "is_open": False}])
    lines = report(client, "root-causes", **MARCH)
    assert any(line[0].startswith("'=") for line in lines)  # shown as text, not run
    answer = client.get("/reports/root-causes.xlsx", query_string=MARCH)
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(answer.data), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(cells) if row[0] == "Root cause")
    body = cells[header + 1:]
    assert [row[1] for row in body] == [int(line[1]) for line in lines]
    assert all(isinstance(row[1], int) for row in body)  # numbers stay numbers
    assert any(str(row[0]).startswith("'=") for row in body)
    listed = client.get("/reports/cases.csv", query_string={**MARCH, "cause": "policy"})
    refs = {line[0] for line in csv.reader(io.StringIO(listed.get_data(as_text=True)))
            if line and line[0].startswith("CMP-")}
    assert refs == {r["reference"] for r in march(seeded) if r["cause"] == "policy"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role,allowed", [("complaints_manager", True), ("supervisor", True),
                                          ("auditor", True), ("handler", False),
                                          ("process_owner", False), ("admin", False)])
def test_reports_are_for_managers_supervisors_and_auditors(
        client: FlaskClient, auth: AuthActions, role: str, allowed: bool) -> None:
    auth.login("someone", role)
    for path in ("/reports", "/reports/cases", "/reports/outcomes.csv",
                 "/reports/outcomes.xlsx", "/reports/cases.xlsx"):
        assert client.get(path).status_code == (200 if allowed else 403), path
    menu = client.get("/tasks" if role == "handler" else "/").get_data(as_text=True)
    assert ('href="/reports"' in menu) is allowed


def test_the_page_is_the_same_whether_its_queries_run_at_once_or_in_turn(
        app: Flask, client: FlaskClient, seeded: list[dict[str, Any]]) -> None:
    """The dashboard runs its passes on several connections at once (PLAINT_REPORT_WORKERS);
    every figure, chart and link is what running them one after another gives."""
    token = re.compile(r'name="csrf_token" value="[^"]*"|<meta name="csrf-token"[^>]*>')
    pages = {}
    client.get("/reports")  # the sign-in's flash message is shown once, here
    for workers in (1, 4):
        app.config["PLAINT_REPORT_WORKERS"] = workers
        answer = client.get("/reports", query_string={**MARCH, "category": "billing"})
        assert answer.status_code == 200
        pages[workers] = token.sub("", answer.get_data(as_text=True))
    assert pages[1] == pages[4]
    assert 'id="table-root-causes"' in pages[4]  # the page held figures, not an error
