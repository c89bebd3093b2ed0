"""What of a history entry's data is personal: the rules anonymising applies to each event.

A form's answers keep what its schema declares closed (an enum, labelled `oneOf`/`anyOf`
constants, a code list, a date or time) and every number and boolean; any other string is
erased. Outside the answers, an event keeps the keys that say what happened in the
process (STRUCTURAL: task, status changes, deadlines...) and erases every other string,
so a key added later is erased until someone decides it is not personal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..formkit.fields import CODE_LIST

ERASED = "[erased]"
# Keys of event data that describe the process, not the person (services/recording.py,
# events.py, cases.py, inbox.py, ownership.py, attachments.py, actions.py).
STRUCTURAL = frozenset({
    "changes", "next", "ready", "deadlines", "channel", "form", "task", "task_id", "title",
    "role", "message", "on_behalf", "from", "to", "moved", "incident", "element",
    "attachment", "content_type", "size", "sha256", "source", "internal", "complaint",
    "action", "owner", "fired", "timers", "kind", "reference", "format", "what",
    "received_at", "fired_at",  # when it happened: what a preview by replay needs
})
ANSWERS = ("values", "payload")  # the keys holding a form's answers
DATES = frozenset({"date", "date-time", "time"})
DYNAMIC = "options_from_task_data_var:"  # choices read from the case's data: not closed


def closed(spec: dict[str, Any]) -> bool:
    """Whether a string field's schema allows only a fixed set of values (or a date)."""
    if CODE_LIST in spec or "const" in spec or spec.get("format") in DATES:
        return True
    choices = spec.get("enum")
    if isinstance(choices, list) and choices and not any(
            isinstance(c, str) and c.startswith(DYNAMIC) for c in choices):
        return True
    for key in ("oneOf", "anyOf"):
        labelled = spec.get(key)
        if isinstance(labelled, list) and labelled and all(
                isinstance(c, dict) and "const" in c for c in labelled):
            return True
    return False


def _properties(spec: dict[str, Any]) -> dict[str, Any]:
    """A schema level's properties, those of its conditional and combined parts too."""
    found: dict[str, Any] = {}
    for name, child in (spec.get("properties") or {}).items():
        if isinstance(child, dict):
            found.setdefault(name, child)
    parts = [spec.get("then"), spec.get("else"), *(spec.get("allOf") or []),
             *(spec.get("dependentSchemas") or {}).values()]
    for part in parts:
        if isinstance(part, dict):
            for name, child in _properties(part).items():
                found.setdefault(name, child)
    return found


def redact_answers(value: Any, spec: dict[str, Any], erased: set[str]) -> Any:
    """Form answers with their open strings erased (each erased string added to `erased`)."""
    if isinstance(value, str):
        if closed(spec) or value in ("", ERASED):
            return value
        erased.add(value)
        return ERASED
    if isinstance(value, list):
        items = spec.get("items")
        return [redact_answers(item, items if isinstance(items, dict) else {}, erased)
                for item in value]
    if isinstance(value, dict):
        props = _properties(spec)
        return {key: redact_answers(item, props.get(key, {}), erased)
                for key, item in value.items()}
    return value  # numbers, booleans, null


def redact_event(data: dict[str, Any], schema_of: Callable[[str], dict[str, Any] | None],
                 erased: set[str]) -> dict[str, Any]:
    """An event's data with its personal values erased; `schema_of(form)` gives a form."""
    form = data.get("form")
    schema = schema_of(form) if isinstance(form, str) and form else None
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in STRUCTURAL:
            kept[key] = value
        elif key in ANSWERS:
            kept[key] = redact_answers(value, schema or {}, erased)
        else:
            kept[key] = redact_answers(value, {}, erased)
    return kept
