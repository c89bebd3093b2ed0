"""Task state changes skip building SpiffWorkflow's log record only when nothing would log
it (engine/task_state.py): an operator who turns on SpiffWorkflow's logging still gets it."""

from __future__ import annotations

import hashlib
import inspect
import logging
from typing import Any

import pytest
from SpiffWorkflow.task import Task

from server.engine import task_state

from .support.data import ACK
from .support.process import Driver


def test_spiffworkflow_state_change_is_the_one_task_state_reproduces() -> None:
    # task_state sets last_state_change and _state as this method does when it would not
    # log: a SpiffWorkflow whose _set_state does more must be read again before upgrading.
    source = inspect.getsource(task_state.SPIFF_SET_STATE)
    assert hashlib.sha256(source.encode()).hexdigest() == \
        "86c4c1d22dc9b70f0db4602e89b186aaddfb37f400116cf4773b943b021e40ac"
    assert task_state.SPIFF_SET_STATE is not task_state._set_state
    assert task_state._LOG is logging.getLogger("spiff.task")


def test_spiffworkflow_logging_still_records_each_state_change_with_its_task(
        caplog: pytest.LogCaptureFixture) -> None:
    d = Driver(False)
    with caplog.at_level(logging.INFO, logger="spiff.task"):
        d.complete("acknowledge", ACK)
    changes = [r for r in caplog.records if r.name == "spiff.task"]
    assert any(r.getMessage() == "State changed to COMPLETED"
               and getattr(r, "task_spec", None) == "acknowledge"
               for r in changes)
    assert all(hasattr(r, "elapsed") and hasattr(r, "workflow_spec") for r in changes)
    assert Task._set_state is task_state._set_state


def test_a_quiet_logger_costs_no_log_record_and_states_still_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    d = Driver(False)
    built: list[Any] = []

    def collect(self: Task, *extra: Any) -> dict[str, Any]:
        built.append(self)
        return {}

    monkeypatch.setattr(Task, "collect_log_extras", collect)
    spiff_log = logging.getLogger("spiff.task")
    level = spiff_log.level
    spiff_log.setLevel(logging.WARNING)
    try:
        before = {t.id: t.last_state_change for t in d.workflow.get_tasks()}
        d.complete("acknowledge", ACK)
    finally:
        spiff_log.setLevel(level)
    assert built == []
    assert d.ready() == ["assess"]
    assessed = next(t for t in d.workflow.get_tasks() if t.task_spec.name == "assess")
    assert assessed.last_state_change > before.get(assessed.id, 0)
