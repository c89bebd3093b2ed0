"""A case's history in people's words: form titles for field names, Yes/No, choice titles.

The history rows keep the values as recorded (the chain signs them); this is how staff
read them. A step records the form it used (`form` in its data), so its fields are named
by that form's titles; older entries fall back to the field name made readable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from ..errors import NotFound
from ..formkit.render import option_label
from ..models import Case
from . import audit, money
from .processes import form_schema


@dataclass(frozen=True)
class Line:
    """One recorded value: what the form calls it and what it says."""

    label: str
    text: str


@dataclass
class Entry:
    """One history entry as a person reads it."""

    at: datetime
    actor: str
    summary: str
    note: str | None = None
    values: list[Line] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def for_case(case: Case) -> list[Entry]:
    """The case's history, oldest first, each value in words."""
    return [_entry(case, event.at, event.actor, event.summary, json.loads(event.data))
            for event in audit.history(case)]


def _entry(case: Case, at: datetime, actor: str, summary: str,
           data: dict[str, Any]) -> Entry:
    schema = _schema(case.process_version_id, data.get("form"))
    # What the complainant sent (a message) or what a step recorded (its form's values).
    recorded = data.get("payload") if "payload" in data else data.get("values")
    note = data.get("note")
    return Entry(at=at, actor=actor, summary=summary,
                 note=note if isinstance(note, str) else None,
                 values=lines(recorded, schema) if isinstance(recorded, dict) else [],
                 changes=[_change(name, change) for name, change in
                          (data.get("changes") or {}).items()
                          if isinstance(change, list) and len(change) == 2])


def _schema(version_id: int, form: Any) -> dict[str, Any]:
    if not isinstance(form, str) or not form:
        return {}
    try:
        return form_schema(version_id, form)
    except NotFound:
        return {}


def lines(values: dict[str, Any], schema: dict[str, Any]) -> list[Line]:
    """Recorded values labelled by their form's titles, in the form's order."""
    declared = schema.get("properties") or {}
    order = [name for name in declared if name in values]
    order += [name for name in values if name not in declared]
    return [Line(_title(name, declared.get(name)), words(values[name], declared.get(name), name))
            for name in order if values[name] not in (None, "", [])]


def _title(name: str, spec: Any) -> str:
    title = spec.get("title") if isinstance(spec, dict) else None
    return title if isinstance(title, str) and title else option_label(name)


def words(value: Any, spec: Any, name: str = "") -> str:
    """A recorded value as a person says it: Yes/No, a choice's title, an amount's currency."""
    spec = spec if isinstance(spec, dict) else {}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(words(item, spec.get("items"), name) for item in value)
    for option in spec.get("oneOf") or spec.get("anyOf") or []:
        if isinstance(option, dict) and option.get("const") == value and option.get("title"):
            return str(option["title"])
    if name and money.is_amount(name) and isinstance(value, int | float):
        return money.format_amount(value)
    if "enum" in spec and isinstance(value, str):
        return option_label(value)
    return str(value)


def _changed_label(name: str) -> str:
    """What staff call a case field whose change the history records."""
    known = {"status_label": _("Status"), "priority": _("Priority"),
             "category": _("Category"), "is_open": _("Open")}
    return known.get(name) or option_label(name)


def _change(name: str, change: list[Any]) -> tuple[str, str, str]:
    """A changed case field: its name and both values in words."""
    label = _changed_label(name)
    before, after = (_changed_value(name, value) for value in change)
    return label, before, after


def _changed_value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name in ("priority", "category") and isinstance(value, str):
        return option_label(value)
    return str(value)
