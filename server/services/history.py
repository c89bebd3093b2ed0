"""A case's history in people's words: form titles for field names, Yes/No, choice titles.

The history rows keep the values as recorded (the chain signs them); this is how staff
read them. A step records the form it used (`form` in its data), so its fields are named
by that form's titles; older entries fall back to the field name made readable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

from ..errors import NotFound
from ..formkit import dynamic
from ..formkit.fields import CODE_LIST, with_ui_texts
from ..formkit.render import option_label
from ..models import Case, CaseEvent
from . import audit, choice_titles, code_lists, history_words, money, process_texts
from .processes import form_schema, runtime_for


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


def for_case(case: Case, events: Sequence[CaseEvent] | None = None) -> list[Entry]:
    """The case's history, oldest first, each value in words (from `events` if loaded)."""
    language = _reader()
    return [_entry(case, event.at, event.actor,
                   history_words.summary(event.kind, event.summary, case.process_version_id,
                                         language), json.loads(event.data))
            for event in (audit.history(case) if events is None else events)]


def _reader() -> str:
    """The language the history is read in (English outside a request)."""
    return str(get_locale() or "en") if has_request_context() else "en"


def _entry(case: Case, at: datetime, actor: str, summary: str,
           data: dict[str, Any]) -> Entry:
    ui_form = runtime_for(case.process_version_id).task_info(str(data["task"]))["ui_form"] \
        if "task" in data else None
    schema = schema_of(case.process_version_id, data.get("form"), ui_form,
                       data.get("options"))
    # What the complainant sent (a message) or what a step recorded (its form's values).
    recorded = data.get("payload") if "payload" in data else data.get("values")
    note = data.get("note")
    return Entry(at=at, actor=actor, summary=summary,
                 note=note if isinstance(note, str) else None,
                 values=lines(recorded, schema) if isinstance(recorded, dict) else [],
                 changes=[_change(name, change, case.process_version_id) for name, change in
                          (data.get("changes") or {}).items()
                          if isinstance(change, list) and len(change) == 2])


def schema_of(version_id: int, form: Any, ui_form: str | None = None,
              options: Any = None) -> dict[str, Any]:
    """The form's schema with its titles and choices in the reader's language (the
    version's translations), or an empty one (a form gone from the version shows raw names).

    The UI schema's titles and choice labels apply, and `options` (what a step kept of
    the choices its task data offered) labels those answers.
    """
    if not isinstance(form, str) or not form:
        return {}
    try:
        schema = form_schema(version_id, form)
    except NotFound:
        return {}
    try:
        ui = form_schema(version_id, ui_form) if ui_form else None
    except NotFound:
        ui = None
    schema, ui = process_texts.form(version_id, schema, ui, _reader())
    return dynamic.relabelled(with_ui_texts(schema, ui), options)


def lines(values: dict[str, Any], schema: dict[str, Any]) -> list[Line]:
    """Recorded values labelled by their form's titles, in the form's order."""
    declared = schema.get("properties") or {}
    order = [name for name in declared if name in values]
    order += [name for name in values if name not in declared]
    return [Line(title_of(name, declared.get(name)), words(values[name], declared.get(name), name))
            for name in order if values[name] not in (None, "", [])]


def title_of(name: str, spec: Any) -> str:
    """What the form calls a field: its title, else its name made readable."""
    title = spec.get("title") if isinstance(spec, dict) else None
    return title if isinstance(title, str) and title else option_label(name)


def words(value: Any, spec: Any, name: str = "") -> str:
    """A recorded value as a person says it: Yes/No, a choice's title, an amount's currency."""
    spec = spec if isinstance(spec, dict) else {}
    if isinstance(value, list):
        return ", ".join(words(item, spec.get("items"), name) for item in value)
    if isinstance(value, dict):
        declared = spec.get("properties") or {}
        return "; ".join(f"{title_of(key, declared.get(key))}: "
                         f"{words(item, declared.get(key), key)}"
                         for key, item in value.items() if item not in (None, "", [], {}))
    titled = _choice_title(spec, value)
    if titled is not None:
        return titled
    if isinstance(spec.get(CODE_LIST), str) and isinstance(value, str):  # an administered code
        return code_lists.label(spec[CODE_LIST], value, _reader()) or value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name and money.is_amount(name) and isinstance(value, int | float):
        return money.format_amount(value)
    if isinstance(spec.get("enum"), list) and isinstance(value, str | int | float):
        names = spec.get("enumNames")  # the labels a translated form gives its choices
        if isinstance(names, list) and value in spec["enum"] and \
                spec["enum"].index(value) < len(names):
            return str(names[spec["enum"].index(value)])
        return option_label(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choice_title(spec: dict[str, Any], value: Any) -> str | None:
    """The title a oneOf/anyOf of constants gives a value (labelled choices)."""
    for key in ("oneOf", "anyOf"):
        for option in spec.get(key) or []:
            # type() as well as ==: True == 1, and a yes/no must not take a number's title.
            if isinstance(option, dict) and "const" in option and \
                    option["const"] == value and type(option["const"]) is type(value) and \
                    isinstance(option.get("title"), str):
                return str(option["title"])
    return None


def _changed_label(name: str) -> str:
    """What staff call a case field whose change the history records."""
    known = {"status_label": _("Status"), "priority": _("Priority"),
             "category": _("Category"), "is_open": _("Open")}
    return known.get(name) or option_label(name)


def _change(name: str, change: list[Any], version_id: int) -> tuple[str, str, str]:
    """A changed case field: its name and both values in words."""
    label = _changed_label(name)
    before, after = (_changed_value(name, value, version_id) for value in change)
    return label, before, after


def _changed_value(name: str, value: Any, version_id: int) -> str:
    if value is None or value == "":
        return "—"
    if name == "status_label" and isinstance(value, str):  # the diagram's words, translated
        return process_texts.text(version_id, value, _reader())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "category" and isinstance(value, str):  # the code list's label
        return choice_titles.title("category", value)
    if name == "priority" and isinstance(value, str):  # the catalog's word for it, if any
        return _(option_label(value))
    return str(value)
