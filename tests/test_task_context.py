"""What a task page shows beside its form: the complainant's contact details, the documents,
what earlier steps recorded (under their forms' titles, in people's words), and a form that
opens with what the case already holds."""

from __future__ import annotations

import re

from server.services import cases, history

from .support.cases import REASONS, complete, decided, drive, file_case, ready_task
from .support.data import ACK, ASK, ASSESS, HANDLER, PDF, SUPERVISOR
from .support.web import file_complaint, submit


def task_page(client, reference: str, bpmn_id: str) -> str:
    page = client.get(f"/cases/{reference}/tasks/{ready_task(reference, bpmn_id)}")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return page.get_data(as_text=True)


def recorded_part(page: str) -> str:
    """The "What earlier steps recorded" section of a page."""
    return page.split('id="recorded-heading"', 1)[1].split("<h2", 1)[0]


def said(page: str, title: str, text: str) -> bool:
    """Whether the page lists `title` with the value `text`."""
    return re.search(rf"<dt[^>]*>{re.escape(title)}</dt><dd[^>]*>{re.escape(text)}</dd>",
                     page) is not None


def test_a_task_page_gives_the_contact_details_and_the_documents(client, auth, app_ctx) -> None:
    reference, _link = file_complaint(client, [("receipt.pdf", PDF)],
                                      complainant_phone="+966 11 555 0101",
                                      preferred_language="ar")
    auth.login("hana", "handler")
    page = task_page(client, reference, "acknowledge")
    contact = page.split('id="contact"', 1)[1].split("</section>", 1)[0]
    assert "mailto:layla@example.com" in contact and "+966 11 555 0101" in contact
    assert said(contact, "Preferred language", "Arabic")
    assert said(contact, "Channel", "Web")
    documents = page.split('id="task-documents"', 1)[1].split("</section>", 1)[0]
    link = re.search(r'href="([^"]+)"><bdi>receipt.pdf</bdi>', documents)
    assert link, documents
    assert client.get(link.group(1)).data == PDF  # the handler can open it from here


def test_task_and_case_pages_show_what_earlier_steps_recorded_in_peoples_words(
        client, auth, app_ctx) -> None:
    reference, _token = file_case()
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", ASSESS)
    complete(reference, "investigate", {"findings": "The transfer was booked twice.",
                                        "need_information": False})
    auth.login("hana", "handler")
    shown = recorded_part(task_page(client, reference, "respond"))
    # Grouped under the titles of the forms that recorded them, each value under its question.
    assert "<h3" in shown and ">Investigate</h3>" in shown and ">Assess the complaint</h3>" in shown
    assert said(shown, "What you found", "The transfer was booked twice.")
    assert said(shown, "Is the customer in a vulnerable situation?", "No")
    assert said(shown, "Is this a complaint about our products or services?", "Yes")
    assert said(shown, "Severity", "Serious")
    assert "False" not in shown and "serious" not in shown
    # The diagram's `shows` on this task puts the findings first and leaves out the rest.
    assert shown.index(">Investigate</h3>") < shown.index(">Assess the complaint</h3>")
    assert "Acknowledge the complaint" not in shown

    case_page = client.get(f"/cases/{reference}").get_data(as_text=True)
    everything = recorded_part(case_page)
    assert everything.index("Acknowledge the complaint") < everything.index("Investigate")
    assert said(everything, "What was said", ACK["acknowledgement_message"])
    assert said(everything, "Does something need to be done at once?", "No")


def test_the_complainants_answers_are_shown_under_their_forms_title(client, auth, app_ctx) -> None:
    reference, _token = decided()
    cases.send_message(reference, "complainant_response",
                       {"accepted": False, "reason": "I also lost interest."},
                       HANDLER)
    auth.login("hana", "handler")
    shown = recorded_part(client.get(f"/cases/{reference}").get_data(as_text=True))
    assert ">Your answer to our response</h3>" in shown
    assert said(shown, "Do you accept our response?", "No")
    assert said(shown, "If not, tell us why", "I also lost interest.")


def test_the_internal_review_shows_the_decision_under_review(client, auth, app_ctx) -> None:
    reference, _token = decided()
    cases.send_message(reference, "complainant_response",
                       {"accepted": False, "reason": "Not enough."}, HANDLER)
    auth.login("rita", "supervisor")  # handled nothing of the case
    page = task_page(client, reference, "review")
    shown = recorded_part(page)
    assert shown.index(">Decide and respond</h3>") < \
        shown.index(">Your answer to our response</h3>")
    assert said(shown, "Response to the complainant, with the reasons", REASONS)
    assert said(shown, "Outcome", "Upheld")
    assert said(shown, "If not, tell us why", "Not enough.")
    assert "Acknowledge the complaint" not in shown and "Assess the complaint" not in shown


def test_a_second_investigation_opens_with_the_earlier_findings(client, auth, app_ctx) -> None:
    reference, _token = file_case()
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", ASSESS)
    complete(reference, "investigate", ASK)
    cases.send_message(reference, "complainant_information", {"information": "On 3 March."},
                       HANDLER)
    auth.login("hana", "handler")
    page = task_page(client, reference, "investigate")
    findings = re.search(r'<textarea[^>]*name="findings"[^>]*>([^<]*)</textarea>', page)
    assert findings and findings.group(1).strip() == ASK["findings"]
    # Only the findings (the task's prefill): the question is not asked again by default.
    assert not re.search(r'name="need_information" value="true"[^>]*checked', page)
    assert said(recorded_part(page), "Your answer", "On 3 March.")


def test_the_close_form_starts_from_the_outcome_already_decided(client, auth, app_ctx) -> None:
    reference, _token = file_case()
    drive(reference, lambda data: bool(data.get("outcome")),
          chosen={"outcome": "partly_upheld"})
    cases.send_message(reference, "complainant_response", {"accepted": True}, HANDLER)
    auth.login("hana", "handler")
    page = task_page(client, reference, "close")
    assert re.search(r'name="final_outcome" value="partly_upheld"[^>]*checked', page)
    assert not re.search(r'name="final_outcome" value="upheld"[^>]*checked', page)


def test_a_form_sent_back_keeps_what_was_typed_not_the_prefill(client, auth, app_ctx) -> None:
    reference, _token = file_case()
    drive(reference, lambda data: bool(data.get("outcome")), chosen={"compensation_amount": 9000})
    complete(reference, "approve_supervisor", {"approved": False}, SUPERVISOR)
    auth.login("hana", "handler")
    path = f"/cases/{reference}/tasks/{ready_task(reference, 'respond')}"
    opened = client.get(path).get_data(as_text=True)  # sent back by the approver: as decided
    assert re.search(r'name="compensation_amount"[^>]*value="9000"', opened)
    back = submit(client, path, {"response": "My own words", "compensation_amount": "10"})
    body = back.get_data(as_text=True)
    assert back.status_code == 422 and "My own words" in body
    assert re.search(r'name="compensation_amount"[^>]*value="10"', body)


def test_labelled_choices_show_their_titles(app_ctx) -> None:
    spec = {"type": "string", "oneOf": [{"const": "upheld", "title": "Upheld in full"},
                                        {"const": "not_upheld", "title": "Not upheld"}]}
    assert history.words("upheld", spec) == "Upheld in full"
    many = {"type": "array", "items": {"anyOf": [{"const": "specialist", "title": "A specialist"},
                                                  {"const": "supervisor", "title": "Supervisor"}]}}
    assert history.words(["specialist", "supervisor"], many) == \
        "A specialist, Supervisor"
    assert history.words(True, {"type": "boolean"}) == "Yes"
    assert history.words(6000.0, {"type": "number"}) == "6000"
