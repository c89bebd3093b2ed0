"""Turning a submitted HTML form back into typed JSON values, keeping what was typed."""

from __future__ import annotations

import math
from datetime import tzinfo
from typing import Any

from .datetimes import with_offset
from .fields import declared, field_ui, kind, widget

ADD = "formkit-add"  # the "Add another" button of a group (render.py); its value names it
REMOVE = "formkit-remove"  # the "Remove" button of a row (render.py); its value names the row
MAX_ROWS = 200  # far more rows than a person fills in; a forged index cannot make more


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


def _read(form: Any, name: str, spec: dict[str, Any], entry: dict[str, Any],
          needed: bool, zone: tzinfo | None) -> Any:
    """One field's value, or None when it was left empty."""
    field_kind = kind(spec)
    how = widget(spec, entry)
    if field_kind == "choices":
        items = spec.get("items")
        typed = items.get("type") if isinstance(items, dict) else None
        chosen: list[Any] = _all(form, name)
        if typed in ("number", "integer"):
            chosen = [_number(_clean(v), typed == "integer") for v in chosen]
        return chosen or (None if needed else [])
    raw = _first(form, name)
    text = "" if raw is None else _clean(raw)
    if field_kind == "boolean" and how == "checkbox":
        if text:
            return _boolean(text)
        # An unticked box is an answer, except on a consent box that must be ticked.
        return None if spec.get("const") is True else False
    if not text:
        empty = entry.get("ui:emptyValue") if isinstance(entry, dict) else None
        # ui:emptyValue "" (what SpiffArena's forms write) is no answer, as any blank field.
        return empty if isinstance(empty, int | float | str) and empty != "" else None
    if field_kind == "boolean":
        return _boolean(text)
    if field_kind in ("number", "integer") or (
            field_kind == "enum" and spec.get("type") in ("number", "integer")):
        return _number(text, spec.get("type") == "integer")
    if spec.get("format") == "date-time":
        return with_offset(text, zone)
    return text


def _row_numbers(form: Any, path: str) -> list[int]:
    """The row numbers of a repeatable group that the form sent, in order."""
    keys = form.keys() if callable(getattr(form, "keys", None)) else []
    found = set()
    for key in keys:
        if isinstance(key, str) and key.startswith(path):
            number = key[len(path):].split(".", 1)[0]
            if number.isdigit() and int(number) < MAX_ROWS:
                found.add(int(number))
    return sorted(found)


def _blank(row: dict[str, Any]) -> bool:
    """Whether a row holds no answer (an unticked box or no choices is no answer here)."""
    return all(v is False or v == [] or (isinstance(v, dict) and _blank(v))
               for v in row.values())


def _rows(spec: dict[str, Any], entry: dict[str, Any], form: Any, path: str,
          keep: bool, zone: tzinfo | None) -> list[dict[str, Any]] | None:
    """The filled rows of a repeatable group; blank rows and the one being removed are left out."""
    items = spec["items"]
    item_ui = entry.get("items") if isinstance(entry.get("items"), dict) else {}
    removed = _first(form, REMOVE)
    rows = []
    for number in _row_numbers(form, path + "."):
        if removed == f"{path}.{number}":
            continue
        row = _fields(items, item_ui, form, f"{path}.{number}.", keep, zone)
        if keep or not _blank(row):
            rows.append(row)
    # No rows is an answer when the group asks for some: minItems then says how many are
    # missing; otherwise a required group says it is required.
    asks = isinstance(spec.get("minItems"), int) and spec["minItems"] > 0
    return rows or ([] if asks else None)


def _values(spec: dict[str, Any], entry: dict[str, Any], form: Any, path: str,
            keep: bool, zone: tzinfo | None) -> list[Any] | None:
    """The filled entries of a list of single values, one per row (render.py's _values)."""
    items = spec["items"]
    item_ui: dict[str, Any] = entry["items"] if isinstance(entry.get("items"), dict) else {}
    # A yes/no entry is drawn as a select (an unticked box would answer every blank row).
    if kind(items) == "boolean":
        item_ui = {**item_ui, "ui:widget": "select"}
    removed = _first(form, REMOVE)
    found = []
    for number in _row_numbers(form, path + "."):
        if removed == f"{path}.{number}":
            continue
        value = _read(form, f"{path}.{number}", items, item_ui, False, zone)
        if keep or value is not None:
            found.append(value)
    asks = isinstance(spec.get("minItems"), int) and spec["minItems"] > 0
    return found or ([] if asks else None)


def _fields(spec: dict[str, Any], ui: Any, form: Any, path: str, keep: bool,
            zone: tzinfo | None) -> dict[str, Any]:
    """The values of a form's (or nested object's) fields; a nested object becomes a dict."""
    required = spec.get("required")
    required = required if isinstance(required, list) else []
    values: dict[str, Any] = {}
    for name, inner in declared(spec).items():
        entry = field_ui(ui, name)
        if kind(inner) == "rows":
            value: Any = _rows(inner, entry, form, path + name, keep, zone)
        elif kind(inner) == "values":
            value = _values(inner, entry, form, path + name, keep, zone)
        elif kind(inner) == "object":
            found = _fields(inner, entry, form, f"{path}{name}.", keep, zone)
            # A required group comes back even when empty, so each of its own required
            # fields gets its own message.
            value = found if found or name in required else None
        else:
            value = _read(form, path + name, inner, entry, name in required, zone)
        if value is not None:
            values[name] = value
    return values


def parse_submission(schema: dict[str, Any], ui: dict[str, Any] | None, form: Any,
                     zone: tzinfo | None = None) -> dict[str, Any]:
    """Typed values from a submitted form (a MultiDict-like object with .get and .getlist).

    Every declared field is read, also one declared only in a condition's branch; the
    server (services/forms.py) decides which of them apply. A date and time sent without
    an offset is taken in `zone`, the organisation's (datetimes.py); without a zone it is
    kept as sent, for validation to refuse.
    """
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return {}
    # While rows are added or removed, blank rows stay: the form comes back as it was.
    return _fields(schema, ui, form, "", row_action(form) is not None, zone)


def row_action(form: Any) -> str | None:
    """The repeatable group (for "Add another") or row (for "Remove") a submit button named.

    Such a submission only redraws the form; nothing is saved.
    """
    return _first(form, ADD) or _first(form, REMOVE)


def with_added_row(schema: dict[str, Any], values: dict[str, Any], form: Any) -> dict[str, Any]:
    """The values with a blank row more in the group whose "Add another" was pressed."""
    path = _first(form, ADD)
    if not path:
        return values
    holder: Any = values
    spec: Any = schema
    *steps, last = path.split(".")
    for step in steps:
        if isinstance(holder, list) and step.isdigit() and int(step) < len(holder):
            holder, spec = holder[int(step)], spec.get("items", {})
        elif isinstance(holder, dict) and step in declared(spec):
            holder, spec = holder.setdefault(step, {}), declared(spec)[step]
        else:
            return values
    inner = declared(spec).get(last) if isinstance(holder, dict) else None
    if inner is None or kind(inner) not in ("rows", "values"):
        return values
    rows = holder.get(last)
    rows = rows if isinstance(rows, list) else []
    high, low = inner.get("maxItems"), inner.get("minItems")
    limit = high if isinstance(high, int) else MAX_ROWS
    # Blank rows that minItems asks for are shown anyway, so the new one comes after them.
    wanted = max(len(rows), low if isinstance(low, int) else 0, 1) + 1
    blank: dict[str, Any] | None = {} if kind(inner) == "rows" else None
    holder[last] = rows + [blank] * (min(wanted, limit) - len(rows))
    return values
