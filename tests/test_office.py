"""What a complaints office needs of staff pages: reopening a closed case, the date a letter
or call reached us, intake in the staff's words, a representative, history in people's
words, right letters after reviews, and amounts in the organisation's currency."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import Case, HumanTask
from server.services import cases, portal

from .support.cases import decided, drive, file_case
from .support.data import CLOSE, PUBLIC_FORM
from .support.process import Driver, round_trip, to_decision
from .support.web import file_complaint, post, submit

REASON = "The refund we promised never reached the complainant's account."
SURVEY = {"satisfaction": 4, "kept_informed": True}
NBSP = "\u00a0"
CHANGED = "We now also refund the interest."
SECOND = "Looked at again: the second transfer was refunded on 8 March."


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def closed(**intake: str) -> tuple[str, str]:
    """A case whose decision was accepted and that was closed; reference and token."""
    reference, token = file_case(**intake)
    drive(reference, lambda data: bool(data.get("closure_reason")), {"accepted": True})
    assert not cases.get_case(reference).is_open
    return reference, token


def page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


# -- reopening: the diagram offers it, staff send it ----------------------------------------

@round_trip
def test_staff_reopen_a_closed_case_before_the_survey(round_trip: bool) -> None:
    d = Driver(round_trip)
    to_decision(d)
    d.message("complainant_response", {"accepted": True})
    d.complete("close", CLOSE)
    assert "staff_reopens" in d.snapshot.messages
    d.message("staff_reopens", {"reopen_reason": REASON})
    assert d.snapshot.reached == ["reopened"] and d.ready() == ["investigate"]


@round_trip
def test_staff_reopen_a_closed_case_after_the_survey(round_trip: bool) -> None:
    d = Driver(round_trip)
    to_decision(d)
    d.message("complainant_response", {"accepted": True})
    d.complete("close", CLOSE)
    d.message("complainant_rates", SURVEY)
    d.message("staff_reopens", {"reopen_reason": REASON})
    assert d.snapshot.reached == ["reopened"] and d.ready() == ["investigate"]


@round_trip
def test_after_the_complainants_window_only_staff_may_reopen(round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        to_decision(d)
        d.message("complainant_response", {"accepted": True})
        d.complete("close", CLOSE)
        clock.shift(timedelta(days=20, seconds=1))
        assert d.fire() == ["reopen_window_over"]
        assert d.snapshot.messages == ["staff_reopens"]
        d.message("staff_reopens", {"reopen_reason": REASON})
        # Weeks after the resolution target: a supervisor is asked to step in at once.
        assert d.snapshot.reached == ["reopened"]
        assert sorted(d.ready()) == ["investigate", "resolution_overdue_review"]
        assert d.snapshot.data["reviewed"] is False and d.snapshot.data["review_outcome"] is None


def test_a_handler_cannot_reopen_a_closed_case(client, auth, app_ctx) -> None:
    reference, _token = closed()
    hana = auth.signed_in("hana", "handler")
    assert "Reopen this case" not in page(hana, f"/cases/{reference}")
    refused = post(hana, f"/cases/{reference}/reopen", {"reopen_reason": REASON})
    assert refused.status_code == 403
    db.session.rollback()
    assert not cases.get_case(reference).is_open


def test_a_supervisor_reopens_a_closed_case_with_a_reason(client, auth, app_ctx) -> None:
    reference, token = closed()
    sara = auth.signed_in("sara", "supervisor")
    assert "Reopen this case" in page(sara, f"/cases/{reference}")
    # No reason: the form says what to write and keeps what was typed.
    short = post(sara, f"/cases/{reference}/reopen", {"reopen_reason": "Wrong"})
    body = short.get_data(as_text=True)
    assert short.status_code == 422
    assert "Say why the case is reopened, in at least 10 characters." in body
    assert ">Wrong</textarea>" in body
    db.session.rollback()
    assert not cases.get_case(reference).is_open

    done = post(sara, f"/cases/{reference}/reopen", {"reopen_reason": REASON})
    assert done.status_code == 302
    db.session.rollback()
    case = cases.get_case(reference)
    assert case.is_open and case.closed_at is None
    assert case.status_label == "Under investigation"
    assert db.session.scalar(select(HumanTask.bpmn_id).where(
        HumanTask.case_id == case.id)) == "investigate"
    shown = page(sara, f"/cases/{reference}")
    assert "Reopened by staff" in shown and REASON.replace("'", "&#39;") in shown
    assert "sara" in shown and "Reopen this case" not in shown
    # An open case cannot be reopened again.
    again = post(sara, f"/cases/{reference}/reopen", {"reopen_reason": REASON})
    assert again.status_code == 409
    assert "only a closed case can be reopened" in again.get_data(as_text=True)
    assert "Under investigation" in page(client, f"/track/{token}").split("Closed</li>")[-1]


# -- the date received ----------------------------------------------------------------------

def test_a_letter_received_earlier_counts_its_deadlines_from_that_day(client, auth,
                                                                     app_ctx) -> None:
    # Sunday 3 May 2026, 12:00 in Riyadh; the letter arrived that morning at 08:30.
    with time_machine.travel(utc(2026, 5, 3, 9, 0), tick=False):
        hana = auth.signed_in("hana", "handler")
        sent = submit(hana, "/cases/new", {**PUBLIC_FORM, "channel": "letter",
                                           "received_at": "2026-05-03T08:30"})
        assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    db.session.rollback()
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert case.channel == "letter" and case.received_at == utc(2026, 5, 3, 5, 30)
    # 1 working day from 08:30, not from noon: Monday 08:30 Riyadh.
    due = db.session.scalar(select(HumanTask.due_at).where(HumanTask.case_id == case.id))
    assert due == utc(2026, 5, 4, 5, 30)
    assert cases.case_data(case)["received_at"] == "2026-05-03T05:30:00+00:00"


def test_a_received_date_in_the_future_or_over_a_year_ago_is_refused(client, auth) -> None:
    with time_machine.travel(utc(2026, 5, 3, 9, 0), tick=False):
        hana = auth.signed_in("hana", "handler")
        for when, message in (("2026-05-04T09:00", "cannot be in the future"),
                              ("2025-04-01T09:00", "cannot be more than a year ago"),
                              ("yesterday", "Enter the date and time")):
            sent = submit(hana, "/cases/new", {**PUBLIC_FORM, "channel": "phone",
                                               "received_at": when})
            body = sent.get_data(as_text=True)
            assert sent.status_code == 422, when
            assert message in body and f'value="{when}"' in body
            assert 'id="received_at-error"' in body and "Layla Haddad" in body


# -- staff's words and the representative ---------------------------------------------------

def test_staff_record_a_complaint_in_their_own_words(client, auth) -> None:
    hana = auth.signed_in("hana", "handler")
    staff = page(hana, "/cases/new")
    for said in ("Complainant&#39;s name", "What the complainant asks us to do",
                 "Representative&#39;s name", "Date and time received", "Asia/Riyadh"):
        assert said in staff, said
    assert "Your name" not in staff
    public = page(client, "/complaints/new")
    assert "Your name" in public and "Complainant&#39;s name" not in public


def test_a_complaint_made_on_someones_behalf_names_the_representative(client, auth,
                                                                      app_ctx) -> None:
    incomplete = submit(client, "/complaints/new", {
        **PUBLIC_FORM, "representative_name": "Omar Haddad"})
    body = incomplete.get_data(as_text=True)
    assert incomplete.status_code == 422
    assert "Say how the representative is related to the complainant." in body
    assert "e-mail or phone" in body and 'value="Omar Haddad"' in body

    reference, _tracking = file_complaint(
        client, representative_name="Omar Haddad", representative_relationship="son",
        representative_phone="+966 50 000 0000")
    hana = auth.signed_in("hana", "handler")
    shown = page(hana, f"/cases/{reference}")
    representative = shown[shown.index('id="representative"'):][:1500]
    for said in ("Omar Haddad", "(<bdi>son</bdi>)", "+966 50 000 0000",
                 "Complains on the complainant"):
        assert said in representative, said
    task = db.session.scalar(select(HumanTask.task_id).join(Case).where(
        Case.reference == reference))
    beside = page(hana, f"/cases/{reference}/tasks/{task}")
    contact = beside[beside.index('id="contact"'):][:2500]
    for said in ("Representative", "Omar Haddad", "(<bdi>son</bdi>)", "+966 50 000 0000"):
        assert said in contact, said


def test_staff_record_a_representative_on_a_phone_complaint(client, auth, app_ctx) -> None:
    hana = auth.signed_in("hana", "handler")
    sent = submit(hana, "/cases/new", {
        **PUBLIC_FORM, "channel": "phone", "representative_name": "Mona Saleh",
        "representative_relationship": "carer", "representative_email": "mona@example.com"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    db.session.rollback()
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert (case.representative_name, case.representative_relationship,
            case.representative_email) == ("Mona Saleh", "carer", "mona@example.com")


# -- history, letters, amounts ---------------------------------------------------------------

def test_the_history_speaks_in_the_forms_words(client, auth, app_ctx) -> None:
    reference, token = decided()
    answered = post(client, f"/track/{token}/complainant_response",
                    {"accepted": "false", "reason": "Not enough."})
    assert answered.status_code == 302, answered.get_data(as_text=True)[:2000]
    history = page(auth.signed_in("sara", "supervisor"), f"/cases/{reference}")
    history = history[history.index('id="history"'):]
    assert re.search(r"<dt>Do you accept our response\?</dt><dd[^>]*>No</dd>", history)
    assert "False" not in history and "Accepted" not in history
    assert "<dt>Compensation paid</dt>" in history and f"SAR{NBSP}150.00" in history
    assert "Status: " in history and "Status label" not in history


def test_a_second_review_round_gives_its_own_date_and_outcome(client, app_ctx) -> None:
    with time_machine.travel(utc(2026, 3, 1, 9, 0), tick=True) as clock:
        reference, token = decided()
        drive(reference, lambda data: bool(data.get("review_outcome")),
              {"review_outcome": "decision_changed", "revised_response": CHANGED})
        first = page(client, f"/track/{token}/letter")
        assert "Date of the review: 1 March 2026" in first and CHANGED in first
        drive(reference, lambda data: bool(data.get("closure_reason")))
        clock.move_to(utc(2026, 3, 9, 9, 0))
        case = cases.get_case(reference)
        [reopen] = [q for q in portal.questions(case) if q["message"] == "complainant_reopens"]
        portal.answer(case, reopen, {"reopen_reason": "The refund never arrived."})
        drive(reference, lambda data: data.get("response") == SECOND, {"response": SECOND})
        second = page(client, f"/track/{token}/letter")
        # A new decision: the earlier round's review is not in its letter.
        assert SECOND in second and "Do you accept this decision?" in second
        assert "Date of the review" not in second and CHANGED not in second
        clock.move_to(utc(2026, 3, 10, 9, 0))
        drive(reference, lambda data: bool(data.get("review_outcome")))
        third = page(client, f"/track/{token}/letter")
        assert "Date of the review: 10 March 2026" in third
        assert "The review confirmed our decision." in third and CHANGED not in third


def test_amounts_show_the_configured_currency(app, client, app_ctx) -> None:
    app.config["PLAINT_CURRENCY"] = "EUR"
    _reference, token = decided()
    letter = page(client, f"/track/{token}/letter")
    assert "Compensation: €150.00" in letter
    assert "Compensation: €150.00" in page(client, f"/track/{token}/letter?lang=en")


# -- the public home page -------------------------------------------------------------------

def test_the_home_page_speaks_to_complainants_only(client) -> None:
    home = page(client, "/")
    for said in ("How to complain", "Our target times", 'href="/complaints/new"',
                 "Follow your complaint", "complain for someone else"):
        assert said in home, said
    for staff_only in ("make run", "flask --app", "reset-password", "create-user",
                       "Process in use"):
        assert staff_only not in home, staff_only
