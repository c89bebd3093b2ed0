"""What a person working on a case needs beside the form: the complainant's contact
details, the case's documents, and what earlier steps recorded.

What was recorded is read from the case's history (the values of each completed task
and each message the complainant sent), not from the workflow: the history keeps every
round (the first and the second investigation alike), says who recorded it and when,
and is already loaded by the pages that show it. Each group is labelled by the title of
the form that recorded it and each value by its field's title, in people's words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale

from ..models import Case, CaseEvent
from . import action_register, attachments, code_lists, history
from .processes import runtime_for

RECORDING_KINDS = ("task.completed", "message.received")
FORM_SUFFIX = ".json"  # an entry of `shows` that names a form, not a field
# A `shows` entry on a corrective action's task: the complaints with the action's cause
# received since it was implemented, with their count (services/action_register.py).
RECURRENCE = "recurrence"


@dataclass(frozen=True)
class Contact:
    """How to reach the complainant."""

    email: str | None
    phone: str | None
    language: str | None  # the preferred language's name, in the reader's language
    channel: str


@dataclass(frozen=True)
class RecordedField:
    """One value an earlier step recorded, as a person reads it."""

    name: str
    title: str
    text: str


@dataclass(frozen=True)
class Recorded:
    """What one step recorded: its form's title, who and when, and the values."""

    form: str | None
    title: str
    at: datetime
    actor: str
    fields: tuple[RecordedField, ...]


@dataclass(frozen=True)
class ActionSummary:
    """What a corrective action's task page shows instead of a complainant's contact."""

    title: str
    cause: str  # the cause's label
    description: str
    complaints: list[str]  # the linked complaints' references


@dataclass(frozen=True)
class TaskContext:
    """Everything the task page shows beside the form."""

    contact: Contact | None  # None for a corrective action: it has no complainant
    documents: list[attachments.Document]
    recorded: list[Recorded]
    action: ActionSummary | None = None
    recurrence: action_register.Recurrence | None = None


def for_task(case: Case, events: Sequence[CaseEvent], shows: Sequence[str]) -> TaskContext:
    """The contact details (or the action), documents and earlier records a task page shows."""
    documents = attachments.for_case(case.id, include_internal=True)
    if case.kind != "action":  # a complaint, or a data-subject request: who asks
        return TaskContext(contact(case), documents, recorded(case, events, shows))
    _, action = action_register.get(case.reference)
    summary = ActionSummary(action.title, code_lists.label("causes", action.cause) or "",
                            case.description,
                            [c.reference for c in action_register.linked_complaints(case.id)])
    return TaskContext(None, documents, recorded(case, events, shows), summary,
                       action_register.recurrence(action) if RECURRENCE in shows else None)


def contact(case: Case) -> Contact:
    """The complainant's contact details as the task page lists them."""
    return Contact(case.complainant_email, case.complainant_phone,
                   language_name(case.preferred_language), case.channel)


def language_name(code: str | None) -> str | None:
    """A language code as the reader's locale names it ('ar' -> 'Arabic')."""
    if not code:
        return None
    try:
        name = Locale.parse(code).get_display_name(get_locale() or "en")
    except (ValueError, UnknownLocaleError):
        return code
    return name or code


def recorded(case: Case, events: Sequence[CaseEvent],
             shows: Sequence[str] = ()) -> list[Recorded]:
    """What earlier steps recorded, oldest first; `shows` narrows and orders it.

    `shows` lists form file names (every value that form recorded) and field names
    (that value, wherever it was recorded): groups come in the order of the first entry
    that picks them, each round of a form oldest first.
    """
    groups = [group for event in events if event.kind in RECORDING_KINDS
              for group in [_group(case, event)] if group is not None]
    if not shows:
        return groups
    picked: list[tuple[int, int, Recorded]] = []
    for index, group in enumerate(groups):
        chosen = _narrowed(group, shows)
        if chosen is not None:
            picked.append((chosen[0], index, chosen[1]))
    return [group for _rank, _index, group in sorted(picked, key=lambda p: p[:2])]


def _narrowed(group: Recorded, shows: Sequence[str]) -> tuple[int, Recorded] | None:
    """The group with only the fields `shows` picks, and the rank of its first entry."""
    if group.form in shows:
        return shows.index(group.form), group
    by_name = {f.name: f for f in group.fields}
    ranks = [rank for rank, entry in enumerate(shows)
             if not entry.endswith(FORM_SUFFIX) and entry in by_name]
    if not ranks:
        return None
    fields = tuple(by_name[shows[rank]] for rank in ranks)
    return ranks[0], Recorded(group.form, group.title, group.at, group.actor, fields)


def _group(case: Case, event: CaseEvent) -> Recorded | None:
    """What one history event recorded, labelled by its form (None if it recorded nothing)."""
    data = json.loads(event.data)
    runtime = runtime_for(case.process_version_id)
    ui_form = None
    if event.kind == "task.completed":
        info = runtime.task_info(str(data.get("task")))
        form, ui_form = info["form"], info["ui_form"]
        values, fallback = data.get("values"), data.get("title")
    else:
        form = runtime.message_form(str(data.get("message")))
        values, fallback = data.get("payload"), data.get("message")
    if not isinstance(values, dict):
        return None
    schema = history.schema_of(case.process_version_id, form, ui_form, data.get("options"))
    properties = schema.get("properties") or {}
    names = [n for n in properties if n in values] + [n for n in values if n not in properties]
    fields = tuple(RecordedField(name, history.title_of(name, properties.get(name)),
                                 history.words(values[name], properties.get(name), name))
                   for name in names if _filled(values[name]))
    if not fields:
        return None
    title = schema.get("title") if isinstance(schema.get("title"), str) else None
    return Recorded(form, title or str(fallback or event.summary), event.at, event.actor,
                    fields)


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}
