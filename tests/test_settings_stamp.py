"""Settings are kept per process, yet a change saved anywhere applies to the next step: an
administrator in another process, someone fixing a row by hand in SQL. A change that is
rolled back never reaches anyone (DESIGN decision 8; services/lookups.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text, update

from server import create_app
from server.extensions import db
from server.models import Case, EscalationTarget, HumanTask, User
from server.services import auth, calendar, cases, policy, users
from server.services.actors import Actor

from .support.app import app_config
from .support.data import ACK, ASSESS, HANDLER, INTAKE
from .support.web import AuthActions, make_user

ADMIN = Actor("ada.admin", 1, frozenset({"admin"}))
THURSDAY = datetime(2026, 5, 7, 11, 0, tzinfo=UTC)  # 14:00 in Riyadh
SUNDAY = datetime(2026, 5, 10, 11, 0, tzinfo=UTC)  # one working day on
MONDAY = datetime(2026, 5, 11, 11, 0, tzinfo=UTC)  # two working days on
TUESDAY = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)  # three working days on
STANDARD = (EscalationTarget.kind == "acknowledge", EscalationTarget.priority == "any",
            EscalationTarget.category == "any")


def acknowledge_due() -> datetime | None:
    """When a complaint received on Thursday afternoon must be acknowledged."""
    with time_machine.travel(THURSDAY, tick=False):
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    return due(case)


def due(case: Case) -> datetime | None:
    db.session.rollback()
    found = db.session.scalar(select(HumanTask.due_at).where(
        HumanTask.case_id == case.id, HumanTask.bpmn_id == "acknowledge"))
    db.session.rollback()  # the next step starts afresh, as the next request would
    return found.replace(tzinfo=UTC) if found is not None and found.tzinfo is None else found


@contextmanager
def another_process(database_url: str) -> Iterator[None]:
    """An application of its own on the same database, as another worker would run."""
    other = create_app(app_config(database_url))
    with other.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_target_saved_by_another_process_applies_to_the_next_step(
        app_ctx: None, database_url: str) -> None:
    assert acknowledge_due() == SUNDAY  # the policy is now kept in this process
    with another_process(database_url):
        row = db.session.scalar(select(EscalationTarget).where(*STANDARD))
        values: dict[str, str] = {}
        for target in policy.list_targets()["acknowledge"]:
            values.update(policy.row_form(target))
        values[f"t{row.id}_amount"] = "2"
        assert policy.save_targets("acknowledge", values, ADMIN) == 1
    assert acknowledge_due() == MONDAY


def test_a_holiday_added_by_another_process_moves_the_next_deadline(
        app_ctx: None, database_url: str) -> None:
    assert acknowledge_due() == SUNDAY  # the calendar is now kept in this process
    with another_process(database_url):
        calendar.add_date("holiday", {"first_day": "2026-05-10", "name": "Founding Day"}, ADMIN)
    assert acknowledge_due() == MONDAY


def test_a_row_changed_by_hand_in_sql_applies_to_the_next_step(
        app_ctx: None, database_url: str) -> None:
    assert acknowledge_due() == SUNDAY
    by_hand = create_engine(database_url)
    with by_hand.begin() as connection:
        connection.execute(text("UPDATE escalation_target SET amount = 3 WHERE kind = "
                                "'acknowledge' AND priority = 'any' AND category = 'any'"))
    by_hand.dispose()
    assert acknowledge_due() == TUESDAY


def test_a_change_rolled_back_is_never_used(app_ctx: None) -> None:
    assert acknowledge_due() == SUNDAY
    db.session.execute(update(EscalationTarget).where(*STANDARD).values(amount=2))
    with time_machine.travel(THURSDAY, tick=False):
        # Read inside the transaction that changed it: kept under a stamp never committed.
        assert policy.deadline("acknowledge", priority=None, category=None,
                               since=THURSDAY) == MONDAY
    db.session.rollback()
    assert acknowledge_due() == SUNDAY


def test_a_step_reads_the_settings_stamp_and_no_setting_once_they_are_kept(
        app: Flask, app_ctx: None) -> None:
    acknowledge_due()  # the first step reads the settings in
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert acknowledge_due() == SUNDAY
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    reads = [s for s in statements if s.upper().startswith("SELECT")]
    assert any("settings_stamp" in s for s in reads)
    kept = ("escalation_target", "business_calendar", "working_hours", "calendar_date",
            "webhook_subscription", "team_route", "code_entry")
    assert [s for s in reads if any(f"FROM {t}" in s for t in kept)] == []


def stamp() -> str:
    """The settings stamp as committed now."""
    db.session.rollback()
    found = str(db.session.execute(text("SELECT stamp FROM settings_stamp")).scalar_one())
    db.session.rollback()
    return found


def assessor(reference: str, bpmn_id: str) -> int | None:
    """Who the case's waiting task went to (None: nobody yet)."""
    db.session.rollback()
    found = db.session.scalar(select(HumanTask.assignee_id).join(Case).where(
        Case.reference == reference, HumanTask.bpmn_id == bpmn_id))
    db.session.rollback()  # the next step starts afresh, as the next request would
    return found


def test_an_owner_whose_role_another_process_took_away_gets_no_new_task_from_the_next_step(
        app_ctx: None, database_url: str) -> None:
    make_user("hana", "handler")
    hana = db.session.scalar(select(User.id).where(User.username == "hana"))
    reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.bpmn_id == "acknowledge"))
    cases.complete_task(reference, task_id, ACK, Actor("hana", hana, frozenset({"handler"})))
    assert assessor(reference, "assess") == hana  # the owner's roles are now kept here
    with another_process(database_url):
        users.update_user("hana", "Hana", None, ["supervisor"], True, Actor.system("admin"))
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.bpmn_id == "assess"))
    cases.complete_task(reference, task_id, ASSESS, Actor.system("test"))
    assert assessor(reference, "investigate") is None  # waits for any handler


def test_signing_in_and_out_leave_the_kept_settings_alone_switching_an_account_off_does_not(
        app_ctx: None) -> None:
    make_user("hana", "handler")
    hana = db.session.scalar(select(User.id).where(User.username == "hana"))
    before = stamp()
    auth.signed_in(hana)  # the last sign-in is written on every sign-in
    auth.sign_out(hana)  # a new session epoch
    assert stamp() == before
    users.update_user("hana", "Hana", None, ["handler"], False, Actor.system("admin"))
    assert stamp() != before


def test_a_target_saved_by_another_process_while_a_task_page_is_open_applies_to_its_post(
        app_ctx: None, database_url: str, client: FlaskClient, auth: AuthActions) -> None:
    with time_machine.travel(THURSDAY, tick=False):
        auth.login("hana", "handler")
        reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
        task_id = db.session.scalar(select(HumanTask.task_id))
        db.session.rollback()
        path = f"/cases/{reference}/tasks/{task_id}"
        answer = client.get(path)  # the page reads the settings stamp
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200, page[:3000]
        with another_process(database_url):
            values: dict[str, str] = {}
            for target in policy.list_targets()["response"]:
                values.update(policy.row_form(target))
            row = db.session.scalar(select(EscalationTarget).where(
                EscalationTarget.kind == "response", EscalationTarget.priority == "any",
                EscalationTarget.category == "any"))
            values[f"t{row.id}_amount"] = "2"  # three working days before
            assert policy.save_targets("response", values, ADMIN) == 1
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        sent = client.post(path, data={**ACK, "csrf_token": token.group(1)})
    assert sent.status_code == 302
    assert due_of(reference, "assess") == MONDAY


def due_of(reference: str, bpmn_id: str) -> datetime | None:
    """The due time of the case's waiting task."""
    db.session.rollback()
    found = db.session.scalar(select(HumanTask.due_at).join(Case).where(
        Case.reference == reference, HumanTask.bpmn_id == bpmn_id))
    db.session.rollback()
    return found.replace(tzinfo=UTC) if found is not None and found.tzinfo is None else found
