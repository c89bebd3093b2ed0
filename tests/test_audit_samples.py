"""Audit sampling: an auditor draws a reproducible random sample of the cases closed in a
period, works through its checklist, and exports the findings."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.extensions import db
from server.models import SystemEvent
from server.services import tables

from .support.inserted import insert_case
from .support.web import post, submit

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PERIOD = {"period_start": "2026-03-01", "period_end": "2026-03-31"}
_DRAWN = re.compile(r'<tr id="sampled-\d+">.*?<a href="/cases/([^"]+)"', re.S)


@pytest.fixture
def closed_cases(app_ctx) -> list[str]:
    """30 cases closed in March 2026, two closed in April and one still open."""
    references = [insert_case(START - timedelta(days=5), closed_at=START + timedelta(hours=n * 20)
                              ).reference for n in range(30)]
    insert_case(START, closed_at=datetime(2026, 4, 2, tzinfo=UTC))
    insert_case(START, closed_at=datetime(2026, 4, 3, tzinfo=UTC))
    insert_case(START)
    db.session.commit()
    return references


def draw(client, **values: str):
    """Draw a sample; return the response and the references drawn, in order."""
    sent = submit(client, "/audit/samples/", {**PERIOD, "size": "8", **values})
    if sent.status_code != 302:
        return sent, []
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    return page, _DRAWN.findall(page)


def test_the_same_seed_and_period_draw_the_same_sample(closed_cases, client, auth):
    auth.login("adel", "auditor")
    page, first = draw(client, seed="4242")
    assert len(first) == 8 and set(first) <= set(closed_cases)
    assert '<code id="seed">4242</code>' in page and "8 of 30 cases" in page
    _, again = draw(client, seed="4242")
    assert again == first
    _, other = draw(client, seed="4243")
    assert len(other) == 8 and other != first


def test_a_sample_without_a_seed_gets_one_shown_that_draws_it_again(closed_cases, client, auth):
    auth.login("maha", "complaints_manager")
    page, first = draw(client, seed="")
    seed = re.search(r'<code id="seed">(\d+)</code>', page).group(1)
    _, again = draw(client, seed=seed)
    assert again == first
    listing = client.get("/audit/samples/").get_data(as_text=True)
    assert f'<code class="seed">{seed}</code>' in listing


def test_bad_draws_say_what_to_fix_and_keep_the_input(closed_cases, client, auth):
    auth.login("adel", "auditor")
    sent, _ = draw(client, period_end="2026-02-01", size="0", seed="abc")
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "The period must end on or after its first day." in page
    assert "from 1 to 500" in page and "A seed is a whole number" in page
    assert 'value="abc"' in page
    empty, _ = draw(client, period_start="2025-01-01", period_end="2025-01-31")
    assert empty.status_code == 422 and "No case was closed in that period" in \
        empty.get_data(as_text=True)


def test_the_checklist_is_saved_listed_exported_and_logged(closed_cases, client, auth):
    auth.login("adel", "auditor")
    page, drawn = draw(client, seed="7")
    sample = re.search(r'/audit/samples/(\d+)/export.csv', page).group(1)
    sent = submit(client, f"/audit/samples/{sample}/cases/1", {
        "acknowledged_on_time-result": "pass", "decision_reasons-result": "fail",
        "decision_reasons-note": "The letter gives no reason.", "objectivity-result": "na",
        "next": "1"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/cases/2")
    checklist = client.get(f"/audit/samples/{sample}/cases/1").get_data(as_text=True)
    assert 'id="decision_reasons-fail" value="fail" checked' in checklist
    assert "The letter gives no reason." in checklist
    overview = client.get(f"/audit/samples/{sample}").get_data(as_text=True)
    row = overview[overview.index('id="sampled-1"'):overview.index('id="sampled-2"')]
    assert "Pass" in row and "Fail" in row and "Not applicable" in row
    exported = post(client, f"/audit/samples/{sample}/export.csv")
    text = exported.get_data(as_text=True)
    assert exported.mimetype == "text/csv"
    assert f"{drawn[0]},decision_reasons,fail,The letter gives no reason.,adel" in text
    assert len(text.strip().splitlines()) == 1 + 8 * 5
    workbook = post(client, f"/audit/samples/{sample}/export.xlsx")
    assert workbook.headers["Content-Type"] == tables.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][:3] == ["Sample", "Seed", "First day"] and len(cells) == 1 + 8 * 5
    assert [drawn[0], "decision_reasons", "fail", "The letter gives no reason.", "adel"] in \
        [row[5:10] for row in cells]
    db.session.rollback()
    kinds = set(db.session.scalars(select(SystemEvent.kind)))
    assert {"audit.sample_drawn", "audit.checklist", "audit.exported"} <= kinds


def test_a_note_without_a_result_is_refused_and_kept(closed_cases, client, auth):
    auth.login("adel", "auditor")
    page, _ = draw(client, seed="7")
    sample = re.search(r'/audit/samples/(\d+)/export.csv', page).group(1)
    sent = submit(client, f"/audit/samples/{sample}/cases/1",
                  {"evidence-note": "No documents on file."})
    text = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "Choose pass, fail or not applicable for this note." in text
    assert "No documents on file." in text


@pytest.mark.parametrize(("role", "allowed"), [
    ("auditor", True), ("complaints_manager", True), ("handler", False),
    ("supervisor", False), ("admin", False)])
def test_audit_samples_are_for_auditors_and_complaints_managers(closed_cases, client, auth,
                                                                role, allowed):
    auth.login(f"someone-{role}", role)
    assert client.get("/audit/samples/").status_code == (200 if allowed else 403)
    sent = post(client, "/audit/samples/", {**PERIOD, "size": "3", "seed": "1"})
    assert sent.status_code == (302 if allowed else 403)
    menu = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/logout"' in menu or "Sign out" in menu  # a signed-in page with the menu
    assert ('href="/audit/samples/"' in menu) is allowed
