"""Every route through the reference ISO 10002 process, run by the engine.

Each path runs twice, as SpiffWorkflow's own tests do: once in memory and once saving and
reloading the state between every step (as the server does). Together with the other
process tests these take every sequence flow of every diagram in workflows/ (the suite
measures it: tests/flowcov.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from .support.data import ACK, ASK, ASSESS, CLOSE, INVESTIGATE, RESPOND, REVIEW
from .support.process import Driver, round_trip, to_decision

START = "2026-03-01 09:00:00+00:00"
CONSULT = {**INVESTIGATE, "consult_roles": ["specialist", "supervisor"],
           "consultation_question": "Was the fee applied under the 2025 tariff?",
           "consultation_days": 2}
SURVEY = {"satisfaction": 4, "kept_informed": True}
REOPEN = {"reopen_reason": "The refund never reached my account."}


def notices(d: Driver) -> list[str]:
    return [n.template for n in d.snapshot.notices]


@round_trip
def test_the_longest_path_consults_approves_reviews_refers_surveys_and_reopens(
        round_trip: bool) -> None:
    d = Driver(round_trip)
    assert notices(d) == ["acknowledgement"] and d.snapshot.data["expected_by"]
    d.complete("acknowledge", ACK)
    d.complete("assess", {**ASSESS, "immediate_action_needed": True})
    assert (d.snapshot.data["priority"], d.snapshot.data["triage_reason"]) == (
        "high", "serious severity")
    assert d.ready() == ["immediate_action"] and d.snapshot.ready[0].role == "supervisor"
    d.complete("immediate_action", {"action_taken": "Blocked the card."})

    d.complete("investigate", CONSULT)
    # One task per colleague, each routed to the role asked and with its own deadline.
    assert sorted(t.role for t in d.snapshot.ready) == ["specialist", "supervisor"]
    assert all(t.due_at is not None for t in d.snapshot.ready)
    d.complete("give_opinion", {"opinion_text": "Yes, the 2025 tariff applies."})
    assert d.ready() == ["give_opinion"]
    d.complete("give_opinion", {"opinion_text": "Agreed."})
    assert d.ready() == ["investigate"]
    assert [o["answer"] for o in d.snapshot.data["consultation_log"]] == [
        "Yes, the 2025 tariff applies.", "Agreed."]

    d.complete("investigate", ASK)
    assert notices(d) == ["information_requested"]
    d.message("complainant_information", {"information": "On 3 March."})
    d.complete("investigate", INVESTIGATE)

    d.complete("respond", {**RESPOND, "compensation_amount": 60000})
    assert d.ready() == ["approve_manager"]
    assert d.snapshot.status_label == "Decision awaiting approval"
    d.complete("approve_manager", {"approved": False, "approval_note": "Too much."})
    assert d.ready() == ["respond"]
    d.complete("respond", {**RESPOND, "compensation_amount": 6000})
    assert d.ready() == ["approve_supervisor"]
    d.complete("approve_supervisor", {"approved": True})
    assert notices(d) == ["decision"] and d.snapshot.reached == ["resolved"]

    d.message("complainant_response", {"accepted": False, "reason": "Not enough."})
    assert d.ready() == ["review"]
    d.complete("review", REVIEW)
    assert notices(d) == ["review_outcome"]
    d.message("complainant_response", {"accepted": False, "reason": "Still not enough."})
    assert d.ready() == ["referral"]
    d.complete("referral", {"referral_body": "Central bank consumer protection",
                            "bundle_sent": True})
    assert notices(d) == ["referral"]
    # Closing ends the complainant's "any time" branch: no more withdrawing.
    assert d.ready() == ["close"] and d.snapshot.messages == []

    d.complete("close", {**CLOSE, "closure_reason": "referred_externally"})
    assert d.snapshot.reached == ["closed"] and notices(d) == ["closed"]
    d.message("complainant_rates", SURVEY)
    assert d.snapshot.data["survey"] == SURVEY
    assert d.snapshot.messages == ["complainant_reopens", "staff_reopens"]
    d.message("complainant_reopens", REOPEN)
    assert d.snapshot.reached == ["reopened"] and notices(d) == ["reopened"]
    assert d.ready() == ["investigate"]
    assert {"complainant_adds_information", "complainant_withdraws"} <= set(d.snapshot.messages)
    # A new round: the internal review is open again.
    assert d.snapshot.data["reviewed"] is False

    d.complete("investigate", INVESTIGATE)
    d.complete("respond", {**RESPOND, "compensation_amount": 0})
    assert notices(d) == ["decision"]
    d.message("complainant_response", {"accepted": True})
    d.complete("close", CLOSE)
    d.message("complainant_reopens", REOPEN)  # reopened again, before any survey
    assert d.ready() == ["investigate"]


@round_trip
def test_a_closed_case_stays_closed_when_nobody_reopens_it(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip)
        to_decision(d)
        d.message("complainant_response", {"accepted": True})
        d.complete("close", CLOSE)
        clock.shift(timedelta(days=20, seconds=1))
        assert d.fire() == ["reopen_window_over"]
        # Only staff may reopen it now, for a year; then the case is closed for good.
        assert d.snapshot.messages == ["staff_reopens"] and not d.snapshot.completed
        clock.shift(timedelta(days=365, seconds=1))
        assert d.fire() == ["closed_for_good"]
        assert d.snapshot.completed and d.snapshot.status_label == "Closed"


@round_trip
def test_after_the_survey_the_reopen_window_still_ends_the_case(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip)
        to_decision(d)
        clock.shift(timedelta(days=10, seconds=1))
        assert d.fire() == ["no_answer"]  # no answer counts as accepted
        d.complete("close", {**CLOSE, "closure_reason": "no_answer_taken_as_accepted"})
        d.message("complainant_rates", SURVEY)
        clock.shift(timedelta(days=20, seconds=1))
        assert d.fire() == ["reopen_window_over_after_survey"]
        assert d.snapshot.messages == ["staff_reopens"]
        clock.shift(timedelta(days=365, seconds=1))
        assert d.fire() == ["closed_for_good"]
        assert d.snapshot.completed


@round_trip
def test_an_out_of_scope_complaint_is_explained_and_closed(round_trip: bool) -> None:
    d = Driver(round_trip)
    d.complete("acknowledge", ACK)
    d.complete("assess", {**ASSESS, "in_scope": False,
                          "out_of_scope_reason": "This is about another bank."})
    assert d.snapshot.completed and notices(d) == ["out_of_scope"]
    assert d.snapshot.reached == ["responded", "closed"]


@round_trip
def test_a_withdrawal_is_confirmed_by_e_mail(round_trip: bool) -> None:
    d = Driver(round_trip)
    d.message("complainant_withdraws", {"confirm": True, "reason": "resolved_elsewhere"})
    assert d.snapshot.completed and notices(d) == ["withdrawn"]


@round_trip
def test_triage_sets_the_priority_from_the_assessment(round_trip: bool) -> None:
    cases = [({"severity": "critical"}, "urgent"), ({"regulator_involved": True}, "urgent"),
             ({"vulnerable_customer": True}, "urgent"),
             ({"severity": "minor", "vulnerable_customer": True}, "high"),
             ({"severity": "moderate"}, "medium"), ({"severity": "minor"}, "low")]
    for change, priority in cases:
        d = Driver(round_trip)
        d.complete("acknowledge", ACK)
        d.complete("assess", {**ASSESS, **change})
        assert d.snapshot.data["priority"] == priority, change


@round_trip
def test_reminders_escalations_and_overdue_steps_fire_on_time(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip)
        clock.shift(timedelta(hours=40, seconds=1))
        assert d.fire() == ["acknowledgement_reminder"]
        assert [(n.template, n.recipient) for n in d.snapshot.notices] == [
            ("reminder", "assignee")]
        clock.shift(timedelta(hours=8))
        assert d.fire() == ["acknowledgement_overdue"]
        assert [(n.template, n.recipient) for n in d.snapshot.notices] == [
            ("escalated", "Supervisor")]
        clock.shift(timedelta(hours=24))
        assert d.fire() == ["acknowledgement_still_overdue"]
        assert d.ready() == ["acknowledge_manager"]
        d.complete("acknowledge_manager", ACK)
        d.complete("assess", ASSESS)
        clock.shift(timedelta(hours=40))
        assert d.fire() == ["investigation_reminder"]
        clock.shift(timedelta(hours=8))
        assert d.fire() == ["investigation_overdue"]
        assert sorted(d.ready()) == ["investigate", "resolution_overdue_review"]
        d.complete("resolution_overdue_review", {"action_taken": "spoke_to_handler"})
        # Already past due when the response starts: both fire in the same run.
        d.complete("investigate", INVESTIGATE)
        assert sorted(d.ready()) == ["resolution_overdue_review", "respond"]
        assert next(t for t in d.snapshot.ready if t.bpmn_id == "respond").flag == \
            "Resolution overdue"
        d.complete("resolution_overdue_review", {"action_taken": "reassigned"})
        assert d.ready() == ["respond"]


@round_trip
def test_a_supervisor_who_acknowledged_an_escalated_case_passes_it_on(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip)
        clock.shift(timedelta(hours=48, seconds=1))
        d.fire()
        d.complete("acknowledge_escalated", ACK)
        assert d.ready() == ["assess"]
        d.complete("assess", ASSESS)
        assert d.ready() == ["investigate"]


@round_trip
def test_a_colleague_who_does_not_answer_in_time_is_chased(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = Driver(round_trip)
        d.complete("acknowledge", ACK)
        d.complete("assess", ASSESS)
        d.complete("investigate", {**CONSULT, "consult_roles": ["specialist"]})
        clock.shift(timedelta(days=2, seconds=1))
        assert d.fire() == ["opinion_overdue"]
        [task] = d.snapshot.ready
        assert (task.bpmn_id, task.flag) == ("give_opinion", "Opinion overdue")


def test_a_remedy_within_the_handlers_limit_needs_no_approval() -> None:
    d = Driver(False)
    to_decision(d, {**RESPOND, "compensation_amount": 5000})
    assert d.snapshot.data["approval_level"] == "none"
    assert notices(d) == ["decision"]


@pytest.mark.parametrize("amount,level", [(5000.01, "supervisor"), (50000, "supervisor"),
                                          (50000.5, "complaints_manager")])
def test_the_authority_limit_table_picks_the_approver(amount: float, level: str) -> None:
    d = Driver(False)
    to_decision(d, {**RESPOND, "compensation_amount": amount})
    assert d.snapshot.data["approval_level"] == level
