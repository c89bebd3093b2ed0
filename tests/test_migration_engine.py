"""Moving a running case to another version, on the engine alone: what a move plan says.

A dry run and a move are the same plan (engine/migration.py), so these tests read the plan
for cases at different steps and versions that differ in one way each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import Babel

from server.engine import ProcessRuntime
from server.engine.migration import plan_move

from .support.data import ACK, ASK, ASSESS
from .support.process import Driver, reference_bpmn, reference_files, runtime, with_bpmn

CONSULT = {"findings": "The fee looks wrong.", "need_information": False,
           "consult_roles": ["specialist"], "consultation_question": "Which tariff?",
           "consultation_days": 2}


@pytest.fixture(autouse=True)
def babel() -> Iterator[None]:
    """Refusals are worded through Flask-Babel: an app context without a database."""
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield


def renamed(text: str, old: str, new: str) -> str:
    """A diagram whose element `old` has the id `new` (the step is gone, another is added)."""
    return re.sub(rf"(?<![-_.])\b{old}\b(?![-_.])", new, text)


def with_check(consultation: str) -> str:
    """The consultation diagram with one more step after the opinion (a changed shape)."""
    check = ('<bpmn:scriptTask id="check_opinion" name="Check the opinion">'
             '<bpmn:incoming>Flow_c_answer</bpmn:incoming>'
             '<bpmn:outgoing>Flow_c_check</bpmn:outgoing>'
             '<bpmn:script>opinion_checked = True</bpmn:script></bpmn:scriptTask>'
             '<bpmn:sequenceFlow id="Flow_c_check" sourceRef="check_opinion" '
             'targetRef="pack_opinion" />')
    text = consultation.replace(
        '<bpmn:sequenceFlow id="Flow_c_answer" sourceRef="give_opinion" '
        'targetRef="pack_opinion" />',
        '<bpmn:sequenceFlow id="Flow_c_answer" sourceRef="give_opinion" '
        'targetRef="check_opinion" />' + check)
    text = text.replace('<bpmn:incoming>Flow_c_answer</bpmn:incoming>\n      <bpmn:outgoing>'
                        'Flow_c_end', '<bpmn:incoming>Flow_c_check</bpmn:incoming>\n      '
                        '<bpmn:outgoing>Flow_c_end')
    assert text.count("check_opinion") == 3
    return text.replace("<bpmn:flowNodeRef>pack_opinion</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>pack_opinion</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>check_opinion</bpmn:flowNodeRef>")


def at(driver: Driver, *steps: tuple[str, dict]) -> Driver:
    """The driver after completing these steps."""
    for bpmn_id, values in steps:
        driver.complete(bpmn_id, values)
    return driver


def test_a_case_moves_keeping_its_task_and_shows_the_new_diagram() -> None:
    old = runtime()
    new = runtime(with_bpmn(reference_bpmn().replace('name="Assess complaint"',
                                                     'name="Assess the complaint"')))
    case = at(Driver(False, old), ("acknowledge", ACK))
    move = plan_move(old, old.dump(case.workflow), new)
    assert move.refusals == []
    assert move.at_before == ["Assess complaint"] and move.at_after == ["Assess the complaint"]
    assert move.snapshot is not None and move.state is not None
    assert [t.task_id for t in move.snapshot.ready] == [t.task_id for t in case.snapshot.ready]
    moved = new.load(move.state)  # and it goes on on the new version
    snapshot = new.complete(moved, move.snapshot.ready[0].task_id, ASSESS)
    assert [t.bpmn_id for t in snapshot.ready] == ["investigate"]


def test_a_case_at_a_step_the_new_version_lacks_is_refused_with_the_step_named() -> None:
    old = runtime()
    new = runtime(with_bpmn(renamed(reference_bpmn(), "investigate", "look_into")))
    waiting = Driver(False, old)
    investigating = at(Driver(False, old), ("acknowledge", ACK), ("assess", ASSESS))
    refused = plan_move(old, old.dump(investigating.workflow), new)
    assert refused.refusals == [
        "the step 'Investigate' where the case is now is not in the new version"]
    assert refused.state is None and refused.snapshot is None
    assert "Investigate" in refused.removed and "Investigate" in refused.added
    assert plan_move(old, old.dump(waiting.workflow), new).refusals == []


def test_a_running_subprocess_that_changed_shape_is_refused_and_one_that_did_not_moves(
) -> None:
    old = runtime()
    consulting = at(Driver(False, old), ("acknowledge", ACK), ("assess", ASSESS),
                    ("investigate", CONSULT))
    assert consulting.ready() == ["give_opinion"]
    files = reference_files()
    same = runtime(dict(files))
    files["consultation.bpmn"] = with_check(files["consultation.bpmn"].decode()).encode()
    changed = runtime(files)
    state = old.dump(consulting.workflow)
    refused = plan_move(old, state, changed)
    assert len(refused.refusals) == 1
    assert "the subprocess 'Consultation' that runs in the case changed shape" in \
        refused.refusals[0]
    kept = plan_move(old, state, same)
    assert kept.refusals == [] and kept.at_after == ["Give your opinion on a complaint"]


def test_timers_are_set_again_from_the_new_diagram() -> None:
    old = runtime()
    later = reference_bpmn().replace(
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">deadline("acknowledge")',
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">next_level("acknowledge")')
    new = runtime(with_bpmn(later))
    case = Driver(False, old)
    move = plan_move(old, old.dump(case.workflow), new)
    assert move.refusals == []
    [change] = move.timers
    assert change.title == "Acknowledgement overdue"
    assert change.before is not None and change.after is not None
    assert (change.after - change.before).total_seconds() == 24 * 3600


def test_a_moved_case_can_be_moved_back(old_and_new: tuple[ProcessRuntime, ProcessRuntime]
                                        ) -> None:
    old, new = old_and_new
    case = at(Driver(False, old), ("acknowledge", ACK))
    there = plan_move(old, old.dump(case.workflow), new)
    assert there.state is not None
    back = plan_move(new, there.state, old)
    assert back.refusals == [] and back.at_after == ["Assess complaint"]
    assert back.snapshot is not None
    assert [t.task_id for t in back.snapshot.ready] == [t.task_id for t in case.snapshot.ready]


def test_a_finished_case_is_not_moved(old_and_new: tuple[ProcessRuntime, ProcessRuntime]
                                      ) -> None:
    old, new = old_and_new
    case = Driver(False, old)
    case.message("complainant_withdraws", {"reason": "Sorted out."})
    if not case.workflow.is_completed():
        pytest.skip("the reference process keeps a withdrawn case waiting")
    assert plan_move(old, old.dump(case.workflow), new).refusals == [
        "the case's process has ended"]


@pytest.fixture
def old_and_new() -> tuple[ProcessRuntime, ProcessRuntime]:
    """The reference process and a version with one step renamed."""
    return runtime(), runtime(with_bpmn(reference_bpmn().replace(
        'name="Assess complaint"', 'name="Assess the complaint"')))


def test_a_move_repeats_no_step_and_keeps_the_due_times_the_new_diagram_did_not_change(
        old_and_new: tuple[ProcessRuntime, ProcessRuntime]) -> None:
    old, new = old_and_new
    asking = at(Driver(False, old), ("acknowledge", ACK), ("assess", ASSESS),
                ("investigate", ASK))
    [waiting] = asking.snapshot.timers  # "No information in 10 working days"
    move = plan_move(old, old.dump(asking.workflow), new)
    assert move.refusals == [] and move.timers == []
    assert move.snapshot is not None and move.snapshot.notices == []
    assert [(t.task_id, t.due_at) for t in move.snapshot.timers] == \
        [(waiting.task_id, waiting.due_at)]
    moved = new.load(move.state or b"")
    after = new.message(moved, "complainant_information", {"information": "3 March"})
    assert [t.bpmn_id for t in after.ready] == ["investigate"]


def test_a_case_whose_timer_is_due_now_waits_until_it_has_fired(
        old_and_new: tuple[ProcessRuntime, ProcessRuntime]) -> None:
    old, new = old_and_new
    case = Driver(False, old)
    for task in case.workflow.get_tasks():
        if "event_value" in task.internal_data:  # as if the scheduler had not come by yet
            task.internal_data["event_value"] = "2020-01-01T00:00:00+00:00"
    refused = plan_move(old, old.dump(case.workflow), new)
    assert len(refused.refusals) == 1
    assert refused.refusals[0].endswith("is due now: move the case once it has fired")
