"""Which JSON Schema forms (and UI schemas) formkit can render, and why not when it cannot."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .check_conditions import conditional_problems
from .check_ui import ui_problems
from .conditions import CONDITIONAL_KEYS
from .dynamic import stand_in
from .fields import CODE_LIST, choices, declared, is_object, kind, labelled
from .regex import pattern_problem

FORMATS = {"email", "date", "date-time"}
FORM = "_form: "  # what a problem of the whole form (not of one field) starts with
TOP_KEYS = {"type", "properties", "required", "title", "description", "$schema"} \
    | CONDITIONAL_KEYS
COMMON = {"type", "title", "description", "default"}
LABELLED = {"oneOf", "anyOf"}  # react-jsonschema-form's labelled choices: [{const, title}]
_NUMBERS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"} | LABELLED
KEYWORDS = {
    "string": COMMON | {"minLength", "maxLength", "pattern", "format", "enum", "const",
                        CODE_LIST} | LABELLED,
    "number": COMMON | _NUMBERS,
    "integer": COMMON | _NUMBERS,
    "boolean": COMMON | {"const"},
    "array": COMMON | {"items", "uniqueItems", "minItems", "maxItems"},
    "object": {"type", "title", "description", "properties", "required"},
}
_ITEM_TYPES = ("string", "number", "integer", "boolean")
MAX_NESTING = 3  # objects inside objects: a form deeper than this is several forms
# Field names become HTML ids like "f-name-help": no hyphen keeps every id unique.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CONDITIONAL = _l("conditional rules (if/then/else) belong to the form, beside its "
                  "properties, not to a field")
_HINTS = {
    "oneOf": _l('oneOf is supported only as labelled choices: a list of '
                '{"const": value, "title": "label"} on a string or number field'),
    "anyOf": _l('anyOf is supported only as labelled choices: a list of '
                '{"const": value, "title": "label"} on a string or number field'),
    "allOf": _l("allOf of conditions belongs to the form, beside its properties; write a "
                "field's own rules on the field itself"),
    "not": _l("'not' is not supported; describe what is allowed with enum, pattern or "
              "limits"),
    "$ref": _l("$ref is not supported; write the field out in full"),
    "$defs": _l("$defs is not supported; write each field out in full"),
    "definitions": _l("definitions are not supported; write each field out in full"),
    "if": _CONDITIONAL,
    "then": _CONDITIONAL,
    "else": _CONDITIONAL,
    "dependencies": _l("'dependencies' is the old spelling: use dependentRequired or "
                       "dependentSchemas beside the form's properties"),
    "dependentRequired": _l("dependentRequired belongs to the form, beside its properties"),
    "dependentSchemas": _l("dependentSchemas belongs to the form, beside its properties"),
    "patternProperties": _l("patternProperties is not supported; declare every field by "
                            "name"),
    "additionalProperties": _l("additionalProperties is not needed: only declared fields are "
                               "read"),
    "additionalItems": _l("additionalItems is not supported; use items with a string enum"),
    "prefixItems": _l("prefixItems is not supported; use items with a string enum"),
    "contains": _l("'contains' is not supported; use minItems/maxItems"),
}
# A field name that is not one: said for top-level fields, nested ones and branches alike.
BAD_NAME = _l("a field name must start with a letter and use only letters, digits and "
              "underscores")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _fits(field_kind: str, spec: dict[str, Any], value: Any) -> bool:
    """Whether a default value suits the field."""
    if field_kind == "choices":
        options = [o for o, _label in choices(spec)]
        return isinstance(value, list) and all(_among(v, options) for v in value)
    if field_kind == "values":
        items = spec["items"]
        return isinstance(value, list) and all(_fits(kind(items), items, v) for v in value)
    if field_kind == "enum":
        return _among(value, [o for o, _label in choices(spec)])
    if field_kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if field_kind == "number":
        return _is_number(value)
    if field_kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def _among(value: Any, options: list[Any]) -> bool:
    """Whether a value is one of the options, as JSON compares (True is not 1)."""
    return any(value == o and isinstance(value, bool) == isinstance(o, bool) for o in options)


def value_fits(spec: dict[str, Any], value: Any) -> bool:
    """Whether a value (a condition's const, say) is one a field can hold."""
    if kind(spec) == "choices":
        return _among(value, [o for o, _label in choices(spec)])
    if kind(spec) == "values":
        return _fits(kind(spec["items"]), spec["items"], value)
    return _fits(kind(spec), spec, value)


def _labelled_problems(declared: Any, options: Any) -> list[str]:
    """Labelled choices: a non-empty list of {const, title} with values of the field's type."""
    if not isinstance(options, list) or not options or not all(
            isinstance(o, dict) and set(o) == {"const", "title"} and isinstance(o["title"], str)
            for o in options):
        return [_('oneOf/anyOf holds labelled choices: a non-empty list of {"const": value, '
                  '"title": "label"}, nothing else')]
    if not _enum_fits(declared, [o["const"] for o in options]):
        return [_("each choice's const must be a %(type)s value", type=declared)]
    return []


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
            problems.append(str(_HINTS[key]) if key in _HINTS
                            else _("'%(key)s' is not supported here", key=key))
    return list(dict.fromkeys(problems))


def _array_problems(spec: dict[str, Any], level: int) -> list[str]:
    items = spec.get("items")
    if is_object(items):
        # A repeatable group: each row is a nested object (react-jsonschema-form's array of
        # objects); minItems and maxItems say how many rows.
        problems = _keyword_problems(items, KEYWORDS["object"])
        problems += _object_problems(items, level)
        problems += [_("%(key)s must be a whole number of 0 or more", key=key)
                     for key in ("minItems", "maxItems")
                     if key in spec and not _is_count(spec[key])]
        if "uniqueItems" in spec:
            problems.append(_("uniqueItems does not apply to rows of fields"))
        if "default" in spec:
            problems.append(_("a default is not supported on rows of fields; give defaults "
                              "to the fields of a row"))
        return problems
    if not isinstance(items, dict) or items.get("type") not in _ITEM_TYPES:
        return [_('arrays are supported as a list of single values, a list of choices or '
                  'rows of fields: items must be {"type": "string"} (or "number", '
                  '"integer", "boolean"), with an enum or labelled choices {"oneOf": '
                  '[{"const": ..., "title": ...}]} for choices, or {"type": "object", '
                  '"properties": {...}}')]
    if CODE_LIST in items:
        return [_("a code list gives a single choice; a list of choices needs its options "
                  "in items.enum or items.oneOf")]
    # Each entry is checked as a field of its own: type, limits, format, pattern, choices.
    problems = _keyword_problems(items, KEYWORDS[items["type"]])
    if not problems:
        problems = _value_problems(kind(items), items)
    if "uniqueItems" in spec and not isinstance(spec["uniqueItems"], bool):
        problems.append(_("uniqueItems must be true or false"))
    return problems


def _value_problems(field_kind: str, spec: dict[str, Any]) -> list[str]:
    """Keyword values that are the wrong shape for the field."""
    problems = []
    for key in ("title", "description", "pattern", "format"):
        if key in spec and not isinstance(spec[key], str):
            problems.append(_("%(key)s must be a string", key=key))
    if isinstance(spec.get("format"), str) and spec["format"] not in FORMATS:
        problems.append(_("format '%(format)s' is not supported; use one of email, date, "
                          "date-time, or a plain string with a pattern", format=spec["format"]))
    if isinstance(spec.get("pattern"), str):
        problem = pattern_problem(spec["pattern"])
        if problem:
            problems.append(problem)
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in spec and not _is_count(spec[key]):
            problems.append(_("%(key)s must be a whole number of 0 or more", key=key))
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in spec and not _is_number(spec[key]):
            problems.append(_("%(key)s must be a number", key=key))
    for low, high in (("minLength", "maxLength"), ("minItems", "maxItems"),
                      ("minimum", "maximum")):
        if _is_number(spec.get(low)) and _is_number(spec.get(high)) and spec[low] > spec[high]:
            problems.append(_("%(low)s is larger than %(high)s, so nothing can be entered",
                              low=low, high=high))
    if "enum" in spec and not _enum_fits(spec.get("type"), spec["enum"]):
        problems.append(_("enum must be a non-empty list of %(type)s values",
                          type=spec.get("type")))
        return problems
    found = [k for k in ("enum", "oneOf", "anyOf") if k in spec]
    if len(found) > 1:
        problems.append(_("give the choices once: %(keys)s both list them",
                          keys=", ".join(found)))
    if labelled(spec) is not None:
        problems += _labelled_problems(spec.get("type"), labelled(spec))
        if problems:
            return problems
    if "const" in spec:
        wanted = str if spec.get("type") == "string" else bool
        if not isinstance(spec["const"], wanted):
            problems.append(_("const must be a %(type)s value", type=spec.get("type")))
    if "default" in spec and not problems and not _fits(field_kind, spec, spec["default"]):
        problems.append(_("default does not fit the field's type or choices"))
    return problems


def _object_problems(spec: dict[str, Any], level: int) -> list[str]:
    """A nested object: a group of named fields, drawn as a fieldset."""
    properties = spec.get("properties")
    if not isinstance(properties, dict) or not properties:
        return [_('nested objects need their fields: {"type": "object", "properties": {...}}')]
    if level >= MAX_NESTING:
        return [_("nested objects go at most %(depth)d deep; flatten the inner ones",
                  depth=MAX_NESTING)]
    problems = []
    required = spec.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        problems.append(_("required must be a list of field names"))
    else:
        problems += [_("requires '%(field)s', which is not one of its fields", field=n)
                     for n in required if n not in properties]
    for name, inner in properties.items():
        if not _NAME.match(name):
            problems.append(f"{name}: {BAD_NAME}")
        problems += [f"{name}: {p}" for p in _field_problems(inner, level + 1)]
    return problems


def _field_problems(spec: Any, level: int = 0) -> list[str]:
    """Every reason one property cannot be drawn."""
    if not isinstance(spec, dict):
        return [_("a field must be described by an object")]
    declared = spec.get("type")
    if is_object(spec):
        problems = _keyword_problems(spec, KEYWORDS["object"])
        return problems + _object_problems(spec, level)
    if isinstance(declared, list):
        return [_("a field must have a single type; to make it optional, leave it out of "
                  "required")]
    if not isinstance(declared, str) or declared not in KEYWORDS:
        hint = [str(_HINTS[k]) for k in spec if k in _HINTS]
        return hint or [_("give the field a type: string, number, integer, boolean or array")]
    problems = _keyword_problems(spec, KEYWORDS[declared])
    if declared == "array" and "items" in spec:
        problems += _array_problems(spec, level)
        if kind(spec) == "rows":
            return problems
    elif declared == "array":
        problems.append(_('an array needs items: {"type": "string", "enum": [...]}'))
    if not problems:
        problems = _value_problems(kind(spec), spec)
    return problems


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
        return [FORM + _('the form must be {"type": "object", "properties": {...}}')]
    if not_text(schema) or not_text(ui):
        return [FORM + _("the form holds an unpaired surrogate escape (\\ud800 to \\udfff), "
                         "which is not text; write the character itself or a complete pair")]
    # Choices from task data are checked as one choice of their type (dynamic.py).
    schema, sentinels = stand_in(schema)
    # SpiffArena's form editor writes an empty "definitions": {} into every form.
    empty = {k for k in ("definitions", "$defs") if schema.get(k) == {}}
    problems = [FORM + p for p in _keyword_problems(schema, TOP_KEYS | empty)]
    for key in ("title", "description"):
        if key in schema and not isinstance(schema[key], str):
            problems.append(FORM + _("%(key)s must be a string", key=key))
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        problems.append(FORM + _("required must be a list of field names"))
    else:
        problems += [f"{name}: " + _("listed as required but the form has no such field")
                     for name in required if name not in declared(schema)]
    for name, spec in schema["properties"].items():
        if not _NAME.match(name):
            problems.append(f"{name}: {BAD_NAME}")
        problems += [f"{name}: {p}" for p in _field_problems(spec)]
    problems += conditional_problems(schema, _field_problems, value_fits)
    return sentinels + problems + ui_problems(declared(schema), ui)
