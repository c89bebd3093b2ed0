"""A workflow state's stored form written and read directly, task by task.

SpiffWorkflow's converters walk every task through its generic registry (a typename
lookup, a partial call and a dict walk per value) and state_form.py then renames every
task id; this module goes straight between the workflow objects and state_form's stored
form, and gives exactly what that pair gives: the same JSON bytes on the way out, the
same workflow on the way in. It reproduces SpiffWorkflow 3.2's TaskConverter,
WorkflowConverter and BpmnSubWorkflowConverter (bpmn/serializer/default/workflow.py);
task data values that are not plain JSON (datetimes, timedeltas, ...) still go through
the registry. Anything else it raises Unhandled for, and serializer.py takes the
generic path.
"""

from __future__ import annotations

import re
from copy import copy
from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .state_form import DEFAULTS, FORM, FORM_VERSION, HEX, MISSING

# The types DictionaryConverter.restore hands back untouched.
_PLAIN = frozenset({str, int, float, bool, type(None)})
_MUTABLE = (dict, list, set)
_COPIES = frozenset(_MUTABLE)  # copy.copy of exactly these is their .copy()
_DEFAULT_DELTA = DEFAULTS["delta"]
# The keys TaskConverter writes (state_form leaves out "id" and the defaults).
_TASK_KEYS = frozenset({"parent", "children", "last_state_change", "state", "task_spec",
                        "triggered", "internal_data", "data", "delta"})
_WAITING = TaskState.WAITING
_TABLE = re.compile(f"(?:[{HEX}]{{32}})*")  # what state_form's _dashed accepts, id by id
# Types whose values are never != to themselves (a float can be NaN, a Decimal too): for
# these, dict equality (which takes a value as equal to itself) agrees with DeepMerge's !=.
_EQUAL_TO_ITSELF = frozenset({str, int, bool, type(None), dict, list, datetime})
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = SafeUUID.unknown


class Unhandled(Exception):
    """A workflow or stored state this module does not convert; the generic path does."""


def dump(workflow: BpmnWorkflow, registry: Any, version: str) -> dict[str, Any]:
    """The stored form of a workflow: what compact(serializer to_dict) gives, built directly."""
    if type(workflow) is not BpmnWorkflow:
        raise Unhandled("not a plain BpmnWorkflow")
    subprocesses = workflow.subprocesses
    workflows = (workflow, *subprocesses.values())
    # Task ids as ints (a UUID hashes in Python, an int in C): their place in the table.
    places: dict[int, int] = {}
    owners: list[Any] = []  # by place: the workflow holding the task
    held: list[Task] = []  # by place: the task
    numbers = []  # by place: the id as an int
    for wf in workflows:
        for key, task in wf.tasks.items():
            # compact() keeps a state whose ids are not str(UUID)-keyed and unique as it is.
            if type(key) is not UUID or type(task) is not Task or task.workflow is not wf \
                    or (task.id is not key and task.id != key) or key.int in places:
                raise Unhandled("task ids compact() would not number")
            number = key.int
            places[number] = len(owners)
            owners.append(wf)
            held.append(task)
            numbers.append(number)
    try:
        out = _workflow_dict(workflow, registry, places, owners, held)
        subs = {}
        for key, sub in subprocesses.items():
            if type(sub) is not BpmnSubWorkflow:
                raise Unhandled("not a plain BpmnSubWorkflow")
            dct = _workflow_dict(sub, registry, places, owners, held)
            dct["parent_task_id"] = _place(sub.parent_task_id, places)
            dct["spec"] = sub.spec.name
            dct["typename"] = "BpmnSubWorkflow"
            subs[str(_place(key, places))] = dct
    except AttributeError as error:  # a task reference that is not a UUID
        raise Unhandled("a task reference that is not a UUID") from error
    out["subprocesses"] = subs
    out["bpmn_events"] = registry.convert(workflow.bpmn_events)
    out["process"] = workflow.spec.name
    out["typename"] = "BpmnWorkflow"
    out["serializer_version"] = version
    out[FORM] = [FORM_VERSION, ("%032x" * len(numbers)) % tuple(numbers)]  # UUID.hex each
    return out


def _place(task_id: Any, places: dict[int, int]) -> int | str:
    """A task id as compact() refers to it: its place in the table, else written out."""
    place = None if task_id is None else places.get(task_id.int)
    return str(task_id) if place is None else place


def _workflow_dict(workflow: Any, registry: Any, places: dict[int, int],
                   owners: list[Any], held: list[Task]) -> dict[str, Any]:
    """WorkflowConverter.to_dict's keys, in its order, with the tasks as compact() lists them."""
    last = workflow.last_task
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": _place(last.id, places) if last is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": [_task_item(task, workflow, registry, places, owners, held)
                  for task in workflow.tasks.values()],
        "root": _place(workflow.task_tree.id, places),
    }


def _task_item(task: Task, workflow: Any, registry: Any, places: dict[int, int],
               owners: list[Any], held: list[Task]) -> dict[str, Any]:
    """TaskConverter.to_dict of one task as compact() stores it: no id, no default values."""
    parent_id = task._parent
    # The parent as task.parent finds it: in the task's own workflow (dump() checked that
    # task.workflow is the workflow holding it).
    place = None if parent_id is None else places.get(parent_id.int)
    parent = held[place] if place is not None and owners[place] is workflow else None
    children = []
    for child in task._children:
        child_place = places.get(child.int)
        children.append(str(child) if child_place is None else child_place)
    item: dict[str, Any] = {
        "parent": None if parent is None else place,
        "children": children,
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
    }
    if task.triggered != False:  # noqa: E712 - compact() compares with ==
        item["triggered"] = task.triggered
    internal = task.internal_data
    if not (type(internal) is dict and not internal):
        internal = registry.convert(internal)
        if internal != {}:
            item["internal_data"] = internal
    data = task.data
    if parent is None:
        if data != {}:
            item["data"] = data
        item["delta"] = {}
        return item
    before = parent.data
    if type(data) is not dict or type(before) is not dict:
        raise Unhandled("task data that is not a dict")
    if not data:
        if before:
            item["delta"] = {"updates": {}, "deletions": list(before)}
    elif data == before and {*map(type, data.values())} <= _EQUAL_TO_ITSELF:
        pass  # what DeepMerge's key-by-key != finds too, for values equal to themselves
    else:
        updates = {k: v for k, v in data.items() if k not in before or v != before[k]}
        deletions = [k for k in before if k not in data]
        if updates or deletions:
            item["delta"] = {"updates": updates, "deletions": deletions}
    return item


def load(dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any],
         script_engine: Any, registry: Any) -> BpmnWorkflow:
    """The workflow of a stored form dump() (or state_form.compact) wrote."""
    version, table = dct[FORM]
    if version != FORM_VERSION:
        raise ValueError(f"unknown stored state form {version}")
    if not _TABLE.fullmatch(table):
        raise ValueError("a stored state's task id table is damaged")
    ints = [int(table[n:n + 32], 16) for n in range(0, len(table), 32)]
    if len(set(ints)) != len(ints):
        raise Unhandled("a task id twice in the table")
    ids = [_uuid(number) for number in ints]
    process = dct.get("process")
    if process and process != spec.name and process in subprocess_specs:
        spec = subprocess_specs[process]
    stored_subs = dct["subprocesses"]
    # Ids are numbered top workflow first, then each sub-workflow in stored order;
    # sub-workflows are rebuilt parents first, as SpiffWorkflow does.
    first = len(dct["tasks"])
    by_parent = {}
    for key, sub in stored_subs.items():
        if not key.isdigit() or sub.get("typename") != "BpmnSubWorkflow":
            raise Unhandled("a sub-workflow compact() did not number")
        by_parent[ids[int(key)]] = (sub, first)
        first += len(sub["tasks"])
    if first != len(ids):
        raise Unhandled("task id table and tasks differ")

    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine,
                            deserializing=True)
    _fill(workflow, dct, ids, ints, 0, registry, workflow)
    _subprocesses(workflow, workflow, by_parent, ids, ints, registry)
    workflow.bpmn_events = registry.restore(dct.get("bpmn_events", []))
    return workflow


def _subprocesses(workflow: Any, top: BpmnWorkflow, by_parent: dict[UUID, Any],
                  ids: list[UUID], ints: list[int], registry: Any) -> None:
    """BpmnWorkflowConverter.subprocesses_from_dict over the stored sub-workflows."""
    for task in list(workflow.tasks.values()):
        if isinstance(task.task_spec, SubWorkflowTask) and task.id in by_parent:
            dct, first = by_parent.pop(task.id)
            sub_spec = top.subprocess_specs.get(task.task_spec.spec)
            sub = BpmnSubWorkflow(sub_spec, task.id, top, deserializing=True)
            _fill(sub, dct, ids, ints, first, registry, top)
            top.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _subprocesses(sub, top, by_parent, ids, ints, registry)


def _uuid_slots(number: int) -> UUID:
    """UUID(int=number) without UUID.__init__'s checks (number is 128 bits from the table)."""
    value = _new(UUID)
    _set(value, "int", number)
    _set(value, "is_safe", _UNKNOWN)
    return value


# CPython's UUID keeps these two slots; another layout gets the plain constructor.
_uuid = _uuid_slots if UUID.__slots__ == ("int", "is_safe", "__weakref__") \
    else (lambda number: UUID(int=number))


def _ref(value: Any, ids: list[UUID]) -> UUID | None:
    """A stored task reference (a place in the id table, a dashed id or None) as a UUID."""
    if isinstance(value, int):
        return ids[value]
    return None if value is None else UUID(value)


def _fill(workflow: Any, dct: dict[str, Any], ids: list[UUID], ints: list[int], first: int,
          registry: Any, top: BpmnWorkflow) -> None:
    """The workflow's tasks and attributes (set_default_attributes) from its stored dict."""
    tasks: dict[Any, Task] = workflow.tasks  # keyed by UUID; looked up with None too
    # This workflow's tasks so far and the keys of their data a child copies, by the int
    # of their id (a UUID hashes in Python, an int in C; ints has no id twice).
    built: dict[int, Task] = {}
    mutables: dict[int, list[Any]] = {}
    specs = workflow.spec.task_specs
    restore = registry.restore
    manager = top.event_manager
    thread_id = Task.thread_id_pool
    at = ids.__getitem__
    for n, item in enumerate(dct["tasks"], first):
        if not item.keys() <= _TASK_KEYS:
            raise Unhandled("a task with keys TaskConverter does not write")
        task_spec = specs.get(item["task_spec"])
        if task_spec is None:
            raise Unhandled("a task whose spec the version lacks")
        task_id = ids[n]
        number = ints[n]
        parent_ref = item["parent"]
        if isinstance(parent_ref, int):
            parent_id: UUID | None = ids[parent_ref]
            parent_key: int | None = ints[parent_ref]
        else:
            parent_id = _ref(parent_ref, ids)
            parent_key = None if parent_id is None else parent_id.int
        try:
            children: list[UUID | None] = list(map(at, item["children"]))
        except TypeError:  # a child written out, not numbered
            children = [_ref(c, ids) for c in item["children"]]
        triggered = item.get("triggered", False)
        internal = item.get("internal_data")
        delta = item.get("delta", _DEFAULT_DELTA)
        if len(item) > 5 and MISSING in (triggered, internal, delta):  # 5 keys always there
            raise Unhandled("a task without a key TaskConverter always writes")
        state = item["state"]
        task = _new(Task)
        # Task.__init__'s attributes, in its order, with what TaskConverter.from_dict sets.
        task.id = task_id
        task.workflow = workflow
        task._parent = parent_id
        task._children = children
        task._state = state
        task.triggered = triggered
        task.task_spec = task_spec
        task.thread_id = thread_id
        task.data = None
        task.internal_data = {} if internal is None else _restored(internal, restore)
        task.last_state_change = item["last_state_change"]
        tasks[task_id] = task
        built[number] = task
        if isinstance(task_spec, CatchingEvent) and state & _WAITING:
            manager.add_task(task)
        parent = built.get(parent_key) if parent_key is not None else None
        if delta and parent is not None:
            # DeepMerge.merge({}, parent.data): the parent's data with its dicts, lists and
            # sets copied one level down; which values those are is carried down the tree.
            before = parent.data
            updates = delta.get("updates", {})
            deletions = delta.get("deletions", {})
            if not updates and deletions and before.keys() <= set(deletions):
                task.data = {}  # a task that starts with no data (a join, a future task)
                mutables[number] = []
                continue
            data = before.copy()
            shared = mutables[parent_key]  # type: ignore[index]
            for key in shared:
                value = data[key]
                data[key] = value.copy() if type(value) in _COPIES else copy(value)
            if updates or deletions:
                updates = _restored(updates, restore)
                data.update(updates)
                for key in deletions:
                    data.pop(key, None)
                shared = [k for k in shared if k in data and k not in updates]
                shared.extend(k for k, v in updates.items()
                              if isinstance(v, _MUTABLE) and k in data)
        else:
            data = _restored(item.get("data", {}), restore)
            if type(data) is not dict:
                raise Unhandled("task data that is not a dict")
            shared = [k for k, v in data.items() if isinstance(v, _MUTABLE)]
        mutables[number] = shared
        task.data = data
    workflow.task_tree = tasks.get(_ref(dct["root"], ids))
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    last = dct["last_task"]
    if isinstance(last, (int, str)):
        workflow.last_task = tasks.get(_ref(last, ids))
    workflow.data = _restored(dct.get("data", {}), restore)


def _restored(value: Any, restore: Any) -> Any:
    """registry.restore(value), without its call per plain value of a dict."""
    if type(value) is not dict or "typename" in value:
        return restore(value)
    return {k: v if type(v) in _PLAIN else restore(v) for k, v in value.items()}
