"""Which JSON Schema forms (and UI schemas) formkit can render, and why not when it cannot."""

from __future__ import annotations

import re
from typing import Any

from .regex import pattern_problem

FORMATS = {"email", "date", "date-time"}
WIDGETS = {"textarea", "radio", "select", "checkboxes", "hidden"}
FIELD_UI_KEYS = {"ui:widget", "ui:help", "ui:placeholder"}
SUBMIT_KEY = "ui:submitButtonOptions"
TOP_KEYS = {"type", "properties", "required", "title", "description", "$schema"}
COMMON = {"type", "title", "description", "default"}
KEYWORDS = {
    "string": COMMON | {"minLength", "maxLength", "pattern", "format", "enum", "const"},
    "number": COMMON | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "integer": COMMON | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"},
    "boolean": COMMON | {"const"},
    "array": COMMON | {"items", "uniqueItems", "minItems", "maxItems"},
}
# The widget each kind of field gets by default, and the ui:widget values that fit it.
DEFAULT_WIDGET = {"string": "text", "enum": "select", "number": "number", "integer": "number",
                  "boolean": "checkbox", "choices": "checkboxes", "": "text"}
FITTING = {"string": {"textarea", "hidden"}, "enum": {"radio", "select", "hidden"},
           "number": {"hidden"}, "integer": {"hidden"}, "boolean": {"radio", "select", "hidden"},
           "choices": {"checkboxes", "select", "hidden"}, "": set()}
# Field names become HTML ids like "f-name-help": no hyphen keeps every id unique.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HINTS = {
    "oneOf": "choices between schemas (oneOf) are not supported; use a string with an enum",
    "anyOf": "choices between schemas (anyOf) are not supported; use a string with an enum",
    "allOf": "allOf is not supported; write all the rules on the field itself",
    "not": "'not' is not supported; describe what is allowed with enum, pattern or limits",
    "$ref": "$ref is not supported; write the field out in full",
    "$defs": "$defs is not supported; write each field out in full",
    "definitions": "definitions are not supported; write each field out in full",
    "if": "conditional rules (if/then/else) are not supported; use separate forms or tasks",
    "then": "conditional rules (if/then/else) are not supported; use separate forms or tasks",
    "else": "conditional rules (if/then/else) are not supported; use separate forms or tasks",
    "dependencies": "dependent fields are not supported; use separate forms or tasks",
    "dependentRequired": "dependent fields are not supported; use separate forms or tasks",
    "dependentSchemas": "dependent fields are not supported; use separate forms or tasks",
    "patternProperties": "patternProperties is not supported; declare every field by name",
    "additionalProperties": "additionalProperties is not needed: only declared fields are read",
    "additionalItems": "additionalItems is not supported; use items with a string enum",
    "prefixItems": "prefixItems is not supported; use items with a string enum",
    "contains": "'contains' is not supported; use minItems/maxItems",
}


def kind(spec: Any) -> str:
    """The kind of field: string, enum, number, integer, boolean, choices, or '' for none."""
    if not isinstance(spec, dict):
        return ""
    declared = spec.get("type")
    if declared == "array":
        return "choices"
    if declared in ("string", "number", "integer") and "enum" in spec:
        return "enum"
    return declared if declared in ("string", "number", "integer", "boolean") else ""


def widget(spec: Any, entry: Any) -> str:
    """The widget a field is drawn with; a ui:widget that does not fit falls back to the default."""
    field_kind = kind(spec)
    wanted = entry.get("ui:widget") if isinstance(entry, dict) else None
    if isinstance(wanted, str) and wanted in FITTING[field_kind]:
        if field_kind == "choices" and wanted == "select":
            return "multiselect"
        return str(wanted)
    return DEFAULT_WIDGET[field_kind]


def field_ui(ui: Any, name: str) -> dict[str, Any]:
    """The UI schema entry for one field, or {} when there is none."""
    entry = ui.get(name) if isinstance(ui, dict) else None
    return entry if isinstance(entry, dict) else {}


def field_order(schema: dict[str, Any], ui: dict[str, Any] | None) -> list[str]:
    """Field names in display order: ui:order, with '*' standing for the rest in schema order."""
    properties = schema.get("properties")
    names = list(properties) if isinstance(properties, dict) else []
    order = ui.get("ui:order") if isinstance(ui, dict) else None
    if not isinstance(order, list):
        return names
    order = [n for n in order if isinstance(n, str)]
    listed = [n for n in dict.fromkeys(order) if n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest  # a missing '*' is reported by unsupported(); still show every field
    star = order.index("*")
    before = [n for n in listed if order.index(n) < star]
    return before + rest + [n for n in listed if order.index(n) > star]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _fits(field_kind: str, spec: dict[str, Any], value: Any) -> bool:
    """Whether a default value suits the field."""
    if field_kind == "choices":
        options = spec.get("items", {}).get("enum", [])
        return isinstance(value, list) and all(v in options for v in value)
    if field_kind == "enum":
        return value in spec["enum"]
    if field_kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if field_kind == "number":
        return _is_number(value)
    if field_kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def _enum_fits(declared: Any, options: Any) -> bool:
    """Whether an enum is a non-empty list of values of the field's type."""
    if not isinstance(options, list) or not options:
        return False
    if declared == "string":
        return all(isinstance(v, str) for v in options)
    if declared == "integer":
        return all(isinstance(v, int) and not isinstance(v, bool) for v in options)
    return all(_is_number(v) for v in options)


def _keyword_problems(spec: dict[str, Any], allowed: set[str]) -> list[str]:
    problems = []
    for key in spec:
        if key not in allowed:
            problems.append(_HINTS.get(key, f"'{key}' is not supported here"))
    return list(dict.fromkeys(problems))


def _array_problems(spec: dict[str, Any]) -> list[str]:
    items = spec.get("items")
    if (not isinstance(items, dict) or items.get("type") != "string"
            or set(items) != {"type", "enum"} or not isinstance(items["enum"], list)
            or not items["enum"] or not all(isinstance(v, str) for v in items["enum"])):
        return ["arrays are supported only as a list of choices: "
                'items must be {"type": "string", "enum": [...]}']
    problems = []
    if "uniqueItems" in spec and not isinstance(spec["uniqueItems"], bool):
        problems.append("uniqueItems must be true or false")
    return problems


def _value_problems(field_kind: str, spec: dict[str, Any]) -> list[str]:
    """Keyword values that are the wrong shape for the field."""
    problems = []
    for key in ("title", "description", "pattern", "format"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(f"{key} must be a string")
    if isinstance(spec.get("format"), str) and spec["format"] not in FORMATS:
        problems.append(f"format '{spec['format']}' is not supported; use one of "
                        "email, date, date-time, or a plain string with a pattern")
    if isinstance(spec.get("pattern"), str):
        problem = pattern_problem(spec["pattern"])
        if problem:
            problems.append(problem)
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in spec and not _is_count(spec[key]):
            problems.append(f"{key} must be a whole number of 0 or more")
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in spec and not _is_number(spec[key]):
            problems.append(f"{key} must be a number")
    for low, high in (("minLength", "maxLength"), ("minItems", "maxItems"),
                      ("minimum", "maximum")):
        if _is_number(spec.get(low)) and _is_number(spec.get(high)) and spec[low] > spec[high]:
            problems.append(f"{low} is larger than {high}, so nothing can be entered")
    if "enum" in spec and not _enum_fits(spec.get("type"), spec["enum"]):
        problems.append(f"enum must be a non-empty list of {spec.get('type')} values")
        return problems
    if "const" in spec:
        wanted = str if spec.get("type") == "string" else bool
        if not isinstance(spec["const"], wanted):
            problems.append(f"const must be a {spec.get('type')} value")
    if "default" in spec and not problems and not _fits(field_kind, spec, spec["default"]):
        problems.append("default does not fit the field's type or choices")
    return problems


def _field_problems(spec: Any) -> list[str]:
    """Every reason one property cannot be drawn."""
    if not isinstance(spec, dict):
        return ["a field must be described by an object"]
    declared = spec.get("type")
    if declared == "object":
        return ["nested objects are not supported; flatten them into top-level fields "
                "(for example address_street, address_town)"]
    if isinstance(declared, list):
        return ["a field must have a single type; to make it optional, leave it out of required"]
    if not isinstance(declared, str) or declared not in KEYWORDS:
        hint = [_HINTS[k] for k in spec if k in _HINTS]
        return hint or ["give the field a type: string, number, integer, boolean or array"]
    problems = _keyword_problems(spec, KEYWORDS[declared])
    if declared == "array" and "items" in spec:
        problems += _array_problems(spec)
    elif declared == "array":
        problems.append('an array needs items: {"type": "string", "enum": [...]}')
    if not problems:
        problems = _value_problems(kind(spec), spec)
    return problems


def _submit_problems(options: Any) -> list[str]:
    """What is wrong with ui:submitButtonOptions (react-jsonschema-form's key, as SpiffArena)."""
    if not isinstance(options, dict):
        return [f"_form: {SUBMIT_KEY} must be an object"]
    problems = [f"_form: {SUBMIT_KEY}.{key} is not supported; use submitText or props.className"
                for key in options if key not in ("submitText", "props")]
    if not isinstance(options.get("submitText", ""), str):
        problems.append(f"_form: {SUBMIT_KEY}.submitText must be a string")
    props = options.get("props", {})
    if not isinstance(props, dict) or set(props) - {"className"} or \
            not isinstance(props.get("className", ""), str):
        problems.append(f'_form: {SUBMIT_KEY}.props may only hold "className", a string')
    return problems


def submit_options(ui: Any) -> tuple[str | None, str | None]:
    """The submit button's text and CSS classes the UI schema asks for, if any."""
    options = ui.get(SUBMIT_KEY) if isinstance(ui, dict) else None
    if not isinstance(options, dict):
        return None, None
    props = options.get("props")
    css = props.get("className") if isinstance(props, dict) else None
    text = options.get("submitText")
    return (text if isinstance(text, str) and text else None,
            css if isinstance(css, str) and css else None)


def _ui_problems(properties: dict[str, Any], ui: Any) -> list[str]:
    """Every reason the UI schema does not fit the form."""
    if ui is None:
        return []
    if not isinstance(ui, dict):
        return ["_form: the UI schema must be an object"]
    problems = []
    order = ui.get("ui:order")
    if "ui:order" in ui:
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            problems.append("ui:order: must be a list of field names")
        else:
            for name in order:
                if name != "*" and name not in properties:
                    problems.append(f"ui:order: names '{name}', which is not a field of the form")
            for name in {n for n in order if order.count(n) > 1}:
                problems.append(f"ui:order: lists '{name}' more than once")
            if "*" not in order:
                for name in properties:
                    if name not in order:
                        problems.append(f"ui:order: leaves out '{name}'; list it or add '*'")
    problems += _submit_problems(ui.get(SUBMIT_KEY, {}))
    for name, entry in ui.items():
        if name in ("ui:order", SUBMIT_KEY):
            continue
        if name.startswith("ui:"):
            problems.append(f"_form: '{name}' is not supported; only ui:order and "
                            f"{SUBMIT_KEY} apply to the form")
            continue
        if name not in properties:
            problems.append(f"{name}: the UI schema describes a field the form does not have")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{name}: the UI schema entry must be an object")
            continue
        problems += [f"{name}: '{key}' is not supported; use ui:widget, ui:help or "
                     "ui:placeholder" for key in entry if key not in FIELD_UI_KEYS]
        for key in ("ui:help", "ui:placeholder"):
            if key in entry and not isinstance(entry[key], str):
                problems.append(f"{name}: {key} must be a string")
        problems += [f"{name}: {p}" for p in _widget_problems(properties[name], entry)]
    return problems


def _widget_problems(spec: Any, entry: dict[str, Any]) -> list[str]:
    if "ui:widget" not in entry:
        return []
    wanted = entry["ui:widget"]
    if not isinstance(wanted, str) or wanted not in WIDGETS:
        return [f"ui:widget '{wanted}' is not supported; use one of "
                + ", ".join(sorted(WIDGETS))]
    field_kind = kind(spec)
    if wanted not in FITTING[field_kind]:
        fitting = ", ".join(sorted(FITTING[field_kind])) or "none"
        return [f"ui:widget '{wanted}' does not fit this field; fitting widgets: {fitting}"]
    if wanted == "textarea" and "format" in spec:
        return [f"ui:widget 'textarea' does not fit a field with format '{spec['format']}'"]
    return []


def not_text(value: Any) -> bool:
    """Whether a key or string anywhere in a JSON value is not Unicode text.

    JSON can spell half a surrogate pair ("\\ud800"); Python reads it into a string that
    no page can be encoded with, so the form could never be shown.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def unsupported(schema: dict[str, Any], ui: dict[str, Any] | None = None) -> list[str]:
    """Every reason a form cannot be rendered, as 'field: message' strings; [] when fine."""
    if not isinstance(schema, dict) or schema.get("type") != "object" \
            or not isinstance(schema.get("properties"), dict):
        return ['_form: the form must be {"type": "object", "properties": {...}}']
    if not_text(schema) or not_text(ui):
        return ["_form: the form holds an unpaired surrogate escape (\\ud800 to \\udfff), "
                "which is not text; write the character itself or a complete pair"]
    properties: dict[str, Any] = schema["properties"]
    problems = [f"_form: {p}" for p in _keyword_problems(schema, TOP_KEYS)]
    for key in ("title", "description"):
        if key in schema and not isinstance(schema[key], str):
            problems.append(f"_form: {key} must be a string")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        problems.append("_form: required must be a list of field names")
    else:
        problems += [f"{name}: listed as required but the form has no such field"
                     for name in required if name not in properties]
    for name, spec in properties.items():
        if not _NAME.match(name):
            problems.append(f"{name}: a field name must start with a letter and use only "
                            "letters, digits and underscores")
        problems += [f"{name}: {p}" for p in _field_problems(spec)]
    return problems + _ui_problems(properties, ui)
