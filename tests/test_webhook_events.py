"""Each event type fires at its moment of the reference process, and the events feed lists
the same events, with the same ids, from the case history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from server.engine import ProcessRuntime
from server.extensions import db
from server.models import HumanTask, WebhookDelivery
from server.services import cases, events, reopening, timers, webhooks
from server.services.actors import Actor

from .support.cases import drive
from .support.data import BREACH, HANDLER, INTAKE, REMINDER, SECOND, START

ADMIN = Actor("ada.admin", 1, frozenset({"admin"}))
SUPERVISOR = Actor("sara.supervisor", 201, frozenset({"supervisor"}))
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def subscribe_all(personal: bool = False) -> None:
    """A subscription to every event type (never posted to in these tests)."""
    webhooks.create({"name": "All", "url": "https://crm.example.com/hooks",
                     "event_types": " ".join(events.EVENT_TYPES), "personal_data": personal,
                     "active": True}, ADMIN)


def queued(after: int = 0) -> list[dict[str, Any]]:
    """The events queued for delivery after the delivery numbered `after`, in order."""
    db.session.rollback()
    return [json.loads(d.payload) for d in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id > after).order_by(WebhookDelivery.id))]


def last_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(WebhookDelivery.id).order_by(WebhookDelivery.id.desc())
                             .limit(1)) or 0


def ready_id(reference: str, title: str) -> str:
    db.session.rollback()
    found = db.session.scalar(select(HumanTask.task_id).join(HumanTask.case)
                              .where(HumanTask.title == title))
    assert found, f"no ready task '{title}' in {reference}"
    return found


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_each_event_fires_at_its_moment_of_the_reference_process(app_ctx: None) -> None:
    subscribe_all()
    with time_machine.travel(START, tick=False) as clock:
        reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
        created, ready = queued()
        assert created["type"] == "case.created" and created["data"]["reference"] == reference
        assert created["data"]["status"] == "Received" and created["data"]["open"] is True
        acknowledge = ready_id(reference, "Acknowledge complaint")
        assert ready["type"] == "task.ready"
        assert ready["data"]["task"] == {"id": acknowledge, "title": "Acknowledge complaint",
                                         "role": "handler", "due": iso(BREACH)}

        seen = last_id()
        clock.move_to(REMINDER + SECOND)
        timers.sweep()
        [reminded] = queued(seen)
        assert reminded["type"] == "deadline.reminder"
        assert reminded["data"]["task"]["id"] == acknowledge
        assert reminded["data"]["deadline"]["title"] == "Acknowledgement due soon"

        seen = last_id()
        clock.move_to(BREACH + SECOND)
        timers.sweep()
        breached, escalated = queued(seen)
        assert breached["type"] == "deadline.breached"
        assert breached["data"]["task"] == {"id": acknowledge, "title": "Acknowledge complaint",
                                            "role": "handler"}
        assert breached["data"]["deadline"]["due"] == iso(BREACH)
        assert escalated["type"] == "task.ready"
        assert escalated["data"]["task"]["role"] == "supervisor"

        seen = last_id()
        clock.move_to(BREACH + 2 * SECOND)  # a later moment than the run that fired the timer
        cases.complete_task(reference, escalated["data"]["task"]["id"],
                            {"acknowledgement_channel": "email",
                             "acknowledgement_message": "We have your complaint."}, SUPERVISOR)
        completed, *after = queued(seen)
        assert completed["type"] == "task.completed"
        assert completed["data"]["task"]["id"] == escalated["data"]["task"]["id"]
        assert completed["data"]["task"]["role"] == "supervisor"
        assert completed["data"]["actor"] == SUPERVISOR.name
        assert "values" not in completed["data"]  # form values are personal data
        assert [e["type"] for e in after] == ["task.ready"]

        drive(reference, lambda _data: not cases.get_case(reference).is_open,
              {"accepted": True})
        closing = [e for e in queued(seen) if e["type"] in ("case.closed", "case.reopened")]
        assert [e["type"] for e in closing] == ["case.closed"]
        assert closing[0]["data"]["open"] is False

        seen = last_id()
        reopening.reopen(reference, "The refund never reached the account.", SUPERVISOR)
        reopened = [e for e in queued(seen) if e["type"].startswith("case.")]
        assert [e["type"] for e in reopened] == ["case.reopened"]
        assert reopened[0]["data"]["open"] is True


def test_a_case_stopped_on_an_incident_gives_incident_opened(
        app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    subscribe_all()
    with time_machine.travel(START, tick=False) as clock:
        reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
        seen = last_id()

        def broken(self: ProcessRuntime, workflow: Any) -> Any:
            raise RuntimeError("the calendar service is down")

        monkeypatch.setattr(ProcessRuntime, "fire_timers", broken)
        clock.move_to(REMINDER + SECOND)
        assert timers.sweep().failed == 1
        [incident] = queued(seen)
        assert incident["type"] == "incident.opened"
        assert incident["data"]["reference"] == reference
        assert incident["data"]["incident"]["id"]
        assert "error" not in incident["data"]["incident"]
        clock.move_to(BREACH + SECOND)
        timers.sweep()  # fails again: the same incident, no new event
        assert queued(seen) == [incident]


def test_the_feed_lists_the_webhooks_events_with_their_ids_oldest_first(app_ctx: None) -> None:
    subscribe_all()
    with time_machine.travel(START, tick=False) as clock:
        reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
        clock.move_to(BREACH + SECOND)
        timers.sweep()
        cases.start_case(dict(INTAKE), "web", HANDLER)
    delivered = [(e["id"], e["type"]) for e in queued()]
    listed, cursor = events.feed(None, 100, personal=False)
    assert [(e["id"], e["type"]) for e in listed] == delivered
    assert listed[0]["data"]["reference"] == reference
    assert {e["data"]["case_kind"] for e in listed} == {"complaint"}
    assert events.feed(cursor, 100, personal=False) == ([], cursor)

    paged: list[tuple[str, str]] = []
    after = None
    for _page in range(20):
        page, after = events.feed(after, 2, personal=False)
        if not page:
            break
        assert len(page) <= 2 or len({e["id"].rsplit("_", 1)[0] for e in page}) == 1
        paged.extend((e["id"], e["type"]) for e in page)
    assert paged == delivered


def test_the_feed_gives_personal_data_only_when_asked(app_ctx: None) -> None:
    cases.start_case(dict(INTAKE), "web", HANDLER)
    plain, _cursor = events.feed(None, 10, personal=False)
    personal, _cursor = events.feed(None, 10, personal=True)
    assert INTAKE["complainant_email"] not in json.dumps(plain)
    assert INTAKE["description"] not in json.dumps(plain)
    created = personal[0]["data"]
    assert created["complainant"]["email"] == INTAKE["complainant_email"]
    assert created["description"] == INTAKE["description"]
    assert [e["id"] for e in plain] == [e["id"] for e in personal]
