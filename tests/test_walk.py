"""A case consulting colleagues (sub-processes running side by side) reads back as SpiffWorkflow
sees it, though each run now walks the task tree once (engine/walk.py)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from SpiffWorkflow.util.task import TaskState

from server.engine.walk import TaskWalk, _tasks_below

from .support.data import ACK, ASSESS, INVESTIGATE
from .support.process import Driver, round_trip

CONSULT = {**INVESTIGATE, "consult_roles": ["specialist", "auditor"],
           "consultation_question": "Was the fee applied under the 2025 tariff?",
           "consultation_days": 2}
# Filters with a definite state: get_tasks then looks below every task from FUTURE on.
MASKS = (TaskState.WAITING, TaskState.READY, TaskState.STARTED,
         TaskState.READY | TaskState.WAITING, TaskState.WAITING | TaskState.COMPLETED,
         TaskState.WAITING | TaskState.READY | TaskState.COMPLETED)


def assert_walk_matches_spiffworkflow(d: Driver) -> None:
    """Each state filter over the one walk lists what get_tasks lists, in its order."""
    walk = TaskWalk(d.workflow)
    for mask in MASKS:
        assert [t.id for t in walk.having(mask)] == \
            [t.id for t in d.workflow.get_tasks(state=mask)], TaskState.get_name(mask)
    # COMPLETED alone would not look below a running call activity: the walk does.
    assert [t.id for t in walk.having(TaskState.COMPLETED)] == \
        [t.id for t in d.workflow.get_tasks(state=TaskState.WAITING | TaskState.COMPLETED)
         if t.state == TaskState.COMPLETED]
    assert [t.id for t in walk.ready_manual()] == \
        [t.id for t in d.workflow.get_tasks(state=TaskState.READY, manual=True)]


@round_trip
def test_two_consulted_colleagues_are_chased_once_each_and_the_case_moves_on_after_both(
        round_trip: bool) -> None:
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False) as clock:
        d = Driver(round_trip)
        d.complete("acknowledge", ACK)
        d.complete("assess", ASSESS)
        d.complete("investigate", CONSULT)
        assert d.ready() == ["give_opinion", "give_opinion"]
        assert [t.due_at.isoformat() for t in d.snapshot.ready] == \
            ["2026-03-04T09:00:00+00:00"] * 2
        assert [t.bpmn_id for t in d.snapshot.timers] == ["opinion_overdue"] * 2
        assert d.snapshot.status_label == "Under investigation: we are consulting colleagues"
        assert_walk_matches_spiffworkflow(d)

        clock.shift(timedelta(days=2, hours=1))
        assert d.fire() == ["opinion_overdue", "opinion_overdue"]
        assert [t.flag for t in d.snapshot.ready] == ["Opinion overdue"] * 2
        # Each reminder goes to whoever holds the question it chases.
        assert sorted(n.task_id for n in d.snapshot.notices) == \
            sorted(t.task_id for t in d.snapshot.ready)
        assert d.snapshot.timers == []
        assert_walk_matches_spiffworkflow(d)
        assert d.fire() == []  # a timer that fired in an earlier run is not named again

        d.complete("give_opinion", {"opinion_text": "Yes, the 2025 tariff."})
        assert d.ready() == ["give_opinion"]
        assert_walk_matches_spiffworkflow(d)
        d.complete("give_opinion", {"opinion_text": "The tariff changed in March."})
        assert d.ready() == ["investigate"]
        assert [o["answer"] for o in d.snapshot.data["opinions"]] == [
            "Yes, the 2025 tariff.", "The tariff changed in March."]
        assert_walk_matches_spiffworkflow(d)



def test_the_quick_walk_gives_up_on_a_tree_that_loops() -> None:
    # A task listed as a child of its own descendant (a damaged state): the walk that does
    # not count depths must stop and leave it to the one that stops at get_tasks' limit.
    d = Driver(False)
    tree, total = d.workflow.task_tree, len(d.workflow.tasks)
    intact = _tasks_below(tree, {}, total)
    assert intact is not None and len(intact) > 1
    d.workflow.get_tasks(state=TaskState.READY)[0]._children.append(tree.id)
    assert _tasks_below(tree, {}, total) is None
