"""The intake form in the staff's voice: the same fields, labelled for who records them.

The start event's staffUiSchemaFilename names a UI schema of the process version: per
field `ui:title` (the label staff see), `ui:help` and `ui:placeholder`; at the top
`ui:title` and `ui:description` for the form. The fields, their rules and their order
stay the intake form's, so a studio edit of the intake form applies to both.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app

from ..errors import NotFound
from .processes import form_schema

_FIELD_KEYS = ("ui:help", "ui:placeholder")


def in_staff_voice(version_id: int, schema: dict[str, Any], ui: dict[str, Any] | None,
                   staff_ui_name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The intake form and UI schema with the staff wording laid over (cached per version)."""
    cache: dict[tuple[int, str], tuple[dict[str, Any], dict[str, Any] | None]] = \
        current_app.extensions.setdefault("plaint.staff_forms", {})
    key = (version_id, staff_ui_name)
    if key not in cache:
        try:
            wording = form_schema(version_id, staff_ui_name)
        except NotFound:  # the property names a file the version lacks: the public words
            wording = {}
        cache[key] = _overlay(schema, ui, wording)
    return cache[key]


def _overlay(schema: dict[str, Any], ui: dict[str, Any] | None,
             wording: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Copies of the form and UI schema with the wording's titles and help texts."""
    staff_schema = copy.deepcopy(schema)
    staff_ui: dict[str, Any] = copy.deepcopy(ui) if isinstance(ui, dict) else {}
    for top, key in (("ui:title", "title"), ("ui:description", "description")):
        if isinstance(wording.get(top), str):
            staff_schema[key] = wording[top]
    fields = staff_schema.get("properties") or {}
    for name, entry in wording.items():
        if name.startswith("ui:") or name not in fields or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("ui:title"), str) and isinstance(fields[name], dict):
            fields[name]["title"] = entry["ui:title"]
        said = {k: v for k, v in entry.items() if k in _FIELD_KEYS and isinstance(v, str)}
        if said:
            staff_ui[name] = {**(staff_ui.get(name) or {}), **said}
    return staff_schema, staff_ui or None
