"""Retention on a seeded database: the dry run and the real run touch exactly the cases
the rules name; reports stay the same; verify-audit passes; legal hold stops it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from server.extensions import db
from server.models import Attachment, Case, CaseReport
from server.scheduler import RETENTION_JOB_ID, TimerScheduler
from server.services import attachments, cases, legal_hold, retention
from server.services.actors import Actor
from server.services.reports import REPORTS

from .support.cases import drive, file_case
from .support.data import PDF
from .support.web import AuthActions, post

ADMIN = Actor("ada.admin", 1, frozenset({"admin"}))
MANAGER = Actor("mona.manager", 2, frozenset({"complaints_manager"}))
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def checkpoint_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Checkpoints of this test only, in a folder of its own."""
    folder = tmp_path / "checkpoints"
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(folder)
    yield folder


def closed(years_ago: float, outcome: str, name: str, document: bool = False) -> str:
    """A complaint that closed `years_ago` with this outcome; its reference."""
    with time_machine.travel(NOW - timedelta(days=365 * years_ago), tick=True):
        reference, _token = file_case(complainant_name=name,
                                      complainant_email=f"{name.split()[0].lower()}@example.com")
        if document:
            upload = FileStorage(BytesIO(PDF), filename="letter.pdf")
            attachments.add_documents(reference, [upload],
                                      Actor("hana.handler", 101, frozenset({"handler"})),
                                      "staff")
        drive(reference, lambda data: not cases.get_case(reference).is_open,
              {"outcome": outcome, "final_outcome": outcome, "accepted": True}, steps=40)
    return reference


@pytest.fixture
def seeded(app: Flask, app_ctx: None) -> dict[str, str]:
    """Closed complaints of several outcomes and ages, one open one, one held."""
    world = {
        "upheld_old": closed(2.5, "upheld", "Amal Upheld"),
        "upheld_1y": closed(1, "upheld", "Badr Recent"),
        "not_upheld_old": closed(2.5, "not_upheld", "Camila Notupheld", document=True),
        "held_old": closed(2.5, "upheld", "Dana Held"),
        "open": file_case(complainant_name="Eyad Open")[0],
    }
    legal_hold.place(world["held_old"], "Claim before the court", MANAGER)
    retention.add_rule("upheld", "anonymise", "2", "years", ADMIN)
    retention.add_rule("any", "documents", "6", "months", ADMIN)
    return world


def all_facts() -> list[dict]:
    """Every case's reporting facts, as every report reads them."""
    db.session.expire_all()
    return [{c.name: getattr(row, c.name) for c in CaseReport.__table__.columns
             if c.name != "updated_at"}
            for row in db.session.scalars(select(CaseReport).order_by(CaseReport.case_id))]


def figures(client: FlaskClient) -> dict[str, str]:
    """Every dashboard report's CSV over the whole seeded period."""
    period = {"from": (NOW - timedelta(days=365 * 3 - 2)).date().isoformat(),
              "to": NOW.date().isoformat()}
    found = {}
    for report in REPORTS:
        answer = client.get(f"/reports/{report.name}.csv", query_string=period)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        found[report.name] = answer.get_data(as_text=True)
    return found


def database_bytes() -> bytes:
    """The SQLite database file and its write-ahead log, as a `grep` would read them."""
    db.session.remove()
    path = Path(db.engine.url.database or "")
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def test_dry_run_and_real_run_touch_exactly_the_cases_the_rules_name(
        app: Flask, seeded: dict[str, str], client: FlaskClient, auth: AuthActions,
        backend: str) -> None:
    runner = app.test_cli_runner()
    facts = all_facts()
    auth.login("maya", "complaints_manager")
    shown = figures(client)
    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    listed = set(re.findall(r"^  (\S+)$", dry.output, re.M))
    assert listed == {seeded["upheld_old"], seeded["not_upheld_old"]}
    assert f"{seeded['held_old']} skipped: on legal hold" in dry.output
    assert db.session.scalar(select(Case.complainant_name).where(
        Case.reference == seeded["upheld_old"])) == "Amal Upheld"  # a dry run changes nothing

    real = runner.invoke(args=["retention"])
    assert real.exit_code == 0, real.output
    assert set(re.findall(r"^  (\S+)$", real.output, re.M)) == listed
    db.session.expire_all()
    names = dict(db.session.execute(select(Case.reference, Case.complainant_name)).all())
    assert names[seeded["upheld_old"]] == "[erased]"
    assert names[seeded["upheld_1y"]] == "Badr Recent"
    assert names[seeded["held_old"]] == "Dana Held"
    assert names[seeded["open"]] == "Eyad Open"
    assert names[seeded["not_upheld_old"]] == "Camila Notupheld"  # documents only
    assert db.session.scalar(select(db.func.count(Attachment.id))) == 0
    assert all_facts() == facts
    assert figures(client) == shown
    if backend == "sqlite":  # grep the database file for what was erased, and what was not
        found = database_bytes()
        assert b"Amal Upheld" not in found and b"amal@example.com" not in found
        assert b"Badr Recent" in found
    audit = runner.invoke(args=["verify-audit"])
    assert audit.exit_code == 0, audit.output
    again = runner.invoke(args=["retention", "--dry-run"])
    assert re.findall(r"^  (\S+)$", again.output, re.M) == []  # nothing is done twice


def test_lifting_the_hold_lets_the_rule_reach_the_case(app: Flask,
                                                        seeded: dict[str, str]) -> None:
    legal_hold.lift(seeded["held_old"], MANAGER)
    due = {reference for plan in retention.plan() for _id, reference in plan.due}
    assert seeded["held_old"] in due
    history = cases.get_case(seeded["held_old"])
    assert history.event_count > 0


def test_the_admin_page_shows_the_dry_run_and_refuses_a_bad_rule(
        app: Flask, client: FlaskClient, auth: AuthActions, seeded: dict[str, str]) -> None:
    auth.login("ada", "admin")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert seeded["upheld_old"] in page and seeded["upheld_1y"] not in page
    assert seeded["open"] not in page
    bad = post(client, "/admin/retention", {"outcome": "upheld", "action": "anonymise",
                                            "amount": "soon", "unit": "years"})
    assert bad.status_code == 422
    assert 'value="soon"' in bad.get_data(as_text=True)
    good = post(client, "/admin/retention", {"outcome": "not_upheld", "action": "anonymise",
                                             "amount": "30", "unit": "months"})
    assert good.status_code == 302
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Retention rule 3 added" in page and seeded["not_upheld_old"] in page


def test_a_manager_places_and_lifts_a_hold_on_the_case_page(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    with app.app_context():
        reference, _token = file_case()
    auth.login("mona", "complaints_manager")
    empty = post(client, f"/cases/{reference}/hold", {"hold_reason": "  "})
    assert empty.status_code == 422 and "Say why the case is held" in empty.get_data(True)
    placed = post(client, f"/cases/{reference}/hold", {"hold_reason": "Regulator inquiry"})
    assert placed.status_code == 302
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "On legal hold" in page and "Legal hold placed: Regulator inquiry" in page
    post(client, f"/cases/{reference}/hold/lift")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "On legal hold" not in page and "Legal hold lifted" in page
    auth.logout()
    auth.login("hana", "handler")
    assert post(client, f"/cases/{reference}/hold", {"hold_reason": "x"}).status_code == 403


def test_the_scheduler_runs_retention_daily(app: Flask, seeded: dict[str, str]) -> None:
    db.session.remove()
    runner = TimerScheduler(app)
    runner.start()
    try:
        job = runner._scheduler.get_job(RETENTION_JOB_ID)
        assert job is not None and job.trigger.interval == timedelta(days=1)
    finally:
        runner.shutdown()
    runner._retention()  # what the job runs
    assert cases.get_case(seeded["upheld_old"]).complainant_name == "[erased]"
    assert cases.get_case(seeded["held_old"]).complainant_name == "Dana Held"
