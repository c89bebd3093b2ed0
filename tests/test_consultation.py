"""A consulted specialist finds the question in their inbox, answers it, and the case moves on."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask
from server.services import cases
from tests.support.data import HANDLER, INTAKE
from tests.support.web import make_user, sign_in, submit

ASSESS_FORM = {"in_scope": "true", "category": "billing", "product": "other",
               "severity": "serious",
               "complexity": "simple", "vulnerable_customer": "false",
               "regulator_involved": "false", "immediate_action_needed": "false"}
CONSULT_FORM = {"findings": "The fee looks wrong.", "need_information": "false",
                "consult_roles": "specialist",
                "consultation_question": "Was the fee applied under the 2025 tariff?",
                "consultation_days": "2"}


def ready(app: Flask, reference: str) -> list[tuple[str, str | None, str]]:
    """The case's ready tasks as (bpmn id, role, task id)."""
    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
        return [(t.bpmn_id, t.role, t.task_id) for t in db.session.scalars(
            select(HumanTask).where(HumanTask.case_id == case_id))]


def task_path(app: Flask, reference: str, bpmn_id: str) -> str:
    task_id = next(t for b, _r, t in ready(app, reference) if b == bpmn_id)
    return f"/cases/{reference}/tasks/{task_id}"


def test_a_specialist_answers_a_consultation_and_the_case_goes_back_to_the_handler(
        app: Flask) -> None:
    with app.app_context():
        make_user("hana", "handler")
        make_user("lina", "specialist")
        reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
    handler, specialist = app.test_client(), app.test_client()
    sign_in(handler, "hana")
    for bpmn_id, values in (("acknowledge", {"acknowledgement_channel": "email",
                                             "acknowledgement_message": "We have it."}),
                            ("assess", ASSESS_FORM), ("investigate", CONSULT_FORM)):
        sent = submit(handler, task_path(app, reference, bpmn_id), values)
        assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    assert [(b, r) for b, r, _t in ready(app, reference)] == [("give_opinion", "specialist")]

    # Signing in takes the specialist to the inbox, where the consultation waits for them.
    signed = sign_in(specialist, "lina")
    assert signed.headers["Location"] == "/tasks"
    inbox = specialist.get("/tasks?view=unclaimed").get_data(as_text=True)
    path = task_path(app, reference, "give_opinion")
    assert f'href="{path}"' in inbox and reference in inbox
    page = specialist.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "I was charged twice" in text
    assert "You are asked" in text and "Was the fee applied under the 2025 tariff?" in text
    # The case page (history, documents) is theirs while they are asked about the case.
    assert f'href="/cases/{reference}"' in text
    case_page = specialist.get(f"/cases/{reference}")
    assert case_page.status_code == 200 and reference in case_page.get_data(as_text=True)

    empty = submit(specialist, path, {"opinion_text": ""})
    assert empty.status_code == 422
    done = submit(specialist, path, {"opinion_text": "Yes, the 2025 tariff applies."})
    assert done.status_code == 302 and done.headers["Location"] == "/tasks"
    assert [(b, r) for b, r, _t in ready(app, reference)] == [("investigate", "handler")]
    assert specialist.get(f"/cases/{reference}").status_code == 403  # need to know: done
    with app.app_context():
        data = cases.case_data(cases.get_case(reference))
    assert [entry["answer"] for entry in data["consultation_log"]] == [
        "Yes, the 2025 tariff applies."]
    # The answer is in the case's history under the specialist's name, for the handler.
    history = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Give your opinion on a complaint completed" in history and "lina" in history
