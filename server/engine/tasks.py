"""Reading a workflow's tasks as the diagram drew them.

The extension properties Plaint reads from elements, a task's title, the events a
waiting task listens for (an event gateway's targets included) and when its timer is due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .walk import TaskWalk

STATUS_KEY = "statusLabel"
MILESTONE_KEY = "milestone"
FORM_SCHEMA_KEY = "formJsonSchemaFilename"
FORM_UI_KEY = "formUiSchemaFilename"
ROLE_KEY = "candidateRole"
FLAG_KEY = "inboxFlag"  # on a non-interrupting boundary event: a badge on its task once fired
REMINDER_KEY = "reminder"  # "true" on a timer that reminds: it does not set the task's due time
NOTIFY_KEY = "notify"  # on any element: the e-mail template sent when it completes
NOTIFY_TO_KEY = "notifyTo"  # who gets it: "complainant" (default), "assignee", or a lane/role
ROLE_VARIABLE_KEY = "candidateRoleVariable"  # data variable naming a role of the version
EXCLUDES_KEY = "notPerformedBy"  # task ids whose performers may not do this task (objectivity)
PROMPT_KEY = "promptVariable"  # the data holding a question's wording (complainant or task)
STAFF_UI_KEY = "staffUiSchemaFilename"  # on the start event: the intake form in staff's words
STAFF_ACTION_KEY = "staffAction"  # on a message catch event: staff send it ("reopen")
MAIL_REPLY_KEY = "mailReply"  # on a message catch event with a form: the field e-mail fills
SHOWS_KEY = "shows"  # on a user task: the forms and fields of earlier steps its page shows
PREFILL_KEY = "prefill"  # on a user task: which fields open filled from which variables
CASE_KIND_KEY = "caseKind"  # on a message start event: the kind of case its process runs as
NO_PREFILL = "-"  # the prefill value that opens the form empty


def spec_props(task_spec: Any) -> dict[str, str]:
    """The extension properties the diagram set on a task spec, by name."""
    return getattr(task_spec, "extensions", {}).get("properties", {}) or {}


def listed(text: str | None) -> list[str]:
    """The entries of a comma-separated property, without blanks."""
    return [entry.strip() for entry in (text or "").split(",") if entry.strip()]


def prefill_sources(text: str | None) -> tuple[tuple[str, str], ...] | None:
    """A prefill property as (field, variable) pairs; None when it is not set.

    Each entry is `field` (from the variable of the same name), `field=variable`, or
    `*` (every other field from its own name); `-` fills nothing.
    """
    if text is None:
        return None
    pairs = []
    for entry in listed(text):
        field, _, variable = entry.partition("=")
        if field.strip() != NO_PREFILL:
            pairs.append((field.strip(), variable.strip() or field.strip()))
    return tuple(pairs)


def read_task_infos(specs: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """What the diagram says about each element, by BPMN id (read once per version)."""
    infos: dict[str, dict[str, Any]] = {}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id and bpmn_id not in infos:
                found = spec_props(task_spec)
                infos[bpmn_id] = {
                    "form": found.get(FORM_SCHEMA_KEY),
                    "ui_form": found.get(FORM_UI_KEY),
                    "instructions": getattr(task_spec, "documentation", None),
                    # SpiffArena's instructionsForEndUser: a template of the task's data.
                    "template": (getattr(task_spec, "extensions", {}) or {}).get(
                        "instructionsForEndUser") or None,
                    "excludes": found.get(EXCLUDES_KEY, "").replace(",", " ").split(),
                    # Only a task that shows a prompt needs its case's state loaded.
                    "asks": bool(found.get(PROMPT_KEY)),
                    "shows": tuple(listed(found.get(SHOWS_KEY))),
                    "prefill": prefill_sources(found.get(PREFILL_KEY))}
    return infos


def read_message_forms(specs: Iterable[Any]) -> dict[str, str]:
    """The form of each message a catch event asks with, by message name.

    Behind an event gateway the catch event's own definition is empty: the gateway
    holds it, paired with its outputs by index (see `listeners`).
    """
    forms: dict[str, str] = {}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            for definition, drawn in _drawn_definitions(task_spec):
                form = spec_props(drawn).get(FORM_SCHEMA_KEY)
                if isinstance(definition, MessageEventDefinition) and form:
                    forms.setdefault(definition.name, form)
    return forms


def read_starters(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, str]:
    """Message name -> the id of the version's process whose start event that message starts.

    Only processes that no call activity calls: those run as cases of their own (the
    bundle keeps them beside the main process, engine/bundle.py).
    """
    every = (spec, *subprocess_specs.values())
    called = {getattr(ts, "spec", None) for s in every for ts in s.task_specs.values()
              if type(ts).__name__ in ("CallActivity", "SubWorkflowTask")}
    starters: dict[str, str] = {}
    for process_id, process in subprocess_specs.items():
        if process_id in called:
            continue
        for definition in _start_messages(process):
            starters.setdefault(definition.name, process_id)
    return starters


def read_starter_kinds(spec: Any, subprocess_specs: dict[str, Any],
                       default: str) -> dict[str, str]:
    """Message name -> the kind of case its process runs as: the start event's `caseKind`.

    A start event without the property runs as `default` (corrective actions did before
    the property existed).
    """
    kinds: dict[str, str] = {}
    for message, process_id in read_starters(spec, subprocess_specs).items():
        starts = [ts for ts in subprocess_specs[process_id].task_specs.values()
                  if type(ts).__name__ == "StartEvent"
                  and getattr(getattr(ts, "event_definition", None), "name", None) == message]
        kind = next((str(spec_props(ts).get(CASE_KIND_KEY)) for ts in starts
                     if spec_props(ts).get(CASE_KIND_KEY)), default)
        kinds[message] = kind
    return kinds


def _start_messages(process: Any) -> list[MessageEventDefinition]:
    return [ts.event_definition for ts in process.task_specs.values()
            if type(ts).__name__ == "StartEvent"
            and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)]


def start_message(process: Any, name: str) -> MessageEventDefinition:
    """A message definition the process's start event catches by this name (to send it)."""
    drawn = next(d for d in _start_messages(process) if d.name == name)
    # Events match by class as well as name: build the same kind the diagram waits for.
    return type(drawn)(name)


def _drawn_definitions(task_spec: Any) -> list[tuple[Any, Any]]:
    """Each event definition of a task spec with the element the diagram drew it on."""
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition) and \
            len(definition.event_definitions) == len(task_spec.outputs):
        return list(zip(definition.event_definitions, task_spec.outputs, strict=True))
    return [(definition, task_spec)] if definition is not None else []


def props(task: Task) -> dict[str, str]:
    """The extension properties the diagram set on a task's element, by name."""
    return spec_props(task.task_spec)


def title(task: Task) -> str:
    """What a task is called: its element's name, else its id."""
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def definitions(task: Task) -> list[Any]:
    """The event definitions a waiting task listens for (several for event gateways)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def listeners(task: Task) -> list[tuple[Any, Any]]:
    """Each event a waiting task listens for, with the task spec the diagram drew it on.

    An event gateway takes its targets' event definitions over, in the order of its
    outputs (SpiffWorkflow pairs them by index too); other events listen for their own.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition) and \
            len(definition.event_definitions) == len(task.task_spec.outputs):
        return _drawn_definitions(task.task_spec)
    return [(d, task.task_spec) for d in definitions(task)]


def drawn_timer(task: Task) -> Any:
    """The timer event as drawn (behind an event gateway, the gateway's target)."""
    return next((spec for d, spec in listeners(task)
                 if isinstance(d, TimerEventDefinition)), task.task_spec)


def timer_definition(task: Task) -> TimerEventDefinition | None:
    """The timer a task listens for, if it listens for one."""
    return next((d for d in definitions(task) if isinstance(d, TimerEventDefinition)), None)


def timer_due(task: Task) -> datetime | None:
    """When a waiting timer is due (for a cycle, its next time); None when that is not known."""
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(timer_definition(task), CycleTimerEventDefinition):
        value = value.get("next") if isinstance(value, dict) else None
        if value is None:
            return None
    return TimerEventDefinition.get_datetime(value)


def is_timer(task: Task) -> bool:
    """Whether a task listens for a timer."""
    # Asked of every completed task after each run: no list built, as definitions() does.
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return any(isinstance(d, TimerEventDefinition) for d in definition.event_definitions)
    return isinstance(definition, TimerEventDefinition)


def completed_timers(walk: TaskWalk) -> list[Task]:
    """Timer events that fired, in sub-workflows too.

    The walk looks below a running multi-instance call activity, as get_tasks for COMPLETED
    alone would not (its iterator prunes branches whose root is in a lower state).
    """
    return [t for t in walk.having(TaskState.COMPLETED) if is_timer(t)]

