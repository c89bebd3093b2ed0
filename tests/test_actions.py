"""Corrective actions (ISO 10002 8.7) through the services: opened when a case closes with
an action needed or by hand, complaints linked, planned, implemented, checked for
recurrence, and closed when effective."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.errors import InvalidInput
from server.extensions import db
from server.models import Case, CorrectiveAction
from server.services import action_register, actions, audit, cases
from server.services.actors import Actor

from .support.cases import complete, decided, drive, file_case

MANAGER = Actor("mona.manager", 301, frozenset({"complaints_manager"}))
OWNER = Actor("hana.handler", 101, frozenset({"handler"}))
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
