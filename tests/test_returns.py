"""Regulator returns: every figure equals what the test computes from the rows it inserted.

The rows are inserted with known facts (tests/support/report_rows.py); expected values
are computed here with plain Python from those rows, not through the services.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.support.report_rows import Row, at, insert
from tests.support.web import AuthActions

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
# Riyadh is UTC+3: March 2026 there is these UTC instants.
START, END = datetime(2026, 2, 28, 21, tzinfo=UTC), datetime(2026, 3, 31, 21, tzinfo=UTC)
SLA_HOURS = 5 * 8  # 5 working days of the default calendar's 8-hour day
# How long each closed complaint took, worked out by hand from the calendar (Sun-Thu).
BUCKET = {"A": "closed_within_8_weeks", "B": "closed_within_3_days",
          "C": "closed_within_8_weeks", "F": "closed_later", "I": "closed_within_3_days",
          "J": "closed_within_8_weeks"}


def rows() -> dict[str, Row]:
    """Ten complaints around March 2026 (UTC times)."""
    return {
        "A": Row("2026-02-20T09:00", closed="2026-03-05T09:00", responded="2026-02-22T09:00",
                 response_hours=12, product="card", cause="delay", outcome="upheld",
                 remedy=("100.00", "SAR"), satisfaction=5, acknowledgement_on_target=True),
        "B": Row("2026-03-01T07:00", closed="2026-03-02T09:00", responded="2026-03-02T07:00",
                 response_hours=8, product="card", cause="delay", outcome="not_upheld",
                 satisfaction=4, acknowledgement_on_target=True),
        "C": Row("2026-03-03T09:00", closed="2026-03-25T09:00", responded="2026-03-10T09:00",
                 response_hours=50, product="loan", cause="staff", outcome="partly_upheld",
                 remedy=("50.00", "SAR"), satisfaction=2, reopen_count=1,
                 acknowledgement_on_target=False),
        "D": Row("2026-03-10T09:00", response_on_target=False, product="loan", cause="staff",
                 acknowledgement_on_target=True, channel="phone"),
        "E": Row("2026-03-15T09:00", responded="2026-03-16T09:00", response_hours=8,
                 product="card", cause="delay", acknowledgement_on_target=True),
        "F": Row("2026-01-01T09:00", closed="2026-03-20T09:00", responded="2026-01-05T09:00",
                 response_hours=30, product="loan", cause="staff", outcome="upheld",
                 remedy=("20.00", "USD")),
        "G": Row("2026-01-10T09:00"),
        "H": Row("2026-04-02T09:00", product="card", cause="delay"),
        "I": Row("2026-02-25T09:00", closed="2026-02-26T09:00", responded="2026-02-26T09:00",
                 response_hours=6, product="card", cause="delay", outcome="upheld"),
        "J": Row("2026-03-20T09:00", closed="2026-04-05T09:00", responded="2026-03-22T09:00",
                 response_hours=16, product="card", cause="delay", outcome="not_upheld"),
    }


@pytest.fixture
def data(app_ctx: None) -> dict[str, Row]:
    made = rows()
    insert(list(made.values()))
    return made


def reader(auth: AuthActions, role: str = "complaints_manager") -> FlaskClient:
    return auth.signed_in(f"reader-{role}".replace("_", "-"), role)


def read_csv(answer: Any) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    assert answer.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def expected_sla(made: dict[str, Row], first: datetime, end: datetime) -> dict[str, Any]:
    inside = [r for r in made.values() if first <= at(r.received) < end]
    answered = [r for r in inside if r.responded]
    on_target = [r for r in answered if r.response_hours is not None
                 and r.response_hours <= SLA_HOURS]
    late = [r for r in inside if not r.responded and r.response_on_target is False]
    share = round(100 * len(on_target) / (len(answered) + len(late)), 1)
    return {"received": str(len(inside)), "answered": str(len(answered)),
            "answered_on_target": str(len(on_target)), "unanswered_late": str(len(late)),
            "on_target_percent": str(share), "meets_target": "yes" if share >= 95 else "no"}


def test_sla_compliance_matches_the_rows_month_by_month(auth: AuthActions,
                                                        data: dict[str, Row]) -> None:
    manager = reader(auth)
    found = read_csv(manager.get("/reports/returns/sama_sla.csv",
                                 query_string={"from": "2026-02-01", "to": "2026-03-31"}))
    february = datetime(2026, 1, 31, 21, tzinfo=UTC)
    expected = {"2026-02": expected_sla(data, february, START),
                "2026-03": expected_sla(data, START, END),
                "Whole period": expected_sla(data, february, END)}
    assert [row["period"] for row in found] == list(expected)
    for row in found:
        assert {key: row[key] for key in expected[row["period"]]} == expected[row["period"]]
        assert row["target_percent"] == "95.0"
    assert expected["2026-03"]["on_target_percent"] == "60.0"  # 3 of 4 answered + 1 late
    page = manager.get("/reports/returns/sama_sla", query_string=MARCH).get_data(as_text=True)
    march = expected["2026-03"]
    assert (f'<th scope="row">2026-03</th><td>{march["received"]}</td>'
            f'<td>{march["answered"]}</td><td>{march["answered_on_target"]}</td>') in page
    assert "Answered within 5 working days" in page


def expected_fca(made: dict[str, Row]) -> dict[tuple[str, str], dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for name, r in made.items():
        received, closed = at(r.received), r.closed and at(r.closed)
        if received >= END or (closed and closed < START):
            continue
        for key in ((r.product or "not_recorded", r.cause or "not_recorded"), ("all", "all")):
            g = groups[key]
            g["outstanding_at_start"] += received < START
            g["opened"] += received >= START
            g["outstanding_at_end"] += not closed or closed >= END
            if closed and closed < END:
                g["closed"] += 1
                g[BUCKET[name]] += 1
                g["upheld"] += r.outcome in ("upheld", "partly_upheld")
                if r.remedy and r.remedy[1] == "SAR":
                    g["redress"] += Decimal(r.remedy[0])
    return groups


def test_the_complaints_return_matches_the_rows_by_product_and_cause(
        auth: AuthActions, data: dict[str, Row]) -> None:
    found = read_csv(reader(auth, "auditor").get("/reports/returns/fca_disp1.csv",
                                                 query_string=MARCH))
    expected = expected_fca(data)
    assert {(row["product"], row["cause"]) for row in found} == set(expected)
    counts = ("outstanding_at_start", "opened", "closed_within_3_days", "closed_within_8_weeks",
              "closed_later", "closed", "upheld", "outstanding_at_end")
    for row in found:
        want = expected[(row["product"], row["cause"])]
        assert {key: int(row[key]) for key in counts} == {key: want[key] for key in counts}, row
        assert Decimal(row["redress_paid"]) == want["redress"]
        share = round(100 * want["upheld"] / want["closed"], 1) if want["closed"] else None
        assert row["upheld_percent"] == ("" if share is None else str(share))
    loans = next(row for row in found if row["product"] == "loan")
    assert loans["redress_other"] == "20.00 USD"  # another currency is listed, not summed
    total = next(row for row in found if row["product"] == "all")
    assert total["closed_later"] == "1" and total["upheld"] == "3"  # partly upheld counts


def test_the_idr_csv_has_one_row_per_complaint(auth: AuthActions, data: dict[str, Row]) -> None:
    answer = reader(auth, "supervisor").get("/reports/returns/asic_idr.csv", query_string=MARCH)
    assert answer.headers["Content-Disposition"] == \
        'attachment; filename="asic_idr-2026-03-01_2026-03-31.csv"'
    found = {row["complaint_reference"]: row for row in read_csv(answer)}
    active = {name for name, r in data.items() if at(r.received) < END
              and (not r.closed or at(r.closed) >= START)}
    assert set(found) == {data[name].reference for name in active}
    riyadh = timedelta(hours=3)
    for name in active:
        r, row = data[name], found[data[name].reference]
        received = (at(r.received) + riyadh).date()
        closed = (at(r.closed) + riyadh).date() if r.closed and at(r.closed) < END else None
        assert row["date_received"] == received.isoformat()
        assert row["date_closed"] == (closed.isoformat() if closed else "")
        assert row["status"] == ("closed" if closed else "open")
        assert row["days_to_close"] == (str((closed - received).days) if closed else "")
        assert row["product"] == (r.product or "") and row["cause"] == (r.cause or "")
        assert row["outcome"] == ((r.outcome or "") if closed else "")
        assert row["remedy_amount"] == (r.remedy[0] if r.remedy else "")
    assert found[data["A"].reference]["days_to_close"] == "13"


def test_each_return_downloads_as_xlsx_with_the_figures_of_its_csv(
        auth: AuthActions, data: dict[str, Row]) -> None:
    manager = reader(auth)
    for key in ("sama_sla", "fca_disp1", "asic_idr"):
        from_csv = read_csv(manager.get(f"/reports/returns/{key}.csv", query_string=MARCH))
        answer = manager.get(f"/reports/returns/{key}.xlsx", query_string=MARCH)
        assert answer.status_code == 200
        book = load_workbook(io.BytesIO(answer.get_data()))
        sheet = book.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) == len(from_csv) + 1  # the header of labels, then the rows
        for cells, row in zip(values[1:], from_csv, strict=True):
            assert all(same(cell, text) for cell, text in zip(cells, row.values(),
                                                               strict=True)), (key, cells, row)


def same(cell: Any, text: str) -> bool:
    """Whether an XLSX cell holds what the CSV says (numbers as numbers)."""
    if text == "":
        return cell is None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(text) == float(cell)
    return str(cell) == text


def test_the_returns_page_offers_each_return_and_a_bad_period_is_explained(
        auth: AuthActions, data: dict[str, Row]) -> None:
    manager = reader(auth)
    page = manager.get("/reports/returns", query_string=MARCH).get_data(as_text=True)
    for key in ("sama_sla", "fca_disp1", "asic_idr"):
        assert f'href="/reports/returns/{key}?from=2026-03-01&amp;to=2026-03-31"' in page
        assert f'href="/reports/returns/{key}.csv?from=2026-03-01&amp;to=2026-03-31"' in page
    bad = manager.get("/reports/returns/fca_disp1",
                      query_string={"from": "2026-03-31", "to": "March"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Give a date as YYYY-MM-DD, for example 2026-03-31." in text
    assert 'value="2026-03-31"' in text and 'value="March"' in text
    backwards = manager.get("/reports/returns/sama_sla.csv",
                            query_string={"from": "2026-03-31", "to": "2026-03-01"})
    assert backwards.status_code == 400
    assert "The last day must not come before the first day." in backwards.get_data(as_text=True)
    assert manager.get("/reports/returns/nonsense").status_code == 404


def test_only_the_returns_an_admin_chose_are_offered(app: Any, auth: AuthActions,
                                                     data: dict[str, Row]) -> None:
    app.config["PLAINT_RETURNS"] = ("fca_disp1",)
    manager = reader(auth)
    page = manager.get("/reports/returns").get_data(as_text=True)
    assert "/reports/returns/fca_disp1" in page and "/reports/returns/sama_sla" not in page
    assert manager.get("/reports/returns/sama_sla.csv", query_string=MARCH).status_code == 404


@pytest.mark.parametrize("path", ["/reports/returns", "/reports/returns/fca_disp1",
                                  "/reports/returns/asic_idr.csv",
                                  "/reports/returns/sama_sla.xlsx", "/reports/iso10002",
                                  "/reports/pack", "/reports/pack/management-review.pdf",
                                  "/reports/pack/management-review.xlsx"])
def test_returns_evidence_and_pack_are_for_report_readers_only(
        auth: AuthActions, path: str) -> None:
    for role in ("handler", "process_owner", "admin"):
        assert reader(auth, role).get(path).status_code == 403, (role, path)
    for role in ("supervisor", "complaints_manager", "auditor"):
        assert reader(auth, role).get(path).status_code == 200, (role, path)
