"""Corrective actions (ISO 10002 8.7) through the services: opened when a case closes with
an action needed or by hand, complaints linked, planned, implemented, checked for
recurrence, and closed when effective."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, update

from server.errors import InvalidInput
from server.extensions import db
from server.models import Case, CaseReport, CorrectiveAction, HumanTask, OutboxMessage, User
from server.services import (
    action_register,
    actions,
    audit,
    audit_samples,
    cases,
    conformance,
    related,
    search,
    timers,
)
from server.services.actors import Actor
from server.services.report_period import Period

from .support.cases import complete, decided, drive, file_case
from .support.web import make_user

MANAGER = Actor("mona.manager", 301, frozenset({"complaints_manager"}))
FIX = "Reprint the fee table in the branch leaflets."


def closed_with_action(cause: str = "process", text: str = FIX) -> str:
    """A complaint closed with a corrective action needed; its reference."""
    reference, _ = decided()
    drive(reference, lambda data: "closure_reason" in data,
          {"accepted": True, "root_cause": cause, "corrective_action_needed": True,
           "corrective_action": text})
    return reference


def action_of(reference: str) -> Case:
    db.session.rollback()
    [found] = action_register.linked_actions(cases.get_case(reference).id)
    return found


def test_closing_with_an_action_needed_opens_one_and_links_the_complaint(app_ctx):
    reference = closed_with_action()
    action = action_of(reference)
    assert action.kind == "action" and action.reference.startswith("CA-")
    assert action.description == FIX and action.is_open
    assert action.status_label == "Being planned"
    row = db.session.get(CorrectiveAction, action.id)
    assert (row.cause, row.origin) == ("process", "close")
    assert actions.linked_references(action.id) == [reference]
    complaint = cases.get_case(reference)
    assert not complaint.is_open  # the complaint closed all the same
    said = [e.summary for e in audit.history(complaint)]
    assert any(f"corrective action {action.reference} opened" in s for s in said)
    assert [e.summary for e in audit.history(action)][:2] == [
        f"Corrective action opened from {reference}", f"Complaint {reference} linked"]
    assert audit.verify_case(action) == [] and audit.verify_case(complaint) == []
    # The plan goes to a handler: the action's owner's role.
    assert [(t.bpmn_id, t.role) for t in cases.ready_tasks(action)] == [
        ("plan_action", "handler")]


def test_a_second_complaint_with_the_same_cause_joins_the_open_action(app_ctx):
    first = closed_with_action("process")
    second = closed_with_action("process", "Same again.")
    other = closed_with_action("system", "Fix the statement job.")
    action = action_of(first)
    assert action_of(second).id == action.id
    assert actions.linked_references(action.id) == [first, second]
    assert action_of(other).id != action.id
    assert any(f"linked to corrective action {action.reference}" in e.summary
               for e in audit.history(cases.get_case(second)))


def test_a_manager_opens_an_action_by_hand_and_links_complaints(app_ctx):
    one, _ = file_case()
    two, _ = file_case()
    action = actions.open_by_hand(actions.NewAction(
        "Train the phone team", "staff_error", "A session on the fee rules.", f"{one}, {two}"),
        MANAGER)
    row = db.session.get(CorrectiveAction, action.id)
    assert (row.origin, row.cause, row.title) == ("register", "staff_error",
                                                    "Train the phone team")
    assert actions.linked_references(action.id) == [one, two]
    assert any(e.summary == f"Linked to corrective action {action.reference}"
               for e in audit.history(cases.get_case(one)))

    actions.unlink(action.reference, one, MANAGER)
    assert actions.linked_references(action.id) == [two]
    assert any(e.summary == f"Complaint {one} unlinked"
               for e in audit.history(cases.get_case(action.reference)))


@pytest.mark.parametrize(("given", "field", "says"), [
    ({"title": ""}, "title", "Give the action a title."),
    ({"cause": "weather"}, "cause", "Choose the cause from the list."),
    ({"description": ""}, "description", "Say what should be done."),
    ({"complaints": "CMP-1999-000001"}, "complaints", "There is no complaint CMP-1999-000001."),
])
def test_the_register_form_refuses_what_it_cannot_use(app_ctx, given, field, says):
    form = {"title": "Fix it", "cause": "process", "description": "Do it.", "complaints": "",
            **given}
    with pytest.raises(InvalidInput) as refused:
        actions.open_by_hand(actions.NewAction(**form), MANAGER)
    assert refused.value.field_errors[field] == [says]
    assert db.session.scalar(select(Case.id).where(Case.kind == "action")) is None


def test_linking_refuses_unknown_references_actions_and_complaints_linked_twice(app_ctx):
    one, _ = file_case()
    action = actions.open_by_hand(actions.NewAction("A", "process", "Do it.", one), MANAGER)
    other = actions.open_by_hand(actions.NewAction("B", "system", "Do it.", ""), MANAGER)
    for text, says in ((one, f"Already linked to {action.reference}: {one}."),
                       ("CMP-1999-000009", "There is no complaint CMP-1999-000009."),
                       (other.reference, f"{other.reference} is a corrective action, not a "
                                         "complaint."),
                       ("", "Give the reference of a complaint to link.")):
        with pytest.raises(InvalidInput) as refused:
            actions.link(action.reference, text, MANAGER)
        assert refused.value.field_errors["complaints"] == [says]
    with pytest.raises(InvalidInput):
        actions.unlink(action.reference, file_case()[0], MANAGER)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ready(reference: str) -> dict[str, HumanTask]:
    db.session.rollback()
    case = cases.get_case(reference)
    return {t.bpmn_id: t for t in cases.ready_tasks(case)}


def test_an_action_is_planned_chased_when_late_checked_for_recurrence_and_closed(app_ctx):
    make_user("hana", "handler", email="hana@example.com")
    owner = Actor.for_user(db.session.scalar(select(User).where(User.username == "hana")))
    with time_machine.travel(utc(2026, 5, 3, 6, 0), tick=False) as clock:
        first, _ = file_case()
        action = actions.open_by_hand(actions.NewAction(
            "Fix the fee table", "process", FIX, first), MANAGER)
        complete(action.reference, "plan_action",
                 {"plan": "New leaflets.", "due_date": "2026-05-10"}, owner)
        implement = ready(action.reference)["implement_action"]
        assert implement.due_at == utc(2026, 5, 10, 23, 59, 59)
        assert implement.assignee_id == owner.user_id  # the planner owns the action
        assert cases.get_case(action.reference).status_label == "Being implemented"

        clock.move_to(utc(2026, 5, 10, 0, 0, 1))
        timers.sweep()
        assert ready(action.reference)["implement_action"].flag == "Action due today"
        clock.move_to(utc(2026, 5, 11, 0, 0, 1))
        timers.sweep()
        assert ready(action.reference)["implement_action"].flag == "Action overdue"
        [row] = action_register.rows(action_register.RegisterFilter("overdue"))
        assert (row["reference"], row["overdue"]) == (action.reference, True)
        told = db.session.scalars(select(OutboxMessage.event).where(
            OutboxMessage.case_id == action.id)).all()
        assert "escalated" in told and "reminder" in told

        complete(action.reference, "implement_action", {"implementation": "Printed."}, owner)
        implemented = db.session.get(CorrectiveAction, action.id).implemented_at
        assert implemented == utc(2026, 5, 11, 0, 0, 1)
        assert action_register.rows(action_register.RegisterFilter("overdue")) == []

        clock.move_to(utc(2026, 5, 20, 9, 0))
        again, _ = file_case()
        before, _ = file_case()
        clock.move_to(utc(2026, 6, 11, 0, 0, 2))
        timers.sweep()
        verify = ready(action.reference)["verify_action"]
        assert verify.role == "complaints_manager"
        # As their Close steps would report it (a later step rewrites the facts).
        _report_cause(again, "process")
        _report_cause(before, "process", received=utc(2026, 5, 1))
        counted = action_register.recurrence(db.session.get(CorrectiveAction, action.id))
        assert (counted.count, [r for r, _ in counted.complaints]) == (1, [again])

        complete(action.reference, "verify_action",
                 {"effectiveness": "not_effective", "effectiveness_note": "It came back."},
                 MANAGER)
        assert set(ready(action.reference)) == {"plan_action"}
        complete(action.reference, "plan_action",
                 {"plan": "Retrain the branch staff.", "due_date": "2026-07-30"}, owner)
        complete(action.reference, "implement_action", {"implementation": "Trained."}, owner)
        clock.move_to(utc(2026, 7, 20))
        timers.sweep()
    # On a clock that ticks: the end event comes after the step, as it does in real life.
    complete(action.reference, "verify_action",
             {"effectiveness": "effective", "effectiveness_note": "No new ones."}, MANAGER)
    closed = cases.get_case(action.reference)
    assert (closed.is_open, closed.status_label) == (False, "Closed: effective")
    [row] = action_register.rows(action_register.RegisterFilter("closed"))
    assert row["recurrence"] == 0  # counted from the second implementation
    # The ISO 10002 evidence of 8.7 counts it: opened, completed, the complaint linked.
    everything = Period(date(2020, 1, 1), date(2035, 12, 31), ZoneInfo("UTC"))
    [improvement] = [e for e in conformance.evidence(everything) if e.item.ref == "8.7"]
    figures = dict((str(name), value) for name, value in improvement.figures)
    assert (figures["Corrective actions opened"],
            figures["Corrective actions completed (verified effective)"],
            figures["Complaints linked to a corrective action"]) == ("1", "1", "1")


def _report_cause(reference: str, cause: str, received: datetime | None = None) -> None:
    """Give a complaint a reported cause (as its Close step would) and a receipt time."""
    case = cases.get_case(reference)
    db.session.execute(update(CaseReport).where(CaseReport.case_id == case.id)
                       .values(cause=cause))
    if received is not None:
        db.session.execute(update(Case).where(Case.id == case.id)
                           .values(received_at=received))
    db.session.commit()


def test_an_open_action_stays_out_of_complaint_lists(app_ctx, client, auth):
    reference = closed_with_action()
    action = action_of(reference)
    shown = action.reference
    complaint = cases.get_case(reference)
    # Even an action that looked like the complaint would not be taken for a related one.
    db.session.execute(update(Case).where(Case.id == action.id).values(
        complainant_email=complaint.complainant_email, category=complaint.category,
        product_service=complaint.product_service))
    db.session.commit()
    for state in ("open", ""):
        found = search.find(search.parse({"state": state}).filters)
        assert action.reference not in [r.reference for r in found.rows]
    assert search.exact_reference(action.reference) is None
    assert action.reference not in [ref for _, ref in audit_samples.population(
        date(2020, 1, 1), date(2030, 1, 1))]
    assert action.reference not in [r.reference for r in related.for_case(complaint)]
    assert db.session.get(CaseReport, action.id) is None  # no reporting facts
    auth.login("rana", "supervisor")
    for page in ("/cases?state=open", "/reports/cases", "/reports"):
        answer = client.get(page)
        assert answer.status_code == 200 and shown not in answer.get_data(as_text=True)
    assert reference in client.get("/cases").get_data(as_text=True)
    label = db.session.scalar(select(Case.status_label).where(Case.reference == shown))
    assert label  # its diagram's label, e.g. "Being planned"
    assert f'value="{label}"' not in client.get("/cases").get_data(as_text=True)
