"""ISO 10002 objectivity: whoever handled a case cannot do its internal review.

Enforced, not advised: opening the review task, taking it, being given it and sending its
form are all refused with a message that says why and what to do instead.
"""

from __future__ import annotations

import html
import json

from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask, SystemEvent
from server.services import cases

from .support.data import ACK, ASSESS, INTAKE, INVESTIGATE, RESPOND, REVIEW
from .support.web import post, submit

REASON = "handled this case before"


def review_task(reference: str) -> HumanTask:
    case = cases.get_case(reference)
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                     HumanTask.bpmn_id == "review"))


def handled_and_rejected(client, auth) -> str:
    """Sam, a supervisor who also works cases, handles one; the complainant rejects it."""
    auth.add_user("sara", "supervisor")
    auth.login("sam", "handler", "supervisor")
    reference = cases.start_case(dict(INTAKE), "web", cases.Actor.system("test")).case.reference
    for values in (ACK, ASSESS, INVESTIGATE, RESPOND):
        case = cases.get_case(reference)
        [task] = cases.ready_tasks(case)
        path = f"/cases/{reference}/tasks/{task.task_id}"
        assert submit(client, path, {k: _form(v) for k, v in values.items()}).status_code == 302
    cases.send_message(reference, "complainant_response", {"accepted": False, "reason": "No"},
                       cases.Actor.complainant())
    return reference


def _form(value: object) -> str:
    return {True: "true", False: "false"}.get(value, str(value))  # type: ignore[arg-type]


def test_the_first_handler_is_refused_the_internal_review_with_the_reason(
        client, auth, app_ctx) -> None:
    reference = handled_and_rejected(client, auth)
    task = review_task(reference)
    path = f"/cases/{reference}/tasks/{task.task_id}"

    page = client.get(path)
    assert page.status_code == 403
    text = html.unescape(page.get_data(as_text=True))
    assert REASON in text and "Investigate" in text and "objective review" in text

    claimed = post(client, f"{path}/claim", {"back": "/inbox"}, follow_redirects=True)
    assert REASON in html.unescape(claimed.get_data(as_text=True))
    assert review_task(reference).assignee_id is None

    sent = post(client, path, {"review_outcome": "decision_confirmed", "review_note": "Fine"})
    assert sent.status_code == 403
    assert review_task(reference) is not None  # still open: nothing was recorded

    # The refused claim and the refused completion are kept as evidence that the rule holds.
    db.session.rollback()
    refused = db.session.scalars(select(SystemEvent).where(
        SystemEvent.kind == "objectivity.refused")).all()
    assert [(e.actor, json.loads(e.data)["task"]) for e in refused] == [("sam", "review")] * 2


def test_a_supervisor_cannot_give_the_review_to_the_first_handler(client, auth, app_ctx) -> None:
    reference = handled_and_rejected(client, auth)
    task = review_task(reference)
    auth.logout()
    auth.login("sara")
    page = post(client, f"/cases/{reference}/tasks/{task.task_id}/reassign",
                {"username": "sam", "back": "/inbox"}, follow_redirects=True)
    assert "sam " + REASON in html.unescape(page.get_data(as_text=True))
    assert review_task(reference).assignee_id is None


def test_a_supervisor_who_did_not_handle_the_case_does_the_review(client, auth, app_ctx) -> None:
    reference = handled_and_rejected(client, auth)
    task = review_task(reference)
    auth.logout()
    auth.login("sara")
    path = f"/cases/{reference}/tasks/{task.task_id}"
    assert client.get(path).status_code == 200
    assert submit(client, path, REVIEW).status_code == 302
    assert review_task(reference) is None
    assert cases.get_case(reference).status_label == "Decision sent: waiting for your answer"
