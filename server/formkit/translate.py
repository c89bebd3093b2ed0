"""The texts of a form that a person reads, found and translated in one walk.

A form's schema and UI schema hold texts (titles, descriptions, choice labels, help,
placeholders, the button) beside values (const, enum, default, pattern) that the
process and the conditions compare: only the texts are ever translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .render import option_label

Translate = Callable[[str], str]
_SCHEMA_TEXTS = ("title", "description")
_SCHEMA_LISTS = ("oneOf", "anyOf", "allOf")
_SCHEMA_ONES = ("items", "then", "else", "additionalProperties")  # no text in an "if"
_SCHEMA_MAPS = ("properties", "dependentSchemas", "dependencies", "$defs", "definitions",
                "patternProperties")
_UI_TEXTS = ("ui:title", "ui:description", "ui:help", "ui:placeholder")
_SUBMIT = "ui:submitButtonOptions"


def _texts(items: Any, translate: Translate) -> Any:
    """A list of labels (enumNames), each translated; anything else as it is."""
    if not isinstance(items, list):
        return items
    return [translate(item) if isinstance(item, str) and item else item for item in items]


def _schema(node: Any, translate: Translate) -> Any:
    """A schema (or part of one) with its texts translated; a new object, the input intact."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_TEXTS:
        if isinstance(node.get(key), str) and node[key]:
            out[key] = translate(node[key])
    if "enumNames" in node:
        out["enumNames"] = _texts(node["enumNames"], translate)
    elif isinstance(node.get("enum"), list) and node.get("type") != "array":
        # A plain enum shows each value as a label (option_label): that label is the text.
        out["enumNames"] = [translate(option_label(v)) for v in node["enum"]]
    for key in _SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            out[key] = [_schema(item, translate) for item in node[key]]
    for key in _SCHEMA_ONES:
        if key in node:
            out[key] = _schema(node[key], translate)
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            out[key] = {name: _schema(inner, translate) for name, inner in node[key].items()}
    return out


def _ui(node: Any, translate: Translate) -> Any:
    """A UI schema (or one field's entry) with its texts translated."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key, value in node.items():
        if key in _UI_TEXTS and isinstance(value, str) and value:
            out[key] = translate(value)
        elif key == "ui:enumNames":
            out[key] = _texts(value, translate)
        elif key == _SUBMIT and isinstance(value, dict):
            text = value.get("submitText")
            out[key] = {**value, "submitText": translate(text)} \
                if isinstance(text, str) and text else value
        elif not key.startswith("ui:"):
            out[key] = _ui(value, translate)  # a field's entry, or a nested object's fields
    return out


def translated(schema: dict[str, Any], ui: dict[str, Any] | None,
               translate: Translate) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The form and its UI schema with every text a person reads passed through `translate`."""
    return _schema(schema, translate), (_ui(ui, translate) if ui is not None else None)


def texts_of(form: Any) -> list[str]:
    """Every text a person reads in a form file (a schema or a UI schema), in reading order."""
    found: list[str] = []

    def keep(text: str) -> str:
        found.append(text)
        return text

    if isinstance(form, dict):
        _schema(form, keep)
        _ui(form, keep)
    return list(dict.fromkeys(found))
