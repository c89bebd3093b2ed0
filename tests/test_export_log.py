"""Exports are accesses to personal and management data: each report, list, return, case
search and pack downloaded leaves a system log entry (who, what, filters, format) that an
auditor reads on the exports page."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from server.extensions import db
from server.models import SystemEvent
from tests.support.report_rows import Row, insert
from tests.support.web import AuthActions, post

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _rows(page: str) -> list[str]:
    """The exports page's table rows, as text."""
    body = page.partition('id="exports"')[2].partition("<tbody>")[2].partition("</tbody>")[0]
    return [html.unescape(" ".join(row.replace("<td", " <td").split()))
            for row in body.split("<tr>")[1:]]


def test_every_export_leaves_an_entry_the_auditor_sees(auth: AuthActions, app_ctx: None) -> None:
    insert([Row("2026-03-02T09:00", cause="policy", category="billing")])
    manager = auth.signed_in("maha", "complaints_manager")
    supervisor = auth.signed_in("sara", "supervisor")
    auditor = auth.signed_in("aziz", "auditor")
    assert manager.get("/reports/root-causes.xlsx",
                       query_string={**MARCH, "category": "billing"}).status_code == 200
    assert auditor.get("/reports/cases.csv",
                       query_string={**MARCH, "cause": "policy"}).status_code == 200
    assert supervisor.get("/reports/returns/sama_sla.csv", query_string=MARCH).status_code == 200
    assert manager.get("/reports/pack/management-review.pdf",
                       query_string={**MARCH, "lang": "ar"}).status_code == 200
    assert post(supervisor, "/cases/export.csv", {"category": "billing"}).status_code == 200
    page = auditor.get("/reports/exports")
    assert page.status_code == 200
    rows = _rows(page.get_data(as_text=True))
    assert len(rows) == 5
    newest_first = ["sara", "maha", "sara", "aziz", "maha"]
    actors = [re.sub(r"<[^>]+>", "", row.split("</td>")[1]).strip() for row in rows]
    assert actors == newest_first
    assert "Case search exported as CSV" in rows[0] and "category=billing" in rows[0]
    assert "Management-review pack made for 2026-03-01_2026-03-31 (ar, pdf)" in rows[1]
    assert "PDF" in rows[1] and "lang=ar" in rows[1]
    assert "sama_sla exported as CSV" in rows[2] and "from=2026-03-01; to=2026-03-31" in rows[2]
    assert "cases exported as CSV" in rows[3] and "cause=policy" in rows[3]
    assert "root-causes exported as XLSX" in rows[4] and "category=billing" in rows[4]
    db.session.rollback()
    kinds = list(db.session.scalars(select(SystemEvent.kind).order_by(SystemEvent.id)))
    assert kinds[-5:] == ["reports.exported", "reports.exported", "returns.exported",
                          "review_pack.made", "cases.exported"]


def test_a_refused_export_is_not_logged(auth: AuthActions, app_ctx: None) -> None:
    manager = auth.signed_in("maha", "complaints_manager")
    assert manager.get("/reports/returns/sama_sla.csv",
                       query_string={"from": "2026-13-01", "to": "x"}).status_code == 400
    assert auth.signed_in("hana", "handler").get("/reports/outcomes.csv").status_code == 403
    assert "No exports yet." in manager.get("/reports/exports").get_data(as_text=True)


def test_only_report_readers_see_the_exports(auth: AuthActions) -> None:
    for role in ("handler", "admin", "process_owner"):
        assert auth.signed_in(f"x-{role}", role).get("/reports/exports").status_code == 403
    page = auth.signed_in("aziz", "auditor").get("/reports")
    assert 'href="/reports/exports"' in page.get_data(as_text=True)
