"""The escalation policy: which row applies, reminders, next levels, and live changes."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from server import create_app
from server.errors import InvalidInput
from server.extensions import db
from server.models import EscalationTarget, SystemEvent
from server.services import policy
from server.services.actors import Actor

from .support.app import app_config

ADMIN = Actor("root", 1, frozenset({"admin"}))
RIYADH = ZoneInfo("Asia/Riyadh")
SUNDAY_10 = datetime(2026, 9, 20, 10, 0, tzinfo=RIYADH)  # a Sunday; Wednesday 23 is a holiday


def riyadh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=RIYADH)  # type: ignore[misc]


def row_values(kind: str, **changes: dict[str, str]) -> dict[str, str]:
    """The table's inputs for one kind as the page shows them, with some rows changed."""
    values: dict[str, str] = {}
    for row in policy.list_targets()[kind]:
        fields = {f: str(getattr(row, f)) for f in policy.FIELDS}
        fields.update(changes.get(f"{row.priority}/{row.category}", {}))
        values.update({f"t{row.id}_{f}": v for f, v in fields.items()})
    return values


def due(kind: str, priority: str | None = None, category: str | None = None,
        since: datetime = SUNDAY_10) -> datetime:
    return policy.deadline(kind, priority=priority, category=category, since=since)


def test_the_seeded_policy_suits_a_saudi_bank(app_ctx) -> None:
    # Acknowledge in 1 working day, respond in 3, resolve in 5; urgent ones sooner.
    assert due("acknowledge") == riyadh(2026, 9, 21, 10, 0)
    assert due("response") == riyadh(2026, 9, 24, 10, 0)  # Wednesday 23 is National Day
    assert due("resolution", "medium") == riyadh(2026, 9, 28, 10, 0)
    assert due("acknowledge", "urgent") == riyadh(2026, 9, 20, 12, 0)
    assert due("resolution", "urgent") == riyadh(2026, 9, 21, 10, 0)
    assert due("resolution").tzinfo is not None and due("resolution").utcoffset().seconds == 0
    assert [(t.kind, t.amount, t.unit) for t in policy.targets_for_public()] == [
        ("acknowledge", 1, "working_days"), ("response", 3, "working_days"),
        ("resolution", 5, "working_days")]


def test_the_most_specific_row_wins(app_ctx) -> None:
    days = {"unit": "working_days", "remind_amount": "0", "remind_unit": "working_hours",
            "next_level_amount": "1", "next_level_unit": "working_days"}
    policy.add_target({"kind": "acknowledge", "priority": "high", "category": "billing",
                       "amount": "2", **days}, ADMIN)
    policy.add_target({"kind": "acknowledge", "priority": "any", "category": "privacy",
                       "amount": "4", **days}, ADMIN)
    assert due("acknowledge", "high", "billing") == riyadh(2026, 9, 22, 10, 0)  # both match
    assert due("acknowledge", "high", "delay") == riyadh(2026, 9, 20, 14, 0)  # high: 4 h
    assert due("acknowledge", "high", "privacy") == riyadh(2026, 9, 20, 14, 0)  # priority first
    assert due("acknowledge", None, "privacy") == riyadh(2026, 9, 27, 10, 0)  # category alone
    assert due("acknowledge", None, None) == riyadh(2026, 9, 21, 10, 0)  # any
    assert due("acknowledge", "critical", "nonsense") == riyadh(2026, 9, 21, 10, 0)


def test_reminder_comes_before_the_deadline_and_the_next_level_after_the_breach(app_ctx) -> None:
    # Acknowledge within 1 working day (Monday 10:00), reminder 4 working hours before:
    # Monday 08:00-10:00 and Sunday 14:00-16:00.
    assert policy.reminder_at("acknowledge", priority=None, category=None,
                              since=SUNDAY_10) == riyadh(2026, 9, 20, 14, 0)
    breach = due("acknowledge")
    assert policy.next_level_at("acknowledge", priority=None, category=None,
                                since=breach) == riyadh(2026, 9, 22, 10, 0)
    # A lead longer than the target reminds at once, never before the complaint came in.
    policy.save_targets("acknowledge", row_values("acknowledge", **{"any/any": {
        "remind_amount": "3", "remind_unit": "working_days"}}), ADMIN)
    assert policy.reminder_at("acknowledge", priority=None, category=None,
                              since=SUNDAY_10) == SUNDAY_10


def test_calendar_units_ignore_the_working_week(app_ctx) -> None:
    policy.save_targets("resolution", row_values("resolution", **{"any/any": {
        "amount": "30", "unit": "calendar_days", "remind_amount": "48",
        "remind_unit": "calendar_hours"}}), ADMIN)
    assert due("resolution") == riyadh(2026, 10, 20, 10, 0)
    assert policy.reminder_at("resolution", priority=None, category=None,
                              since=SUNDAY_10) == riyadh(2026, 10, 18, 10, 0)


def test_a_change_saved_by_another_process_applies_to_the_next_deadline(
        app_ctx: None, database_url: str) -> None:
    assert due("acknowledge") == riyadh(2026, 9, 21, 10, 0)
    other = create_app(app_config(database_url))  # its own engine and connections
    with other.app_context():
        changed = policy.save_targets("acknowledge", row_values("acknowledge", **{
            "any/any": {"amount": "3"}}), ADMIN)
        db.session.remove()
        db.engine.dispose()
    assert changed == 1
    db.session.rollback()  # the next request or timer sweep starts a new transaction
    assert due("acknowledge") == riyadh(2026, 9, 24, 10, 0)
    event_row = db.session.scalars(select(SystemEvent).where(
        SystemEvent.kind == "policy.targets")).one()
    data = json.loads(event_row.data)
    assert data["before"]["acknowledge/any/any"]["amount"] == 1
    assert data["after"]["acknowledge/any/any"]["amount"] == 3


def test_an_unknown_kind_names_the_known_ones(app_ctx) -> None:
    with pytest.raises(InvalidInput, match="acknowledge, response, resolution") as caught:
        due("acknowledgement")
    assert "'acknowledgement'" in caught.value.message


def test_bad_targets_are_refused_per_field_and_nothing_is_saved(app_ctx) -> None:
    values = row_values("acknowledge", **{"any/any": {"amount": "-1"},
                                          "urgent/any": {"unit": "fortnights"},
                                          "high/any": {"next_level_amount": "99999"}})
    with pytest.raises(InvalidInput) as caught:
        policy.save_targets("acknowledge", values, ADMIN)
    fields = set(caught.value.field_errors)
    assert len(fields) == 3
    assert all(f.startswith("t") for f in fields)
    db.session.rollback()
    assert due("acknowledge") == riyadh(2026, 9, 21, 10, 0)
    with pytest.raises(InvalidInput, match="priority rows"):
        policy.remove_target(policy.list_targets()["acknowledge"][0].id, ADMIN)


def test_a_deadline_reads_only_the_settings_stamp_once_the_settings_are_kept(app_ctx) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    due("resolution", "medium", "billing")  # warm the holiday cache and the settings
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        due("resolution", "medium", "billing")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # Only the settings stamp, which says the policy and calendar kept are still current
    # (outside a run, once for each: the target, the calendar).
    assert statements and all("settings_stamp" in s for s in statements), statements
    assert db.session.scalar(select(EscalationTarget.id).limit(1)) is not None
