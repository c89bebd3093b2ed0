"""A case's engine state written and read directly (engine/task_tree.py) is exactly what
SpiffWorkflow's own converters wrote and read before: the same stored bytes, the same
workflow. Every scenario of the reference process runs saving and reloading its state at
every step, each save and load checked against SpiffWorkflow's converters."""

from __future__ import annotations

import inspect
import json
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from server.engine import runtime as engine_runtime
from server.engine import serializer, task_tree
from server.engine.state_form import FORM
from server.packing import pack, unpack

from . import test_engine, test_process_paths
from .support.data import ACK, ASSESS, INTAKE
from .support.process import Driver, runtime, to_decision

REGISTRY = serializer._STATE.registry


def full_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """SpiffWorkflow's to_dict of the workflow (its data values converted, not as JSON)."""
    return serializer._STATE.to_dict(workflow)  # type: ignore[no-any-return]


def assert_same_workflow(new: BpmnWorkflow, old: BpmnWorkflow) -> None:
    """Two loaded workflows agree in everything SpiffWorkflow keeps, saved or not."""
    assert full_dict(new) == full_dict(old)
    assert serializer.generic_dump_state(new) == serializer.generic_dump_state(old)
    for a, b in zip([new, *new.subprocesses.values()], [old, *old.subprocesses.values()],
                    strict=True):
        assert type(a) is type(b) and a.spec is b.spec
        assert list(a.tasks) == list(b.tasks) and a.task_tree.id == b.task_tree.id
        assert (a.last_task and a.last_task.id) == (b.last_task and b.last_task.id)
        assert a.data == b.data and a.correlations == b.correlations
        for ta, tb in zip(a.tasks.values(), b.tasks.values(), strict=True):
            assert type(ta) is type(tb) and list(vars(ta)) == list(vars(tb))
            assert ta.workflow is a and ta.task_spec is tb.task_spec
            assert (ta.id, ta.state, ta.thread_id, ta.triggered, ta.last_state_change) == (
                tb.id, tb.state, tb.thread_id, tb.triggered, tb.last_state_change)
            # (objects such as a caught BpmnEvent compare by what they convert to)
            assert REGISTRY.convert(ta.data) == REGISTRY.convert(tb.data)
            assert REGISTRY.convert(ta.internal_data) == REGISTRY.convert(tb.internal_data)
            assert [c.id for c in ta.children] == [c.id for c in tb.children]
            pa, pb = ta.parent, tb.parent
            assert (pa and pa.id) == (pb and pb.id)
            if pa is not None:
                # DeepMerge copies a parent's dicts and lists one level down: a child
                # shares no mutable value with its parent, and shares the same others.
                assert [k for k in ta.data if k in pa.data and ta.data[k] is pa.data[k]] \
                    == [k for k in tb.data if k in pb.data and tb.data[k] is pb.data[k]]
    assert list(new.subprocesses) == list(old.subprocesses)
    for sa, sb in zip(new.subprocesses.values(), old.subprocesses.values(), strict=True):
        assert (sa.parent_task_id, sa.depth, sa.top_workflow) == (
            sb.parent_task_id, sb.depth, new)
        assert len(sa.completed_event.hard_subscribers or []) == len(
            sb.completed_event.hard_subscribers or [])
    assert list(new.event_manager.tasks) == list(old.event_manager.tasks)
    assert all(t.workflow.tasks[t.id] is t for t in new.event_manager.tasks.values())
    assert new.bpmn_events.__class__ is list
    assert full_dict(new)["bpmn_events"] == full_dict(old)["bpmn_events"]


@dataclass
class Checked:
    """How many saves and loads were checked against SpiffWorkflow's converters."""
    dumps: int = 0
    loads: int = 0


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checked]:
    """Every save and load the engine makes compared with SpiffWorkflow's converters."""
    counts = Checked()

    def dump(workflow: BpmnWorkflow) -> bytes:
        task_tree.dump(workflow, REGISTRY, serializer._STATE.VERSION)  # no fallback
        new = serializer.dump_state(workflow)
        assert new == serializer.generic_dump_state(workflow)
        counts.dumps += 1
        return new

    def load(data: bytes, spec: Any, subs: Any, engine: Any) -> BpmnWorkflow:
        task_tree.load(json.loads(unpack(data)), spec, subs, engine, REGISTRY)  # no fallback
        new = serializer.load_state(data, spec, subs, engine)
        assert_same_workflow(new, serializer.generic_load_state(data, spec, subs, engine))
        counts.loads += 1
        return new

    monkeypatch.setattr(engine_runtime, "dump_state", dump)
    monkeypatch.setattr(engine_runtime, "load_state", load)
    yield counts


def saved_scenarios() -> list[Callable[[bool], None]]:
    """The engine and process-path scenarios that run with a save/restore at every step."""
    found = []
    for module in (test_engine, test_process_paths):
        for name, function in vars(module).items():
            if name.startswith("test_") and callable(function) \
                    and list(inspect.signature(function).parameters) == ["round_trip"]:
                found.append(function)
    return found


def test_the_scenarios_cover_timers_messages_call_activities_and_multi_instance() -> None:
    names = {f.__name__ for f in saved_scenarios()}
    assert len(names) >= 15
    assert "test_the_longest_path_consults_approves_reviews_refers_surveys_and_reopens" in names
    assert "test_a_colleague_who_does_not_answer_in_time_is_chased" in names
    assert "test_the_acknowledgement_escalation_chain_reminds_escalates_and_goes_up_a_level" \
        in names


@pytest.mark.parametrize("scenario", saved_scenarios(), ids=lambda f: f.__name__[5:45])
def test_every_save_and_load_of_a_scenario_matches_spiffworkflow(
        scenario: Callable[[bool], None], checked: Checked) -> None:
    scenario(True)
    assert checked.dumps >= 2 and checked.loads >= 1


def test_a_case_in_a_consultation_keeps_its_sub_workflows_and_data_object(
        checked: Checked) -> None:
    d = Driver(True)
    d.complete("acknowledge", ACK)
    d.complete("assess", ASSESS)
    d.complete("investigate", test_process_paths.CONSULT)
    state = d.rt.dump(d.workflow)
    # Two consultations: a multi-instance call activity with one sub-workflow each.
    assert len(d.workflow.subprocesses) >= 2
    assert "consultations" in d.workflow.data["data_objects"]
    loaded = d.rt.load(state)
    assert len(loaded.subprocesses) == len(d.workflow.subprocesses)
    assert sorted(t.task_spec.bpmn_id for t in loaded.get_tasks(
        state=TaskState.READY, manual=True)) == ["give_opinion", "give_opinion"]
    assert checked.dumps and checked.loads


def _odd_data() -> dict[str, Any]:
    """Task data of every kind the serializer stores, and some it stores oddly."""
    return {
        "when": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        "naive_when": datetime(2026, 3, 1, 9, 30),
        "how_long": timedelta(days=2, seconds=5),
        "ref": UUID("12345678-1234-5678-1234-567812345678"),
        "nested": {"a": [1, 2, {"b": datetime(2025, 1, 1, tzinfo=UTC)}], "c": None},
        "tags": {"x"},  # a set: written as a list
        "ratio": 0.5,
        "not_a_number": math.nan,
        "empty_list": [],
    }


def test_task_data_of_every_stored_kind_saves_and_loads_as_spiffworkflow_does() -> None:
    rt = runtime()
    workflow, _ = rt.start(dict(INTAKE))
    tasks = list(workflow.get_tasks())
    root, ready = workflow.task_tree, workflow.get_tasks(state=TaskState.READY)[0]
    root.data.update(_odd_data())
    ready.data.update(_odd_data())  # equal values, other objects
    ready.data["when"] = datetime(2027, 1, 1, tzinfo=UTC)
    del ready.data["ratio"]
    assert ready.parent is not None
    tasks[-1].data = {}
    # A child whose data is its parent's, the same NaN object included: NaN != NaN, so
    # SpiffWorkflow writes it again in the child's delta (dict equality would not).
    first = root.children[0]
    first.data["not_a_number"] = math.nan
    first.children[0].data = dict(first.data)
    ready.internal_data["seen_at"] = datetime(2026, 3, 2, tzinfo=UTC)
    workflow.data["closed_at"] = datetime(2026, 4, 1, tzinfo=UTC)

    new = serializer.dump_state(workflow)
    assert new == serializer.generic_dump_state(workflow)
    stored = json.loads(unpack(new))
    assert stored[FORM] and '"typename":"datetime"' in unpack(new).decode()
    loaded = serializer.load_state(new, rt.spec, rt.subprocess_specs, rt.script_engine)
    old = serializer.generic_load_state(new, rt.spec, rt.subprocess_specs, rt.script_engine)
    assert loaded.task_tree.data["when"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert loaded.get_task_from_id(ready.id).internal_data["seen_at"].year == 2026
    # NaN is not equal to itself: compare what is stored instead.
    assert serializer.generic_dump_state(loaded) == serializer.generic_dump_state(old)
    assert serializer.dump_state(loaded) == serializer.dump_state(old)


def test_a_state_written_before_the_stored_form_loads_as_before() -> None:
    rt = runtime()
    d = Driver(False, rt)
    to_decision(d)
    REGISTRY._encoder_mode = True
    try:
        dct = serializer._STATE.to_dict(d.workflow)
        dct[serializer._STATE.VERSION_KEY] = serializer._STATE.VERSION
        text = json.dumps(dct, cls=serializer._STATE._encoder_cls)
    finally:
        REGISTRY._encoder_mode = False
    for data in (zlib.compress(text.encode()), pack(text.encode(), "state")):
        new = serializer.load_state(data, rt.spec, rt.subprocess_specs, rt.script_engine)
        old = serializer.generic_load_state(data, rt.spec, rt.subprocess_specs,
                                            rt.script_engine)
        assert_same_workflow(new, old)
        assert serializer.dump_state(new) == rt.dump(d.workflow)


def test_a_stored_form_the_direct_path_does_not_read_loads_through_spiffworkflow() -> None:
    rt = runtime()
    d = Driver(False, rt)
    d.complete("acknowledge", ACK)
    d.complete("assess", ASSESS)
    d.complete("investigate", test_process_paths.CONSULT)
    dct = json.loads(unpack(rt.dump(d.workflow)))
    # A sub-workflow keyed by its parent task's written-out id: compact() reads it, and
    # so does SpiffWorkflow, but task_tree leaves it to them.
    table = dct[FORM][1]
    key = next(iter(dct["subprocesses"]))
    digits = table[int(key) * 32:int(key) * 32 + 32]
    dct["subprocesses"] = {str(UUID(digits)) if k == key else k: v  # same order: ids
                           for k, v in dct["subprocesses"].items()}  # are numbered by it
    data = pack(json.dumps(dct, separators=(",", ":")).encode(), "state")
    with pytest.raises(task_tree.Unhandled):
        task_tree.load(json.loads(unpack(data)), rt.spec, rt.subprocess_specs,
                       rt.script_engine, REGISTRY)
    new = serializer.load_state(data, rt.spec, rt.subprocess_specs, rt.script_engine)
    assert_same_workflow(new, serializer.generic_load_state(
        data, rt.spec, rt.subprocess_specs, rt.script_engine))
    assert len(new.subprocesses) == len(d.workflow.subprocesses)


def test_a_damaged_task_id_table_is_refused_as_before() -> None:
    rt = runtime()
    d = Driver(False, rt)
    dct = json.loads(unpack(rt.dump(d.workflow)))
    dct[FORM][1] = dct[FORM][1][:-1] + "g"
    data = pack(json.dumps(dct).encode(), "state")
    for load in (serializer.load_state, serializer.generic_load_state):
        with pytest.raises(ValueError, match="task id table is damaged"):
            load(data, rt.spec, rt.subprocess_specs, rt.script_engine)


def test_the_converters_task_tree_reproduces_are_the_ones_the_serializer_uses() -> None:
    # task_tree copies what these converters do: another converter for a task or a
    # sub-workflow (a SpiffWorkflow upgrade, a custom class) must be reproduced first.
    def converter(cls: type) -> Any:
        return REGISTRY.convert_to_dict[REGISTRY.typenames[cls]].args[1].__self__

    assert type(converter(Task)) is TaskConverter
    assert type(converter(BpmnSubWorkflow)) is BpmnSubWorkflowConverter
    assert type(converter(BpmnWorkflow)) is serializer._StateOnlyConverter
    assert REGISTRY.typenames[Task] == "Task"
    assert REGISTRY.typenames[BpmnSubWorkflow] == "BpmnSubWorkflow"
    assert REGISTRY.typenames[BpmnWorkflow] == "BpmnWorkflow"
