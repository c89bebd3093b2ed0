"""Separation of duties: nobody approves their own remedy, and an approver cannot review it.

The rule is by person: holding the handler and the supervisor roles does not let someone
decide a remedy and then approve it, and a supervisor who approved a remedy cannot do the
internal review of that decision.
"""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask, OutboxMessage
from server.services import cases
from server.services.actors import Actor
from tests.support.data import ACK, ASSESS, INTAKE, INVESTIGATE
from tests.support.web import make_user, post, sign_in, submit

DECIDE = {"outcome": "upheld", "response": "We refund the fees and add a goodwill payment.",
          "remedy_offered": "Refund and goodwill payment", "compensation_amount": 7500}


def form(values: dict) -> dict[str, str]:
    """Values as a browser sends them."""
    return {k: {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)
            for k, v in values.items()}


def task_path(app: Flask, reference: str, bpmn_id: str) -> str:
    with app.app_context():
        task_id = db.session.scalar(select(HumanTask.task_id).join(Case).where(
            Case.reference == reference, HumanTask.bpmn_id == bpmn_id))
    assert task_id is not None, f"{bpmn_id} is not waiting on {reference}"
    return f"/cases/{reference}/tasks/{task_id}"


def person(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client


def decided_by_sam(app: Flask) -> str:
    """Sam holds handler and supervisor; he works a case up to a 7,500 remedy."""
    with app.app_context():
        make_user("sam", "handler", "supervisor")
        make_user("sara", "supervisor")
        make_user("salem", "supervisor")
        reference = cases.start_case(dict(INTAKE), "web", Actor.system("test")).case.reference
    sam = person(app, "sam")
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE), ("respond", DECIDE)):
        sent = submit(sam, task_path(app, reference, bpmn_id), form(values))
        assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    return reference


def test_someone_holding_two_roles_cannot_approve_the_remedy_they_decided(app: Flask) -> None:
    reference = decided_by_sam(app)
    sam, sara = person(app, "sam"), person(app, "sara")
    path = task_path(app, reference, "approve_supervisor")

    page = sam.get(path)
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 403
    assert "handled this case before (Decide and respond)" in text
    assert 'cannot do "Approve the remedy"' in text
    claimed = post(sam, f"{path}/claim", {"back": "/tasks"}, follow_redirects=True)
    assert "handled this case before" in html.unescape(claimed.get_data(as_text=True))
    assert post(sam, path, {"approved": "true"}).status_code == 403
    # Sara may not hand it to him either.
    given = post(sara, f"{path}/reassign", {"username": "sam", "back": "/tasks"},
                 follow_redirects=True)
    assert "sam handled this case before" in html.unescape(given.get_data(as_text=True))

    assert submit(sara, path, {"approved": "true"}).status_code == 302
    with app.app_context():
        assert cases.get_case(reference).status_label == \
            "Decision sent: waiting for your answer"


def test_the_approver_cannot_review_the_decision_they_approved(app: Flask) -> None:
    reference = decided_by_sam(app)
    sara, salem = person(app, "sara"), person(app, "salem")
    assert submit(sara, task_path(app, reference, "approve_supervisor"),
                  {"approved": "true"}).status_code == 302
    with app.app_context():
        cases.send_message(reference, "complainant_response",
                           {"accepted": False, "reason": "Not enough."}, Actor.complainant())
    path = task_path(app, reference, "review")

    page = sara.get(path)
    assert page.status_code == 403
    assert "handled this case before (Approve the remedy)" in \
        html.unescape(page.get_data(as_text=True))
    refused = person(app, "sam").get(path)
    assert refused.status_code == 403 and "Decide and respond" in \
        html.unescape(refused.get_data(as_text=True))
    assert salem.get(path).status_code == 200  # not involved: he reviews


def test_a_task_nobody_left_may_do_is_flagged_and_the_complaints_manager_is_told(
        app: Flask) -> None:
    """Sam is the only supervisor: he decided, so nobody may approve. Then Sara joins."""
    with app.app_context():
        make_user("sam", "handler", "supervisor")
        make_user("max", "complaints_manager", email="max@bank.example")
        reference = cases.start_case(dict(INTAKE), "web", Actor.system("test")).case.reference
    sam = person(app, "sam")
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE), ("respond", DECIDE)):
        assert submit(sam, task_path(app, reference, bpmn_id), form(values)).status_code == 302

    with app.app_context():
        flag = db.session.scalar(select(HumanTask.flag).join(Case).where(
            Case.reference == reference, HumanTask.bpmn_id == "approve_supervisor"))
        [alert] = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.event == "nobody_eligible"))
        assert flag == "Nobody may do this: all who hold the role handled the case"
        assert (alert.recipient, alert.recipient_kind) == ("max@bank.example",
                                                           "complaints_manager")
        assert 'Nobody may do "Approve the remedy"' in alert.subject
        assert "everyone who holds its role handled this case before" in alert.body_text
    inbox = person(app, "max").get("/tasks?view=team").get_data(as_text=True)
    assert "Nobody may do this: all who hold the role handled the case" in inbox

    # A supervisor who was not involved joins: the task is theirs to do.
    with app.app_context():
        make_user("sara", "supervisor")
    assert submit(person(app, "sara"), task_path(app, reference, "approve_supervisor"),
                  {"approved": "true"}).status_code == 302


def test_a_task_someone_may_still_do_raises_no_alert(app: Flask) -> None:
    reference = decided_by_sam(app)  # Sara and Salem, supervisors, were not involved
    with app.app_context():
        flag = db.session.scalar(select(HumanTask.flag).join(Case).where(
            Case.reference == reference, HumanTask.bpmn_id == "approve_supervisor"))
        alerts = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.event == "nobody_eligible")).all()
    assert flag is None and alerts == []
