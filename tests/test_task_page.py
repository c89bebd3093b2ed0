"""The task page: a handler fills in a task's form; bad input comes back with what they typed."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask
from server.services import cases

from .support.data import HANDLER, INTAKE
from .support.web import post, submit


def open_task(case) -> str:
    task_id = db.session.scalar(select(HumanTask.task_id).where(
        HumanTask.case_id == case.id))
    return f"/cases/{case.reference}/tasks/{task_id}"


def test_the_task_page_shows_the_form_instructions_and_the_case(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    page = client.get(open_task(case)).get_data(as_text=True)
    assert "Acknowledge complaint" in page
    assert "give them the reference" in page  # the diagram's documentation
    assert '<label' in page and "What was said" in page  # the JSON Schema form
    assert "Layla Haddad" in page and "charged twice" in page
    assert "Complaint received (web)" in page  # the history beside it


def test_completing_a_task_moves_the_case_on(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    done = submit(client, open_task(case), {"acknowledgement_channel": "phone",
                                            "acknowledgement_message": "Called her."})
    assert done.status_code == 302 and done.headers["Location"].endswith("/tasks")
    assert cases.get_case(case.reference).acknowledged_at is not None
    assert "Assess complaint" in client.get("/tasks?view=mine").get_data(as_text=True)


def test_bad_input_comes_back_with_messages_and_what_was_typed(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    page = submit(client, open_task(case), {"acknowledgement_message": "Kept <text>"})
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "This field is required." in body
    assert "Kept &lt;text&gt;" in body
    assert cases.get_case(case.reference).acknowledged_at is None


def test_a_form_sent_after_the_case_changed_is_refused_keeping_the_input(
        client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    auth.add_user("omar", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    path = open_task(case)
    form = client.get(path).get_data(as_text=True)  # hana opens the form ...
    other = auth.signed_in("omar")
    post(other, f"/cases/{case.reference}/notes", {"note": "I am on it"})  # ... case changes
    seen = form.split('name="case_version" value="')[1].split('"')[0]
    page = post(client, path, {"acknowledgement_channel": "email",
                               "acknowledgement_message": "My careful words",
                               "case_version": seen})
    assert page.status_code == 409
    body = page.get_data(as_text=True)
    assert "changed while you were working on it" in body and "My careful words" in body


def test_someone_without_the_tasks_role_is_refused(client, auth, app_ctx) -> None:
    auth.login("sara", "supervisor")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    assert client.get(open_task(case)).status_code == 403


def test_a_completed_task_page_says_so_instead_of_failing(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    path = open_task(case)
    submit(client, path, {"acknowledgement_channel": "phone", "acknowledgement_message": "x"})
    again = client.get(path)
    assert again.status_code == 409 and "no longer open" in again.get_data(as_text=True)


def test_a_handler_moves_a_case_to_the_end_of_the_process_in_the_browser(
        client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    auth.add_user("sara", "supervisor")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    steps = [{"acknowledgement_channel": "email", "acknowledgement_message": "Got it"},
             {"in_scope": "true", "category": "billing", "product": "other",
              "severity": "serious",
              "complexity": "simple", "vulnerable_customer": "false",
              "regulator_involved": "false", "immediate_action_needed": "false"},
             {"findings": "Booked twice", "need_information": "false"},
             {"outcome": "upheld", "response": "Refunded", "compensation_amount": "25.5"}]
    for values in steps:
        page = submit(client, open_task(case), values)
        assert page.status_code == 302, page.get_data(as_text=True)[:2000]
    cases.send_message(case.reference, "complainant_response", {"accepted": True}, HANDLER)
    page = submit(client, open_task(case), {"closure_reason": "accepted",
                                            "final_outcome": "upheld", "root_cause": "system",
                                            "corrective_action_needed": "false"})
    assert page.status_code == 302, page.get_data(as_text=True)[:2000]
    final = cases.get_case(case.reference)
    assert not final.is_open and final.priority == "high"
