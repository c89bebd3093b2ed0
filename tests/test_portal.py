"""Complainants without an account: file a complaint, follow it, answer; staff intake."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask
from server.services import cases

from .support.cases import complete
from .support.data import ACK, ASSESS, HANDLER, INVESTIGATE, PUBLIC_FORM, RESPOND
from .support.web import file_complaint, post, reference_on, submit


def test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link(
        client, app_ctx) -> None:
    reference, link = file_complaint(client)
    case = cases.get_case(reference)
    assert case.channel == "web" and case.complainant_name == "Layla Haddad"
    assert case.tracking_token_hash and case.tracking_token_hash not in link
    page = client.get(link).get_data(as_text=True)
    assert reference in page and "Received" in page
    assert "Our next step is due by" in page
    again = client.get("/complaints/submitted").get_data(as_text=True)  # a reload shows it again
    assert reference in again and link in again


def test_the_intake_form_keeps_input_and_explains_each_error(client, app_ctx) -> None:
    page = submit(client, "/complaints/new", {**PUBLIC_FORM,
                                              "complainant_email": "layla-at-home",
                                              "consent": ""})
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "Enter a valid e-mail address" in body
    assert "This must be accepted to go on." in body
    assert 'value="layla-at-home"' in body and "charged twice" in body
    assert db.session.scalar(select(Case.id)) is None


def test_a_tampered_tracking_link_shows_nothing(client) -> None:
    _, link = file_complaint(client)
    for bad in (link[:-1] + ("A" if link[-1] != "A" else "B"), "/track/x", "/track/" + "a" * 500):
        page = client.get(bad)
        assert page.status_code == 404, bad
        body = page.get_data(as_text=True)
        assert "This tracking link is not valid" in body and "CMP-" not in body


def test_internal_notes_never_reach_the_tracking_page(client, auth) -> None:
    reference, link = file_complaint(client)
    staff = auth.signed_in("hana", "handler")
    post(staff, f"/cases/{reference}/notes", {"note": "Customer sounds angry; secret"})
    assert "secret" not in client.get(link).get_data(as_text=True)


def test_the_complainant_answers_the_decision_on_the_tracking_page(client, app_ctx) -> None:
    reference, link = file_complaint(client)
    case = cases.get_case(reference)
    for values in (ACK, ASSESS, INVESTIGATE, RESPOND):
        task_id = db.session.scalar(select(HumanTask.task_id).where(
            HumanTask.case_id == case.id))
        cases.complete_task(reference, task_id, values, HANDLER)
    page = client.get(link).get_data(as_text=True)
    assert "Do you accept our response?" in page
    empty = post(client, f"{link}/complainant_response", {"reason": "Because"})
    assert empty.status_code == 422
    assert "This field is required." in empty.get_data(as_text=True)
    assert "Because" in empty.get_data(as_text=True)
    done = post(client, f"{link}/complainant_response", {"accepted": "false",
                                                         "reason": "Not enough"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Thank you, we have your answer." in page
    assert "Under internal review" in page
    assert "Do you accept our response?" not in page  # not asked twice
    again = post(client, f"{link}/complainant_response", {"accepted": "true"})
    assert again.status_code == 409


def test_staff_record_a_phone_complaint(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    page = submit(client, "/cases/new", {**PUBLIC_FORM, "channel": "phone"})
    assert page.status_code == 302
    reference = reference_on(client.get(page.headers["Location"]).get_data(as_text=True))
    assert cases.get_case(reference).channel == "phone"


def test_staff_intake_is_for_staff_only(client, auth) -> None:
    assert client.get("/cases/new").status_code == 302  # to sign-in
    auth.login("adel", "auditor")
    assert client.get("/cases/new").status_code == 403


def test_the_complainant_adds_information_and_a_handler_sees_it(client, auth, app_ctx) -> None:
    reference, link = file_complaint(client)
    page = client.get(link).get_data(as_text=True)
    assert "Add information to your complaint" in page
    empty = post(client, f"{link}/complainant_adds_information", {"information": ""})
    assert empty.status_code == 422 and "This field is required." in empty.get_data(as_text=True)
    sent = post(client, f"{link}/complainant_adds_information",
                {"information": "My receipt number is 4471."})
    assert sent.status_code == 302
    case = cases.get_case(reference)
    titles = set(db.session.scalars(select(HumanTask.title).where(HumanTask.case_id == case.id)))
    assert "Review new information from the complainant" in titles
    staff = auth.signed_in("hana", "handler")
    history = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Message received: Add information to your complaint" in history
    assert "My receipt number is 4471." in history
    # The complainant can add more while the case is open.
    assert "Add information to your complaint" in client.get(link).get_data(as_text=True)


def test_the_complainant_withdraws_and_the_case_closes_with_its_tasks(client, app_ctx) -> None:
    reference, link = file_complaint(client)
    page = client.get(link).get_data(as_text=True)
    assert page.index("Add information to your complaint") < page.index("Withdraw my complaint")
    refused = post(client, f"{link}/complainant_withdraws", {"comment": "Sorted elsewhere"})
    assert refused.status_code == 422
    assert "Sorted elsewhere" in refused.get_data(as_text=True)  # kept for the second try
    done = post(client, f"{link}/complainant_withdraws",
                {"reason": "resolved_elsewhere", "comment": "Sorted elsewhere", "confirm": "true"})
    assert done.status_code == 302
    case = cases.get_case(reference)
    assert not case.is_open and case.status_label == "Closed: withdrawn at your request"
    assert db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id)) is None
    page = client.get(link).get_data(as_text=True)
    assert "Closed: withdrawn at your request" in page
    assert "Withdraw my complaint" not in page and "Add information" not in page
    assert post(client, f"{link}/complainant_withdraws", {"confirm": "true"}).status_code == 409


def test_a_handler_question_reaches_the_complainant_and_the_answer_comes_back(
        client, app_ctx) -> None:
    reference, link = file_complaint(client)
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", ASSESS)
    complete(reference, "investigate", {
        "findings": "Need the date", "need_information": True,
        "question_to_complainant": "On which date did you make the transfer?"})
    page = client.get(link).get_data(as_text=True)
    assert "Waiting for information from you" in page
    assert "On which date did you make the transfer?" in page
    asked = page.index("Please send us the information we asked for")
    assert asked < page.index("Add information to your complaint")  # the question comes first
    sent = post(client, f"{link}/complainant_information", {"information": "On 3 March."})
    assert sent.status_code == 302
    case = cases.get_case(reference)
    assert case.status_label == "Under investigation"
    [title] = db.session.scalars(select(HumanTask.title).where(HumanTask.case_id == case.id))
    assert title == "Investigate"
