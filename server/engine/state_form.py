"""The stored form of a workflow state: the serializer's dict with its ids said once.

SpiffWorkflow's dict names every task by its UUID four times (the key, its "id", its
parent's "children", its children's "parent") and spells out the same empty defaults on
every task. Stored, each task id is written once, in one table (32 hex digits each), and
referred to by its place in it; a default value is left out. `expand` gives back exactly
the dict `compact` was given, so SpiffWorkflow loads it as before; a dict without the
FORM key (written before) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

FORM = "stored_form"
FORM_VERSION = 1
# What SpiffWorkflow's TaskConverter writes for most tasks; left out when equal.
DEFAULTS: dict[str, Any] = {"triggered": False, "internal_data": {}, "data": {},
                            "delta": {"updates": {}, "deletions": []}, "typename": "Task"}
HEX = "0123456789abcdef"
MISSING = "-"  # a default key the task did not have (so expand must not add it)
WORKFLOW_REFS = ("root", "last_task", "parent_task_id")


def compact(dct: dict[str, Any]) -> dict[str, Any]:
    """The serializer's dict with task ids in one table and task defaults left out."""
    ids: list[str] = []
    for workflow in _workflows(dct):
        ids.extend(workflow["tasks"])
    places = {task_id: n for n, task_id in enumerate(ids)}
    digits = [UUID(i).hex for i in ids]
    # An id twice, or one not written as str(UUID) writes it, could not come back exactly:
    # such a dict is kept as SpiffWorkflow wrote it.
    if len(places) != len(ids) or any(_dashed(d) != i for d, i in zip(digits, ids, strict=True)) \
            or any(task.get("id") != key for workflow in _workflows(dct)
                   for key, task in workflow["tasks"].items()):
        return dct
    ref = _referrer(places)
    out = dict(dct)
    out["subprocesses"] = {str(ref(k)): {**v, **_compact_workflow(v, ref)}
                           for k, v in dct["subprocesses"].items()}
    out.update(_compact_workflow(dct, ref))
    out[FORM] = [FORM_VERSION, "".join(digits)]
    return out


def expand(dct: dict[str, Any]) -> dict[str, Any]:
    """The serializer's dict back from compact()'s; any other dict unchanged."""
    form = dct.pop(FORM, None)
    if form is None:
        return dct
    version, table = form
    if version != FORM_VERSION:
        raise ValueError(f"unknown stored state form {version}")
    ids = [_dashed(table[n:n + 32]) for n in range(0, len(table), 32)]

    def back(value: Any) -> Any:
        return ids[value] if isinstance(value, int) else value

    numbered = iter(ids)
    dct.update(_expand_workflow(dct, numbered, back))
    dct["subprocesses"] = {back(int(k)) if k.isdigit() else k:
                           {**v, **_expand_workflow(v, numbered, back)}
                           for k, v in dct["subprocesses"].items()}
    return dct


def _dashed(digits: str) -> str:
    """A task id's 32 hex digits as str(UUID) writes them (checked: 32 hex digits)."""
    if len(digits) != 32 or digits.strip(HEX):
        raise ValueError("a stored state's task id table is damaged")
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _defaults() -> dict[str, Any]:
    """DEFAULTS, new: each task must own its dicts and lists."""
    return {"triggered": False, "internal_data": {}, "data": {},
            "delta": {"updates": {}, "deletions": []}, "typename": "Task"}


def _workflows(dct: dict[str, Any]) -> list[dict[str, Any]]:
    """The top workflow and its sub-workflows, in the order their tasks are numbered."""
    return [dct, *dct["subprocesses"].values()]


def _referrer(places: dict[str, int]) -> Any:
    """A function giving a task id's place in the table (other values unchanged)."""
    def ref(value: Any) -> Any:
        return places.get(value, value) if isinstance(value, str) else value
    return ref


def _compact_workflow(workflow: dict[str, Any], ref: Any) -> dict[str, Any]:
    """A workflow's tasks as a list without ids or defaults; its task references numbered."""
    tasks = []
    for task in workflow["tasks"].values():
        item = {k: v for k, v in task.items() if k != "id"}
        item["parent"] = ref(task["parent"])
        item["children"] = [ref(c) for c in task["children"]]
        for key, default in DEFAULTS.items():
            if key not in item:
                item[key] = MISSING
            elif item[key] == default:
                del item[key]
        tasks.append(item)
    changed: dict[str, Any] = {"tasks": tasks}
    for key in WORKFLOW_REFS:
        if key in workflow:
            changed[key] = ref(workflow[key])
    return changed


def _expand_workflow(workflow: dict[str, Any], numbered: Iterator[str],
                     back: Any) -> dict[str, Any]:
    """compact()'s workflow with its tasks as SpiffWorkflow's mapping again."""
    tasks = {}
    for item in workflow["tasks"]:
        task_id = next(numbered)
        task = {"id": task_id, **_defaults(), **item, "parent": back(item["parent"]),
                "children": [back(c) for c in item["children"]]}
        for key in DEFAULTS:
            if task[key] == MISSING:
                del task[key]
        tasks[task_id] = task
    changed: dict[str, Any] = {"tasks": tasks}
    for key in WORKFLOW_REFS:
        if key in workflow:
            changed[key] = back(workflow[key])
    return changed
