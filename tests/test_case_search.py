"""Finding cases on /cases: filters, sorts, pages, CSV export, references and words.

Every test runs on SQLite (FTS5) and on PostgreSQL (tsvector). Cases are started through
the services; where a case must stand somewhere particular (priority, status, received
date, a late task), its projected row is set directly, as the write path would have left it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import delete, func, insert, select, text, update

from server.extensions import db
from server.models import Case, HumanTask, SystemEvent, User
from server.services import case_export, cases, tables
from server.services.actors import Actor
from tests.support.data import INTAKE
from tests.support.web import AuthActions, post

_ROW = re.compile(r'<tr><td><a href="/cases/(CMP-\d{4}-\d{6})">')
INTAKE_ACTOR = Actor.system("test-intake")


def start(name: str, channel: str = "web", **values: Any) -> str:
    """Start a case through the services and set its projected row; return its reference."""
    intake = {key: values.pop(key) for key in ("complainant_email", "product_service",
                                               "description") if key in values}
    case = cases.start_case({**INTAKE, **intake, "complainant_name": name}, channel,
                            INTAKE_ACTOR).case
    if values:
        db.session.execute(update(Case).where(Case.id == case.id).values(**values))
        db.session.commit()
    return case.reference


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def three(app: Flask) -> dict[str, str]:
    """Three cases that differ in every filtered field."""
    with app.app_context():
        made = {
            "layla": start("Layla Haddad", "web", product_service="Current account",
                           priority="high", category="billing", status_label="Received",
                           received_at=at("2026-03-02T09:00:00")),
            "omar": start("Omar Farouk", "phone", complainant_email="omar@example.org",
                          product_service="Credit card",
                          description="The branch kept my card and nobody called back.",
                          priority="low", category="delay", status_label="Being investigated",
                          received_at=at("2026-03-10T09:00:00")),
            "mona": start("منى العتيبي", "letter", complainant_email="mona@example.net",
                          product_service="Mortgage",
                          description="تأخر الرد على طلب إعادة الجدولة لأكثر من شهر",
                          priority="urgent", category="staff_conduct", status_label="Closed",
                          is_open=False, received_at=at("2026-04-01T09:00:00")),
        }
        ids = dict(db.session.execute(select(Case.reference, Case.id)).all())
        db.session.execute(update(HumanTask).where(HumanTask.case_id == ids[made["omar"]])
                           .values(due_at=datetime.now(UTC) - timedelta(hours=3)))
        # Closed: no task waits any more.
        db.session.execute(delete(HumanTask).where(HumanTask.case_id == ids[made["mona"]]))
        db.session.commit()
    return made


def listed(client: FlaskClient, **args: Any) -> list[str]:
    answer = client.get("/cases", query_string=args)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    return _ROW.findall(answer.get_data(as_text=True))


def test_each_filter_narrows_the_cases_to_those_that_match(auth: AuthActions,
                                                           three: dict[str, str]) -> None:
    hana = auth.signed_in("hana", "handler")
    layla, omar, mona = three["layla"], three["omar"], three["mona"]
    expected = [
        ({}, {layla, omar, mona}),
        ({"status": "Being investigated"}, {omar}),
        ({"state": "open"}, {layla, omar}),
        ({"state": "closed"}, {mona}),
        ({"priority": "urgent"}, {mona}),
        ({"category": "billing"}, {layla}),
        ({"product": "credit CARD"}, {omar}),
        ({"product": "mort"}, {mona}),
        ({"channel": "phone"}, {omar}),
        ({"overdue": "1"}, {omar}),
        ({"received_from": "2026-03-05"}, {omar, mona}),
        ({"received_to": "2026-03-10"}, {layla, omar}),
        ({"received_from": "2026-03-03", "received_to": "2026-03-31"}, {omar}),
        ({"state": "open", "priority": "low", "channel": "phone"}, {omar}),
        ({"state": "open", "priority": "urgent"}, set()),
    ]
    for args, cases_found in expected:
        assert set(listed(hana, **args)) == cases_found, args


def test_the_filters_show_labels_as_people_read_them(auth: AuthActions,
                                                     three: dict[str, str]) -> None:
    page = auth.signed_in("hana", "handler").get("/cases").get_data(as_text=True)
    assert '<option value="staff_conduct">Staff conduct</option>' in page
    assert '<option value="walk_in">Walk in</option>' in page
    assert '<option value="Being investigated">Being investigated</option>' in page
    assert "<td>Staff conduct</td>" in page and "staff_conduct</td>" not in page


def test_sorts_order_the_cases(auth: AuthActions, three: dict[str, str]) -> None:
    hana = auth.signed_in("hana", "handler")
    layla, omar, mona = three["layla"], three["omar"], three["mona"]
    assert listed(hana) == [mona, omar, layla]  # newest first
    assert listed(hana, sort="reference") == sorted([layla, omar, mona])
    assert listed(hana, sort="priority") == [mona, layla, omar]
    # The closed case has no task, so no due time: it comes last.
    assert listed(hana, sort="due") == [omar, layla, mona]


def test_bad_filter_values_get_a_message_and_keep_what_was_typed(auth: AuthActions,
                                                                 three: dict[str, str]) -> None:
    hana = auth.signed_in("hana", "handler")
    answer = hana.get("/cases", query_string={"received_from": "2026-02-30", "priority": "meh",
                                              "sort": "colour", "q": "Layla"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Give a date as YYYY-MM-DD" in page and "Choose a priority from the list." in page
    assert "Sort by received, reference, priority or due time." in page
    assert 'value="2026-02-30"' in page and 'value="Layla"' in page
    assert 'href="#f-received_from"' in page and "<title>Error:" in page
    backwards = hana.get("/cases", query_string={"received_from": "2026-04-01",
                                                 "received_to": "2026-03-01"})
    assert backwards.status_code == 400
    assert "The end of the range comes before its start." in backwards.get_data(as_text=True)


def clone(reference: str, count: int) -> list[str]:
    """`count` copies of a case, inserted as rows (cheap), a minute apart; their references."""
    row = dict(db.session.execute(select(Case.__table__).where(
        Case.reference == reference)).one()._mapping)
    first = db.session.scalar(select(func.max(Case.id))) + 1
    made = [f"CMP-2025-{n:06d}" for n in range(1, count + 1)]
    db.session.execute(insert(Case.__table__), [
        {**row, "id": first + n, "reference": ref, "tracking_token_hash": None,
         "received_at": row["received_at"] - timedelta(minutes=n + 1)}
        for n, ref in enumerate(made)])
    db.session.commit()
    return made


def test_pages_go_beyond_fifty(app: Flask, auth: AuthActions) -> None:
    with app.app_context():
        first = start("Layla Haddad")
        clones = clone(first, 59)
    hana = auth.signed_in("hana", "handler")
    one = hana.get("/cases").get_data(as_text=True)
    assert len(_ROW.findall(one)) == 50 and "60 cases" in one
    assert 'href="/cases?page=2"' in one
    assert listed(hana, page="2") == clones[49:]
    assert listed(hana, page="2", q="layla") == clones[49:]
    assert listed(hana, page="99") == clones[49:]  # past the end: the last page
    assert listed(hana, page="x") == [first, *clones[:49]]  # not a number: the first


def test_an_exact_reference_opens_the_case_in_any_letter_case(auth: AuthActions,
                                                             three: dict[str, str]) -> None:
    hana = auth.signed_in("hana", "handler")
    answer = hana.get("/cases", query_string={"q": f"  {three['omar'].lower()} "})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/cases/{three['omar']}"
    # With a filter as well, the reference is listed when it passes the filter.
    assert listed(hana, q=three["omar"], state="open") == [three["omar"]]
    assert listed(hana, q=three["omar"], state="closed") == []


@pytest.mark.parametrize(("words", "who"), [
    ("farouk", "omar"), ("Faro", "omar"), ("omar@example.org", "omar"),
    ("credit card", "omar"), ("BRANCH nobody", "omar"), ("منى", "mona"),
    ("الجدولة", "mona"), ("mortgage", "mona"), ("haddad current", "layla")])
def test_words_are_found_in_names_e_mails_products_and_descriptions(
        auth: AuthActions, three: dict[str, str], words: str, who: str) -> None:
    assert listed(auth.signed_in("hana", "handler"), q=words) == [three[who]]


def test_words_that_match_nothing_find_nothing(auth: AuthActions, three: dict[str, str]) -> None:
    page = auth.signed_in("hana", "handler").get("/cases?q=farouk+mortgage")
    assert "No cases found." in page.get_data(as_text=True)


@pytest.mark.parametrize("typed", [
    '"', "'", "NEAR(", "farouk*", "*", "a AND", "OR", "-farouk", "^x", "&|!:*", "(farouk",
    'farouk"', "col:farouk", "\\", "%_", "farouk NOT omar", "'; DROP TABLE case; --"])
def test_query_syntax_typed_into_the_search_is_taken_as_text(
        auth: AuthActions, three: dict[str, str], typed: str) -> None:
    answer = auth.signed_in("hana", "handler").get("/cases", query_string={"q": typed})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    found = _ROW.findall(answer.get_data(as_text=True))
    assert found in ([], [three["omar"]])


def test_the_index_follows_changes_and_deletions(app: Flask, auth: AuthActions,
                                                 three: dict[str, str], runner: Any,
                                                 tmp_path: Path) -> None:
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")
    hana = auth.signed_in("hana", "handler")
    with app.app_context():
        # Untouched since it was started, so its history verifies and it may be purged.
        zainab = start("Zainab Qureshi")
        db.session.execute(update(Case).where(Case.reference == three["layla"])
                           .values(complainant_name="Layla Nasser"))
        db.session.commit()
    assert listed(hana, q="nasser") == [three["layla"]] and listed(hana, q="haddad") == []
    assert listed(hana, q="qureshi") == [zainab]
    with app.app_context():
        result = runner.invoke(args=["purge-case", zainab, "--reason", "Retention"])
        assert result.exit_code == 0, result.output
        if db.engine.dialect.name == "sqlite":  # the FTS index agrees with the case table
            db.session.execute(text("INSERT INTO case_search(case_search) "
                                    "VALUES ('integrity-check')"))
    assert listed(hana, q="qureshi") == []
    assert set(listed(hana)) == set(three.values())


def export(client: FlaskClient, **filters: str) -> Any:
    return post(client, "/cases/export.csv", filters)


def rows_of(answer: Any) -> list[list[str]]:
    body = answer.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_export_holds_every_matching_case_with_labels(app: Flask, auth: AuthActions,
                                                          three: dict[str, str]) -> None:
    with app.app_context():
        clones = clone(three["layla"], 55)
    hana = auth.signed_in("hana", "handler")
    answer = export(hana, state="open", sort="reference")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    header, *rows = rows_of(answer)
    assert header[:3] == ["Reference", "Received", "Status"]
    assert [r[0] for r in rows] == sorted([*clones, three["layla"], three["omar"]])
    omar = next(r for r in rows if r[0] == three["omar"])
    assert omar[2:10] == ["Being investigated", "Open", "Low", "Delay", "Phone", "Credit card",
                          "Omar Farouk", "omar@example.org"]
    with app.app_context():
        logged = db.session.scalar(select(SystemEvent).where(SystemEvent.kind ==
                                                             "cases.exported"))
        assert logged is not None and logged.actor == "hana"


def test_the_export_keeps_cells_that_look_like_formulas_as_text(app: Flask,
                                                                auth: AuthActions) -> None:
    with app.app_context():
        reference = start("=HYPERLINK(\"http://evil.example\",\"x\")",
                          product_service="+1 card", status_label="-2+3")
        # Not a valid address for the intake form; an older row or an import may hold one.
        db.session.execute(update(Case).where(Case.reference == reference)
                           .values(complainant_email="@SUM(A1)@example.com"))
        db.session.commit()
    [_header, row] = rows_of(export(auth.signed_in("hana", "handler")))
    assert row[0] == reference
    assert row[2] == "'-2+3" and row[7] == "'+1 card"
    assert row[8] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert row[9] == "'@SUM(A1)@example.com"


@pytest.mark.parametrize(("role", "allowed"), [
    ("handler", True), ("supervisor", True), ("complaints_manager", True), ("auditor", True),
    ("process_owner", False), ("admin", False), ("specialist", False)])
def test_who_may_search_and_export(auth: AuthActions, three: dict[str, str], role: str,
                                   allowed: bool) -> None:
    person = auth.signed_in("someone", role)
    searched, exported = person.get("/cases"), export(person)
    assert (searched.status_code, exported.status_code) == \
        ((200, 200) if allowed else (403, 403))
    assert (three["omar"] in exported.get_data(as_text=True)) is allowed


def test_the_cases_download_as_a_workbook_too_up_to_its_limit(
        app: Flask, auth: AuthActions, three: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hana = auth.signed_in("hana", "handler")
    answer = post(hana, "/cases/export.xlsx", {"state": "open", "sort": "reference"})
    assert answer.status_code == 200 and answer.mimetype == tables.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    listed = rows_of(export(hana, state="open", sort="reference"))
    assert header == listed[0]
    assert [[cell or "" for cell in row] for row in rows] == listed[1:]
    monkeypatch.setattr(case_export, "MAX_XLSX_ROWS", 1)
    refused = post(hana, "/cases/export.xlsx", {"state": "open"})
    assert refused.status_code == 422
    assert "narrow the search, or export CSV" in refused.get_data(as_text=True)
    with app.app_context():
        formats = [json.loads(event.data)["format"] for event in db.session.scalars(
            select(SystemEvent).where(SystemEvent.kind == "cases.exported"))]
        assert sorted(formats) == ["csv", "xlsx"]  # the refused workbook is not an export


def test_an_export_with_a_bad_filter_says_what_to_fix(auth: AuthActions) -> None:
    answer = export(auth.signed_in("hana", "handler"), received_to="31/03/2026")
    assert answer.status_code == 400
    assert "Give a date as YYYY-MM-DD" in answer.get_data(as_text=True)



def test_cases_are_found_by_owner_and_by_the_category_title_people_see(
        auth: AuthActions, client: FlaskClient, app_ctx: None) -> None:
    """A supervisor lists the cases a handler owns, and those nobody owns yet."""
    auth.add_user("hana", "handler")
    hana = db.session.scalar(select(User.id).where(User.username == "hana"))
    owned = start("Owned Person", category="billing", owner_id=hana)
    unowned = start("Unowned Person", category="delay")
    auth.login("sami", "supervisor")
    page = client.get("/cases?owner=hana").get_data(as_text=True)
    assert listed(client, owner="hana") == [owned]
    assert '<option value="hana" selected>' in page
    assert "<td>Billing and charges</td>" in page and "<td>Billing</td>" not in page
    assert listed(client, owner="-") == [unowned]
    assert listed(client, category="billing and charges") == [owned]
    shown = client.get(f"/cases/{owned}").get_data(as_text=True)
    assert '<dd class="col-sm-8">Billing and charges</dd>' in shown
