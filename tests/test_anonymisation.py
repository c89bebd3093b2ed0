"""Erasing a closed case's personal data: gone from every store, statistics and the audit
chain intact, and any other change to the history still caught."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from server.extensions import db
from server.models import Case, CaseEvent, CaseReport, OutboxMessage
from server.packing import unpack
from server.services import cases
from server.services.actors import Actor
from server.services.anonymisation import anonymise_case
from server.services.redaction import redact_event

from .support.cases import drive, file_case
from .support.web import AuthActions, post

ERASER = Actor.system("retention")
PHONE = "+966500000123"
NAME = "Layla Haddad"
EMAIL = "layla@example.com"


@pytest.fixture(autouse=True)
def checkpoint_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Checkpoints of this test only, in a folder of its own."""
    folder = tmp_path / "checkpoints"
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(folder)
    yield folder


def closed_case() -> Case:
    """A complaint driven to its close, with a note that names the complainant's phone."""
    reference, _token = file_case(complainant_phone=PHONE)
    cases.add_note(reference, f"Called {NAME} on {PHONE}", Actor("hana.handler", 101,
                                                                  frozenset({"handler"})))
    drive(reference, lambda data: not cases.get_case(reference).is_open, steps=40)
    return cases.get_case(reference)


def verify(app: Flask) -> tuple[int, str]:
    """`flask verify-audit`: its exit code and output."""
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    return result.exit_code, result.output


def facts(case_id: int) -> dict:
    """A case's reporting facts, as reports read them."""
    row = db.session.get(CaseReport, case_id)
    db.session.refresh(row)
    return {c.name: getattr(row, c.name) for c in CaseReport.__table__.columns
            if c.name != "updated_at"}


def test_erasing_keeps_statistics_and_a_verifiable_history(app: Flask, app_ctx: None) -> None:
    case = closed_case()
    before = facts(case.id)
    category, priority, outcome = case.category, case.priority, before["outcome"]
    assert verify(app)[0] == 0

    done = anonymise_case(case.id, ERASER, "retention rule 1")

    assert done.refused is None and done.events > 0
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.complainant_name, case.complainant_email, case.complainant_phone) == (
        "[erased]", None, None)
    assert case.description == "[erased]" and case.remedy_sought is None
    assert (case.category, case.priority) == (category, priority)
    assert facts(case.id) == before and before["outcome"] == outcome
    history = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    every = " ".join(e.data + e.summary for e in history)
    for value in (NAME, EMAIL, PHONE, "charged twice"):
        assert value not in every
    intake = json.loads(history[0].data)["values"]
    assert intake["consent"] is True and intake["complainant_name"] == "[erased]"
    answers = [json.loads(e.data).get("values") or {} for e in history]
    decision = next(a for a in answers if "response" in a)
    assert decision["outcome"] == outcome and decision["response"] == "[erased]"
    assert isinstance(decision["compensation_amount"], int | float)
    last = json.loads(history[-1].data)
    assert history[-1].kind == "case.erased" and str(history[0].seq) in last["redacted"]
    state = unpack(case.workflow_state).decode()
    assert NAME not in state and PHONE not in state and '"outcome":"' in state
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
    assert all(NAME not in m.body_text and m.recipient is None for m in mails)
    code, output = verify(app)
    assert code == 0, output
    assert f"{done.events} event(s) had personal values erased" in output


def test_a_redacted_entry_changed_again_is_caught(app: Flask, app_ctx: None) -> None:
    case = closed_case()
    anonymise_case(case.id, ERASER, "retention rule 1")
    first = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.seq == 1))
    # The trigger still lets a listed event's data change (that is how erasure writes it):
    # verify-audit is what catches a change nobody vouched for.
    db.session.execute(text("UPDATE case_event SET data = :d WHERE id = :id"),
                       {"d": first.data.replace("[erased]", "Someone Else"), "id": first.id})
    code, output = verify(app)
    assert code == 1 and "event 1 was altered" in output


def test_the_database_refuses_other_changes_to_the_history(app: Flask, app_ctx: None) -> None:
    case = closed_case()
    anonymise_case(case.id, ERASER, "retention rule 1")
    listed = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                       CaseEvent.seq == 1))  # redacted
    db.session.commit()
    for statement, params in (
            ("UPDATE case_event SET hash = :v WHERE id = :id", {"v": "0" * 64, "id": listed.id}),
            ("UPDATE case_event SET actor = :v WHERE id = :id", {"v": "x", "id": listed.id}),
            ("DELETE FROM case_event_redaction WHERE case_id = :id",
             {"id": case.id, "v": None})):
        with pytest.raises(Exception, match=r"append-only|insert-only"):
            db.session.execute(text(statement), params)
        db.session.rollback()
    other = closed_case()
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == other.id))
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE case_event SET data = '{}' WHERE id = :id"),
                           {"id": event.id})
    db.session.rollback()


def test_a_broken_history_is_not_erased(app: Flask, app_ctx: None) -> None:
    case = closed_case()
    db.session.execute(text(
        "DROP TRIGGER IF EXISTS case_event_no_update" if db.engine.dialect.name == "sqlite"
        else "ALTER TABLE case_event DISABLE TRIGGER case_event_no_update"))
    db.session.execute(text("UPDATE case_event SET summary = 'rewritten' WHERE case_id = :id "
                            "AND seq = 2"), {"id": case.id})
    db.session.commit()
    done = anonymise_case(case.id, ERASER, "retention rule 1")
    assert done.refused and "does not verify" in done.refused and "event 2" in done.refused
    assert db.session.get(Case, case.id).complainant_name == NAME


def test_an_open_case_is_not_erased(app: Flask, app_ctx: None) -> None:
    reference, _token = file_case()
    done = anonymise_case(cases.get_case(reference).id, ERASER, "request")
    assert done.refused and "still open" in done.refused


def test_the_database_file_no_longer_holds_the_values(app: Flask, app_ctx: None,
                                                       backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the file of an SQLite database is what is read here")
    case = closed_case()
    anonymise_case(case.id, ERASER, "retention rule 1")
    db.session.remove()
    path = Path(db.engine.url.database or "")
    found = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for value in (NAME, EMAIL, PHONE):
        assert value.encode() not in found, value


def test_answers_keep_closed_choices_dates_numbers_and_booleans() -> None:
    schema = {"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["a", "b"]},
        "labelled": {"type": "string", "oneOf": [{"const": "x", "title": "X"}]},
        "product": {"type": "string", "x-codeList": "products"},
        "when": {"type": "string", "format": "date"},
        "picked": {"type": "string", "enum": ["options_from_task_data_var:accounts"]},
        "people": {"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string", "enum": ["witness"]}, "name": {"type": "string"}}}}},
        "allOf": [{"if": {}, "then": {"properties": {"extra": {"type": "string",
                                                                "enum": ["yes"]}}}}]}
    erased: set[str] = set()
    answers = {"kind": "a", "labelled": "x", "product": "loan", "when": "2026-03-01",
               "picked": "SA0380000000608010167519", "amount": 12.5, "ok": False,
               "people": [{"role": "witness", "name": "Omar Saleh"}], "extra": "yes",
               "free": "My neighbour Omar"}
    kept = redact_event({"form": "f.json", "values": answers, "task": "t", "note": "Omar"},
                        lambda name: schema, erased)
    assert kept["values"] == {
        "kind": "a", "labelled": "x", "product": "loan", "when": "2026-03-01",
        "picked": "[erased]", "amount": 12.5, "ok": False,
        "people": [{"role": "witness", "name": "[erased]"}], "extra": "yes",
        "free": "[erased]"}
    assert kept["task"] == "t" and kept["note"] == "[erased]"
    assert erased == {"SA0380000000608010167519", "Omar Saleh", "My neighbour Omar",
                      "Omar"}


def test_a_dry_run_says_what_the_erasure_will_do_and_changes_nothing(
        app: Flask, app_ctx: None) -> None:
    case = closed_case()
    head = case.audit_head
    planned = anonymise_case(case.id, ERASER, "request", dry_run=True)
    db.session.expire_all()
    assert cases.get_case(case.reference).audit_head == head
    assert cases.get_case(case.reference).complainant_name == NAME
    done = anonymise_case(case.id, ERASER, "request")
    assert (planned.events, planned.documents, planned.erased) == (
        done.events, done.documents, done.erased)
    assert planned.events > 0 and planned.refused is None


def test_the_case_page_and_bundle_of_an_erased_case_show_no_personal_data(
        app: Flask, app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    case = closed_case()
    reference = case.reference
    anonymise_case(case.id, ERASER, "retention rule 1")
    auth.login("hana", "handler")
    page = client.get(f"/cases/{reference}")
    text_of_page = page.get_data(as_text=True)
    assert page.status_code == 200 and "Personal data erased (retention rule 1)" in text_of_page
    assert NAME not in text_of_page and PHONE not in text_of_page
    bundle = post(client, f"/cases/{reference}/bundle.zip")
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        record = archive.read("record.json").decode()
    assert NAME not in record and "case.erased" in record and "redacted" in record
