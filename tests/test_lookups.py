"""A timer sweep and a step read each setting once, as it is when they first ask; the next
sweep reads them again, so an administrator's change applies from the next sweep on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, select

from server.extensions import db
from server.models import Case, EscalationTarget, HumanTask, WebhookDelivery
from server.services import cases, events, policy, timers, webhooks
from server.services.actors import Actor

from .support.data import ACK, HANDLER, INTAKE

ADMIN = Actor("ada.admin", 1, frozenset({"admin"}))
SECOND = timedelta(seconds=1)
# Tables an administrator edits; a sweep or a step reads each of their queries once at
# most (the settings themselves not at all while the process keeps them), and the settings
# stamp that says whether they changed once.
SETTINGS = ("escalation_target", "business_calendar", "calendar_date", "webhook_subscription",
            "user_role", "lane_mapping", "settings_stamp")
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due(case: Case, bpmn_id: str) -> datetime | None:
    db.session.rollback()
    return db.session.scalar(select(HumanTask.due_at).where(
        HumanTask.case_id == case.id, HumanTask.bpmn_id == bpmn_id))


def two_cases() -> tuple[Case, Case]:
    """Cases received Thursday 14:00 and 15:00 Riyadh: acknowledgement due Sunday 14:00
    and 15:00 (11:00 and 12:00 UTC), reminded four working hours before."""
    with time_machine.travel(utc(2026, 5, 7, 11, 0), tick=False):
        first = cases.start_case(dict(INTAKE), "web", HANDLER).case
    with time_machine.travel(utc(2026, 5, 7, 12, 0), tick=False):
        second = cases.start_case(dict(INTAKE), "web", HANDLER).case
    return first, second


def sweep_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return timers.sweep().fired


@contextmanager
def settings_read(tables: tuple[str, ...] = SETTINGS) -> Iterator[Counter[str]]:
    """Count the statements that read the settings tables (a role's holders: per role)."""
    seen: Counter[str] = Counter()

    def count(_conn: object, _cursor: object, statement: str, parameters: object,
              *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and \
                any(table in statement for table in tables):
            per_role = parameters if "user_role" in statement else ""
            seen[f"{' '.join(statement.split())} {per_role}"] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_policy_change_between_two_sweeps_applies_to_the_second(app_ctx: None) -> None:
    first, second = two_cases()
    assert sweep_at(utc(2026, 5, 10, 8, 0) + SECOND) == 2  # both reminders
    assert sweep_at(utc(2026, 5, 10, 11, 0) + SECOND) == 1  # the first case is overdue
    assert due(first, "acknowledge_escalated") == utc(2026, 5, 11, 11, 0)  # one working day
    row = db.session.scalar(select(EscalationTarget).where(
        EscalationTarget.kind == "acknowledge", EscalationTarget.priority == "any",
        EscalationTarget.category == "any"))
    values: dict[str, str] = {}
    for target in policy.list_targets()["acknowledge"]:
        values.update(policy.row_form(target))
    values[f"t{row.id}_next_level_amount"] = "2"
    assert policy.save_targets("acknowledge", values, ADMIN) == 1
    assert sweep_at(utc(2026, 5, 10, 12, 0) + SECOND) == 1  # the second case is overdue
    assert due(second, "acknowledge_escalated") == utc(2026, 5, 12, 12, 0)  # now two
    assert due(first, "acknowledge_escalated") == utc(2026, 5, 11, 11, 0)  # as it was set


def test_a_subscription_added_between_two_sweeps_gets_the_second_sweeps_events(
        app_ctx: None) -> None:
    first, second = two_cases()
    assert sweep_at(utc(2026, 5, 10, 11, 0) + SECOND) == 3  # two reminders, the first breach
    webhooks.create({"name": "CRM", "url": "https://crm.example.com/hooks",
                     "event_types": events.BREACHED, "personal_data": False,
                     "active": True}, ADMIN)
    assert sweep_at(utc(2026, 5, 10, 12, 0) + SECOND) == 1  # the second breach
    db.session.rollback()
    queued = db.session.execute(select(WebhookDelivery.case_id, WebhookDelivery.event_type)).all()
    assert [tuple(row) for row in queued] == [(second.id, events.BREACHED)]
    assert first.id != second.id


def test_a_sweep_reads_each_setting_once_however_many_cases_it_fires(app_ctx: None) -> None:
    webhooks.create({"name": "CRM", "url": "https://crm.example.com/hooks",
                     "event_types": " ".join(events.EVENT_TYPES), "personal_data": False,
                     "active": True}, ADMIN)
    two_cases()
    with time_machine.travel(utc(2026, 5, 7, 12, 30), tick=False):
        cases.start_case(dict(INTAKE), "web", HANDLER)
    with settings_read() as seen:
        # Three reminders and a breach: each e-mails the handlers and updates the reports.
        assert sweep_at(utc(2026, 5, 10, 11, 0) + SECOND) == 4
    assert seen, "the sweep read no settings at all: the count below proves nothing"
    assert {statement: n for statement, n in seen.items() if n > 1} == {}


def test_a_step_reads_each_setting_once(app_ctx: None) -> None:
    with time_machine.travel(utc(2026, 5, 7, 11, 0), tick=False):
        cases.start_case(dict(INTAKE), "web", HANDLER)  # the first reads the holidays in
        with settings_read() as intake:
            case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        task_id = db.session.scalar(select(HumanTask.task_id).where(
            HumanTask.case_id == case.id, HumanTask.bpmn_id == "acknowledge"))
        with settings_read() as completing:
            cases.complete_task(case.reference, task_id, ACK, HANDLER)
    for seen in (intake, completing):
        assert seen
        assert {statement: n for statement, n in seen.items() if n > 1} == {}


def test_a_page_reads_a_fields_titles_once_per_language(app: Flask, app_ctx: None) -> None:
    """Titles are in the reader's language: one run asking in English, then Arabic, gets each
    language's labels, each read once; the next run sees an administrator's new label."""
    from flask_babel import force_locale

    from server.services import choice_titles, code_lists, lookups

    with app.test_request_context("/tasks"):
        code_lists.add("products", code_lists.EntryForm("credit_card", "Credit card",
                                                        "بطاقة ائتمان"), Actor.system("admin"))
        with lookups.read_once(), settings_read(("code_entry",)) as seen:
            english = [choice_titles.title("product", "credit_card") for _ in range(3)]
            with force_locale("ar"):
                arabic = [choice_titles.title("product", "credit_card") for _ in range(3)]
        assert english == ["Credit card"] * 3 and arabic == ["بطاقة ائتمان"] * 3
        assert sum(seen.values()) == 2, seen  # one read per language, not per title
        entry = code_lists.get("products", "credit_card")
        code_lists.update("products", "credit_card", code_lists.EntryForm(
            "credit_card", "Card", entry.label_ar), Actor.system("admin"))
        with lookups.read_once():
            assert choice_titles.title("product", "credit_card") == "Card"
