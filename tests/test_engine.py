"""The reference process run by the engine alone, each scenario with and without a
save/restore of the state between every step (as the server does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from server.engine import EngineError, MessageNotExpected, TaskNotReady
from server.packing import unpack

from .support.data import ACK, ASK, ASSESS, CLOSE, INTAKE, INVESTIGATE, RESPOND, REVIEW
from .support.process import Driver, reference_bpmn, round_trip, runtime, to_decision, with_bpmn


@round_trip
def test_accepted_complaint_runs_to_the_end(round_trip: bool) -> None:
    d = Driver(round_trip)
    assert d.ready() == ["acknowledge"]
    assert d.snapshot.ready[0].role == "handler"
    assert d.snapshot.status_label == "Received"
    d.complete("acknowledge", ACK)
    assert d.snapshot.milestones == {"acknowledged"}
    d.complete("assess", ASSESS)
    assert d.snapshot.data["priority"] == "high"
    assert d.snapshot.status_label == "Under investigation"
    d.complete("investigate", INVESTIGATE)
    d.complete("respond", RESPOND)
    assert "complainant_response" in d.snapshot.messages
    assert d.snapshot.status_label == "Decision sent: waiting for your answer"
    assert [(t.bpmn_id, t.title) for t in d.snapshot.timers] == [
        ("no_answer", "No answer in 10 working days")]
    d.message("complainant_response", {"accepted": True})
    assert d.ready() == ["close"] and d.snapshot.status_label == "Being closed"
    d.complete("close", CLOSE)
    assert d.snapshot.reached == ["closed"] and d.snapshot.status_label == "Closed"
    assert [n.template for n in d.snapshot.notices] == ["closed"]
    assert d.snapshot.milestones == {"acknowledged", "responded", "resolved", "closed"}
    assert d.snapshot.ready == [] and not d.snapshot.completed
    assert d.snapshot.messages == ["complainant_rates", "complainant_reopens", "staff_reopens"]


@round_trip
def test_rejected_response_goes_to_a_supervisor_review(round_trip: bool) -> None:
    d = Driver(round_trip)
    to_decision(d)
    d.message("complainant_response", {"accepted": False, "reason": "Not enough"})
    assert d.ready() == ["review"]
    assert d.snapshot.ready[0].role == "supervisor"
    d.complete("review", REVIEW)
    assert [n.template for n in d.snapshot.notices] == ["review_outcome"]
    assert d.snapshot.status_label == "Decision sent: waiting for your answer"
    d.message("complainant_response", {"accepted": False, "reason": "Still not enough"})
    assert d.ready() == ["referral"]
    assert d.snapshot.ready[0].role == "complaints_manager"


@round_trip
def test_out_of_scope_complaint_closes_after_assessment(round_trip: bool) -> None:
    d = Driver(round_trip)
    d.complete("acknowledge", ACK)
    d.complete("assess", {**ASSESS, "in_scope": False})
    assert d.snapshot.completed
    assert d.snapshot.status_label.startswith("Closed: outside the scope")


@round_trip
def test_the_acknowledgement_escalation_chain_reminds_escalates_and_goes_up_a_level(
        round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        [task] = d.snapshot.ready
        assert task.due_at.isoformat() == "2026-03-03T09:00:00+00:00"  # not the reminder
        assert task.flag is None
        clock.shift(timedelta(hours=39))
        assert d.fire() == []
        clock.shift(timedelta(hours=1, seconds=1))  # 8 hours before the breach
        assert d.fire() == ["acknowledgement_reminder"]
        assert d.ready() == ["acknowledge"]
        assert d.snapshot.ready[0].flag == "Acknowledgement due soon"
        clock.shift(timedelta(hours=8))
        assert d.fire() == ["acknowledgement_overdue"]
        assert d.ready() == ["acknowledge_escalated"]
        assert d.snapshot.ready[0].role == "supervisor"
        assert d.snapshot.ready[0].due_at.isoformat() == "2026-03-04T09:00:00+00:00"
        assert d.fire() == []  # a timer fires once
        clock.shift(timedelta(hours=24))
        assert d.fire() == ["acknowledgement_still_overdue"]
        assert d.ready() == ["acknowledge_manager"]
        assert d.snapshot.ready[0].role == "complaints_manager"
        d.complete("acknowledge_manager", ACK)
        assert d.ready() == ["assess"]
        assert d.snapshot.milestones == {"acknowledged"}


@round_trip
def test_an_overdue_resolution_alerts_a_supervisor_without_taking_the_task_away(
        round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        d.complete("acknowledge", ACK)
        d.complete("assess", ASSESS)
        clock.shift(timedelta(hours=120, seconds=1))
        assert sorted(d.fire()) == ["investigation_overdue", "investigation_reminder"]
        assert sorted(d.ready()) == ["investigate", "resolution_overdue_review"]
        flagged = {t.bpmn_id: (t.flag, t.role) for t in d.snapshot.ready}
        assert flagged == {"investigate": ("Resolution overdue", "handler"),
                           "resolution_overdue_review": (None, "supervisor")}
        d.complete("resolution_overdue_review", {"action_taken": "spoke_to_handler"})
        assert d.ready() == ["investigate"]


@round_trip
def test_no_answer_in_ten_days_counts_as_accepted(round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        to_decision(d)
        clock.shift(timedelta(days=10, seconds=1))
        assert d.fire() == ["no_answer"]
        assert d.ready() == ["close"]
        with pytest.raises(MessageNotExpected):
            d.message("complainant_response", {"accepted": False})


@round_trip
def test_asking_the_complainant_pauses_the_resolution_clock(round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        d.complete("acknowledge", ACK)
        d.complete("assess", ASSESS)
        assert d.snapshot.ready[0].due_at.isoformat() == "2026-03-06T09:00:00+00:00"
        d.complete("investigate", ASK)
        assert d.snapshot.status_label == "Waiting for information from you"
        [question] = [f for f in d.rt.message_forms(d.workflow)
                      if f["message"] == "complainant_information"]
        assert question["prompt"] == ASK["question_to_complainant"]
        clock.shift(timedelta(hours=30))  # the complainant takes 30 hours to answer
        d.message("complainant_information", {"information": "On 3 March."})
        [task] = d.snapshot.ready
        assert task.bpmn_id == "investigate"
        assert task.due_at.isoformat() == "2026-03-07T15:00:00+00:00"  # 30 hours later
        assert d.snapshot.data["complainant_information"] == {"information": "On 3 March."}
        d.complete("investigate", INVESTIGATE)
        assert d.snapshot.ready[0].due_at.isoformat() == "2026-03-07T15:00:00+00:00"


@round_trip
def test_a_question_left_unanswered_returns_to_the_investigation(round_trip: bool) -> None:
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS), ("investigate", ASK)):
            d.complete(bpmn_id, values)
        clock.shift(timedelta(days=10, seconds=1))
        assert "information_timeout" in d.fire()
        assert "investigate" in d.ready()
        assert "complainant_information" not in d.snapshot.messages
        d.complete("investigate", INVESTIGATE)
        assert "respond" in d.ready()


@round_trip
def test_the_complainant_adds_information_at_any_time_and_a_handler_reviews_it(
        round_trip: bool) -> None:
    d = Driver(round_trip)
    assert {"complainant_adds_information", "complainant_withdraws"} <= set(d.snapshot.messages)
    d.message("complainant_adds_information", {"information": "Receipt number 123."})
    d.message("complainant_adds_information", {"information": "And 124."})
    assert sorted(d.ready()) == ["acknowledge", "review_information", "review_information"]
    review = next(t for t in d.snapshot.ready if t.bpmn_id == "review_information")
    assert review.role == "handler"
    d.complete("review_information", {"effect": "taken_into_account"})
    d.complete("acknowledge", ACK)
    assert sorted(d.ready()) == ["assess", "review_information"]
    assert d.snapshot.status_label == "Being assessed"  # the side branch has no label


@round_trip
def test_a_withdrawal_closes_the_case_and_cancels_every_open_task(round_trip: bool) -> None:
    d = Driver(round_trip)
    d.complete("acknowledge", ACK)
    d.message("complainant_adds_information", {"information": "More."})
    d.message("complainant_withdraws", {"confirm": True, "reason": "resolved_elsewhere"})
    assert d.snapshot.completed
    assert d.snapshot.status_label == "Closed: withdrawn at your request"
    assert d.snapshot.ready == [] and d.snapshot.timers == [] and d.snapshot.messages == []


def test_a_completed_task_cannot_be_completed_twice() -> None:
    d = Driver(True)
    task_id = d.snapshot.ready[0].task_id
    d.complete("acknowledge", ACK)
    with pytest.raises(TaskNotReady):
        d.rt.complete(d.workflow, task_id, ACK)
    with pytest.raises(TaskNotReady):
        d.rt.complete(d.workflow, "not-a-uuid", ACK)


def test_a_message_the_case_is_not_waiting_for_is_refused() -> None:
    d = Driver(True)
    with pytest.raises(MessageNotExpected):
        d.message("complainant_response", {"accepted": True})


def test_state_is_stored_without_the_spec_and_stays_small() -> None:
    d = Driver(True)
    to_decision(d)
    d.message("complainant_response", {"accepted": True})
    state = d.rt.dump(d.workflow)
    assert b"task_specs" not in state  # compressed; check the JSON too
    text = unpack(state).decode()
    # A call activity's sub-workflow names its spec; the spec itself is never stored.
    assert "task_specs" not in text and '"spec": {' not in text
    assert len(state) < 6000, len(state)


def test_an_endless_loop_in_a_script_is_stopped_with_a_clear_message() -> None:
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False", "while True:\n    pass")
    rt = runtime(with_bpmn(text), time_limit=0.3)
    with pytest.raises(EngineError) as caught:
        rt.start(dict(INTAKE))
    assert "Register and send the acknowledgement" in str(caught.value)
    assert "longer than 0.3 s" in str(caught.value)
    assert caught.value.element_id == "register"


def test_a_failing_condition_names_the_step() -> None:
    text = reference_bpmn().replace(">not in_scope<", ">not in_scope_typo<")
    rt = runtime(with_bpmn(text))
    wf, snap = rt.start(dict(INTAKE))
    snap = rt.complete(wf, snap.ready[0].task_id, ACK)
    with pytest.raises(EngineError) as caught:
        rt.complete(wf, snap.ready[0].task_id, ASSESS)
    assert "in_scope_typo" in str(caught.value)
