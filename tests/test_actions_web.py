"""The corrective-action register through the browser's doors: the list and its filters,
its files, opening and linking by hand, who may do what, and the pages that show actions."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from server.services import actions, cases
from server.services.actors import Actor

from .support.cases import file_case, ready_task
from .support.web import form_token, token

MANAGER = Actor("mona.manager", 301, frozenset({"complaints_manager"}))


def opened(title: str, cause: str, complaints: str = "") -> str:
    """An action opened by hand through the services; its reference."""
    return actions.open_by_hand(actions.NewAction(title, cause, "Do it.", complaints),
                                MANAGER).reference


def test_the_register_lists_filters_and_exports_actions(app_ctx, auth):
    complaint, _ = file_case()
    fees = opened("Fix the fee table", "process", complaint)
    statements = opened("Fix the statement job", "system")
    reader = auth.signed_in("aziz", "auditor")
    page = reader.get("/actions").get_data(as_text=True)
    assert fees in page and statements in page and "Being planned" in page
    only = reader.get("/actions?cause=system").get_data(as_text=True)
    assert statements in only and fees not in only
    assert fees not in reader.get("/actions?state=closed").get_data(as_text=True)
    assert fees not in reader.get("/actions?state=overdue").get_data(as_text=True)

    answer = reader.get("/actions.csv?state=all&cause=process")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["reference"], r["cause"], r["linked"], r["overdue"]) for r in rows] == [
        (fees, "process", "1", "no")]
    book = load_workbook(io.BytesIO(reader.get("/actions.xlsx").get_data()))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["Reference", "Title"]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        fees, statements}


def test_a_bad_filter_is_explained_with_the_input_kept(app_ctx, auth):
    reader = auth.signed_in("aziz", "auditor")
    answer = reader.get("/actions?state=someday&cause=weather")
    assert answer.status_code == 400
    assert "Choose open, overdue, closed or all." in answer.get_data(as_text=True)
    assert reader.get("/actions.csv?cause=weather").status_code == 400


def test_only_complaints_managers_open_and_link_actions(app_ctx, auth):
    action = opened("Fix it", "process")
    reader = auth.signed_in("aziz", "auditor")
    assert reader.get("/actions/new").status_code == 403
    page = reader.get(f"/actions/{action}").get_data(as_text=True)
    assert "Link complaints" not in page and "Open a corrective action" not in page
    handler = auth.signed_in("hadi", "handler")
    assert handler.get("/actions").status_code == 403
    assert handler.post(f"/actions/{action}/link", data={
        "complaints": "x", "csrf_token": token(handler, "/inbox")}).status_code == 403


def test_a_manager_opens_an_action_from_a_complaint_and_links_another(app_ctx, auth):
    complaint, _ = file_case()
    other, _ = file_case()
    manager = auth.signed_in("maha", "complaints_manager")
    case_page = manager.get(f"/cases/{complaint}").get_data(as_text=True)
    assert f"/actions/new?complaints={complaint}" in case_page
    form = manager.get(f"/actions/new?complaints={complaint}").get_data(as_text=True)
    assert f'value="{complaint}"' in form
    refused = manager.post("/actions/new", data={
        "csrf_token": form_token(form), "title": "Train the team", "cause": "",
        "description": "A session on the fee rules.", "complaints": complaint})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Choose the cause from the list." in page
    assert "A session on the fee rules." in page  # the input is kept
    answer = manager.post("/actions/new", data={
        "csrf_token": form_token(form), "title": "Train the team", "cause": "staff_error",
        "description": "A session on the fee rules.", "complaints": complaint})
    assert answer.status_code == 302
    action = answer.headers["Location"].rsplit("/", 1)[1]
    assert action.startswith("CA-")
    page = manager.get(f"/actions/{action}").get_data(as_text=True)
    assert "Train the team" in page and f"/cases/{complaint}" in page

    twice = manager.post(f"/actions/{action}/link", data={
        "csrf_token": form_token(page), "complaints": f"{other} {complaint}"})
    assert twice.status_code == 422
    assert f"Already linked to {action}: {complaint}." in twice.get_data(as_text=True)
    linked = manager.post(f"/actions/{action}/link", data={
        "csrf_token": form_token(page), "complaints": other})
    assert linked.status_code == 302
    assert action in manager.get(f"/cases/{other}").get_data(as_text=True)
    manager.post(f"/actions/{action}/unlink", data={"csrf_token": form_token(page),
                                                     "complaint": other})
    assert f"/cases/{other}" not in manager.get(f"/actions/{action}").get_data(as_text=True)


def test_an_action_is_read_on_its_own_pages_and_its_tasks_show_the_action(app_ctx, auth):
    complaint, _ = file_case()
    action = opened("Fix the fee table", "process", complaint)
    manager = auth.signed_in("maha", "complaints_manager")
    moved = manager.get(f"/cases/{action}")
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/actions/{action}")
    handler = auth.signed_in("hadi", "handler")
    task = handler.get(f"/cases/{action}/tasks/{ready_task(action, 'plan_action')}")
    page = task.get_data(as_text=True)
    assert task.status_code == 200
    assert "Corrective action" in page and "Fix the fee table" in page and complaint in page
    assert "Preferred language" not in page  # no complainant to contact
    # The owner's role works on it, so may read its page without the register.
    assert handler.get(f"/actions/{action}").status_code == 200
    assert cases.get_case(action).kind == "action"


def test_the_pack_lists_open_and_overdue_actions_in_both_languages(app_ctx, auth):
    action = opened("Fix the fee table", "process")
    manager = auth.signed_in("maha", "complaints_manager")
    for language, title in (("en", "Open and overdue corrective actions"),
                            ("ar", "الإجراءات التصحيحية المفتوحة والمتأخرة")):
        answer = manager.get("/reports/pack/management-review.xlsx",
                             query_string={"from": "2026-03-01", "to": "2026-03-31",
                                           "lang": language})
        book = load_workbook(io.BytesIO(answer.get_data()))
        [sheet] = [s for s in book.worksheets if s.title == title[:28]]
        assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [action]
