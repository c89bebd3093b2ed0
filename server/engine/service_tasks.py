"""Service tasks that wait: the call is made later, outside the engine run, by a worker.

SpiffWorkflow's own ServiceTask calls the script engine's `call_service` inside
`do_engine_steps`, i.e. inside the step's database transaction. Plaint's ServiceTask
instead evaluates the parameters (in the sandbox, on the task data), keeps them in the
task's internal data and returns None, which leaves the task STARTED: the run ends
there like a wait on a timer. The step's transaction records the call (a service_call
row); a worker makes it, then completes the task with the result (`finish`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .errors import TaskNotReady
from .walk import TaskWalk

CALL_KEY = "plaint_service_call"  # in task.internal_data: what the worker is to call


@dataclass(frozen=True)
class ServiceCall:
    """A service task waiting for its call: operator, parameters, where the result goes."""

    task_id: str
    bpmn_id: str
    title: str
    operator: str
    params: dict[str, Any]
    result_variable: str


class ServiceTask(SpiffServiceTask):  # type: ignore[misc]
    """A spiffworkflow:serviceTaskOperator task that waits for a worker to make its call.

    Named like SpiffWorkflow's class on purpose: stored specs name their classes, and a
    version deployed before keeps loading (serializer.py maps the name to this class).
    """

    def _run_hook(self, my_task: Task) -> bool | None:
        """Evaluate the parameters now, with the data as it is, and wait (STARTED)."""
        params = {name: value["value"] for name, value in self.evaluate_params(my_task).items()}
        # Through JSON: the row and the proxy see exactly what was evaluated.
        my_task.internal_data[CALL_KEY] = {
            "operator": self.operation_name,
            "params": json.loads(json.dumps(params, default=str)),
        }
        return None


def pending_calls(walk: TaskWalk) -> list[ServiceCall]:
    """The service tasks of a workflow that wait for their call now."""
    found = []
    for task in walk.having(TaskState.STARTED):
        spec = task.task_spec
        call = task.internal_data.get(CALL_KEY)
        if isinstance(spec, ServiceTask) and isinstance(call, dict):
            found.append(ServiceCall(
                task_id=str(task.id), bpmn_id=spec.bpmn_id or spec.name,
                title=spec.bpmn_name or spec.bpmn_id or spec.name,
                operator=call["operator"], params=call["params"],
                result_variable=spec.result_variable))
    return found


def waiting_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    """The service task `task_id` if it still waits for its call; TaskNotReady otherwise."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, SpiffWorkflowException):
        task = None
    if task is None or task.state != TaskState.STARTED or \
            not isinstance(task.task_spec, ServiceTask):
        raise TaskNotReady("the service task no longer waits for its call")
    return task


def finish(task: Task, result: Any) -> None:
    """Put the call's result into the task data under resultVariable and complete the task."""
    task.data[task.task_spec.result_variable] = result
    task.internal_data.pop(CALL_KEY, None)
    task.complete()


def operators_of(specs: Iterable[BpmnProcessSpec]) -> list[tuple[str, str, str | None]]:
    """Every service task's (operator, element id, file) in these specs."""
    found = []
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, SpiffServiceTask):
                found.append((task_spec.operation_name, task_spec.bpmn_id or task_spec.name,
                              getattr(spec, "file", None)))
    return found
