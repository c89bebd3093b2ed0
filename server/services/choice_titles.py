"""The titles people see for coded answers (a category's "billing" is "Billing problem").

A case row keeps the code a form stored; lists and filters show the title the form gave
it. The titles come from the forms of the active process version, whichever form asks the
field (no step is named): JSON Schema `oneOf`/`anyOf` of constants with titles, an
`enum` with `enumNames`, or `ui:enumNames` in a UI schema. A code no form titles reads as
itself, underscores turned to spaces.

A field that an administered code list titles (code_lists.FIELD_LISTS: category,
root_cause, product) takes its labels from that list, in the reader's language and the
list's order; codes only a form names follow. The list is read on each call (an
administrator's change applies at once, in every process); the forms' part is cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ProcessFile
from . import code_lists, lookups
from .processes import active_version_id


def humanize(code: str | None) -> str | None:
    """A code as words when no form titles it ("product_defect" -> "Product defect")."""
    return code.replace("_", " ").capitalize() if code else code


def titles(field: str) -> dict[str, str]:
    """Code -> title of a field's answers: its code list's labels, else the forms' titles.

    Within lookups.read_once() (a page asks twice or more) read once per field and
    language: the labels are in the reader's language, and a sweep writes in several.
    """
    found = lookups.once(("choice_titles", field, code_lists.language()),
                         lambda: _titles(field))
    return dict(found)  # a copy: a caller may change what it is given


def _titles(field: str) -> dict[str, str]:
    """titles() as read now."""
    named = _form_titles(field)
    list_name = code_lists.list_for_field(field)
    listed = code_lists.titles(list_name) if list_name else {}
    return {**listed, **{code: title for code, title in named.items() if code not in listed}}


def title(field: str, code: str | None) -> str:
    """What people call one coded answer ("—" for none)."""
    if not code:
        return "—"
    return titles(field).get(code) or humanize(code) or code


def _form_titles(field: str) -> dict[str, str]:
    """Code -> title of a field's answers, as the active version's forms name them."""
    version_id = active_version_id()
    cache: dict[tuple[int, str], dict[str, str]] = current_app.extensions.setdefault(
        "plaint.choice_titles", {})
    found = cache.get((version_id, field))
    if found is None:
        found = cache[(version_id, field)] = _read(version_id, field)
    return found


def choices(field: str) -> list[tuple[str, str]]:
    """(code, title) of a field's answers, in the form's order, for a filter's options."""
    return list(titles(field).items())


def code_for(field: str, value: str | None) -> str | None:
    """The code a filter value means: a code as it is, or a title (any case) as its code."""
    if not value:
        return None
    named = titles(field)
    if value in named:
        return value
    wanted = value.strip().casefold()
    return next((code for code, title in named.items() if title.casefold() == wanted), value)


def _read(version_id: int, field: str) -> dict[str, str]:
    """Walk every form file of a version for the field's codes and their titles."""
    schemas = [json.loads(content) for content in db.session.scalars(
        select(ProcessFile.content).where(ProcessFile.version_id == version_id,
                                          ProcessFile.kind == "form")
        .order_by(ProcessFile.name))]
    found: dict[str, str] = {}
    ui_names: list[Any] = []
    for schema in schemas:
        for spec in _specs_of(schema, field):
            if "ui:enumNames" in spec:
                ui_names.append(spec["ui:enumNames"])
            for code, title in _titled(spec):
                if code not in found or found[code] == humanize(code):
                    found[code] = title
    # A UI schema names the answers of the schema's enum, in its order.
    for names in ui_names:
        if isinstance(names, list):
            for code, title in zip(list(found), names, strict=False):
                if isinstance(title, str) and found[code] == humanize(code):
                    found[code] = title
    return found


def _specs_of(node: Any, field: str) -> Iterator[dict[str, Any]]:
    """Every spec given to `field` anywhere in a schema or UI schema (nested, conditional)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == field and isinstance(value, dict):
                yield value
            yield from _specs_of(value, field)
    elif isinstance(node, list):
        for item in node:
            yield from _specs_of(item, field)


def _titled(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(code, title) pairs a field's spec declares."""
    for key in ("oneOf", "anyOf"):
        for option in spec.get(key) or ():
            if isinstance(option, dict) and isinstance(option.get("const"), str):
                yield option["const"], str(option.get("title") or humanize(option["const"]))
    enum = spec.get("enum")
    if isinstance(enum, list):
        names = spec.get("enumNames")
        for index, code in enumerate(enum):
            if isinstance(code, str):
                title = names[index] if isinstance(names, list) and index < len(names) else None
                yield code, str(title or humanize(code))
