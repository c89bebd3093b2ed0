"""Turning a submitted HTML form back into typed JSON values, keeping what was typed."""

from __future__ import annotations

import math
from typing import Any

from .fields import declared, field_ui, kind, widget


def _clean(raw: Any) -> str:
    """Submitted text without surrounding whitespace and with one kind of line break."""
    return str(raw).replace("\r\n", "\n").replace("\r", "\n").strip()


def _first(form: Any, name: str) -> str | None:
    raw = form.get(name)
    # Anything but text (a file, say) is not an answer to a declared field.
    return raw if isinstance(raw, str) else None


def _all(form: Any, name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    found = getlist(name) if callable(getlist) else form.get(name)
    if found is None:
        return []
    found = found if isinstance(found, list | tuple) else [found]
    return [v for v in found if isinstance(v, str) and v != ""]


def _number(text: str, whole: bool) -> int | float | str:
    """The number typed, or the text itself so validation can say what is wrong with it."""
    # Python reads "1_000", "nan" and "inf" as numbers; a person does not mean them so.
    if "_" in text:
        return text
    try:
        return int(text)
    except ValueError:
        if whole:
            return text
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _boolean(text: str) -> bool | str:
    return {"true": True, "on": True, "false": False}.get(text, text)


def _read(form: Any, name: str, spec: dict[str, Any], how: str, needed: bool) -> Any:
    """One field's value, or None when it was left empty."""
    field_kind = kind(spec)
    if field_kind == "choices":
        chosen = _all(form, name)
        return chosen or (None if needed else [])
    raw = _first(form, name)
    text = "" if raw is None else _clean(raw)
    if field_kind == "boolean" and how == "checkbox":
        if text:
            return _boolean(text)
        # An unticked box is an answer, except on a consent box that must be ticked.
        return None if spec.get("const") is True else False
    if not text:
        return None
    if field_kind == "boolean":
        return _boolean(text)
    if field_kind in ("number", "integer") or (
            field_kind == "enum" and spec.get("type") in ("number", "integer")):
        return _number(text, spec.get("type") == "integer")
    return text


def _fields(spec: dict[str, Any], ui: Any, form: Any, path: str) -> dict[str, Any]:
    """The values of a form's (or nested object's) fields; a nested object becomes a dict."""
    required = spec.get("required")
    required = required if isinstance(required, list) else []
    values: dict[str, Any] = {}
    for name, inner in declared(spec).items():
        entry = field_ui(ui, name)
        if kind(inner) == "object":
            found = _fields(inner, entry, form, f"{path}{name}.")
            # A required group comes back even when empty, so each of its own required
            # fields gets its own message.
            value: Any = found if found or name in required else None
        else:
            value = _read(form, path + name, inner, widget(inner, entry), name in required)
        if value is not None:
            values[name] = value
    return values


def parse_submission(schema: dict[str, Any], ui: dict[str, Any] | None,
                     form: Any) -> dict[str, Any]:
    """Typed values from a submitted form (a MultiDict-like object with .get and .getlist).

    Every declared field is read, also one declared only in a condition's branch; the
    server (services/forms.py) decides which of them apply.
    """
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return {}
    return _fields(schema, ui, form, "")
