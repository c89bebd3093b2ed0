"""Choices that come from the case: SpiffArena's `options_from_task_data_var:NAME`.

A field writes `"anyOf": ["options_from_task_data_var:colours"]` (or `oneOf`, or `enum`;
a list of choices writes it in its `items`, or as `"items": [...]` as SpiffArena's older
forms do), and the task's data holds `colours`: a list of {"value": ..., "label": ...}.
The options are filled in from the task's data both when the form is drawn and when it is
checked on submit, so a value that is not in the list is refused. The variable is data a
script or a service wrote, so it is bounded and checked like any other input.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask_babel import gettext as _

SENTINEL = "options_from_task_data_var:"
MAX_OPTIONS = 500  # far more than anyone reads through; a larger list is a mistake
MAX_LABEL = 500  # characters of one label
_KEYS = ("anyOf", "oneOf", "enum")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Where fields sit inside a schema: by name under these, or beside their parent's (the
# branches of conditions declare the form's own fields).
_MAPS = ("dependentSchemas", "dependencies", "definitions", "$defs")
_ONES = ("then", "else")


def _named(value: Any) -> str | None:
    """The variable a one-element list ["options_from_task_data_var:NAME"] names, if it is one."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) \
            and value[0].startswith(SENTINEL):
        return value[0][len(SENTINEL):]
    return None


def _source(node: dict[str, Any]) -> tuple[str, str] | None:
    """(key, variable) when this field or its items take their choices from task data."""
    for key in (*_KEYS, "items"):
        name = _named(node.get(key))
        if name is not None:
            return key, name
    return None


def _fields(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node that may hold a field's choices, with the field's dotted path."""
    if not isinstance(node, dict):
        return
    yield path, node
    items = node.get("items")
    if isinstance(items, dict):
        yield from _fields(items, path)  # a list's items, or the fields of its rows
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, spec in properties.items():
            yield from _fields(spec, f"{path}.{name}" if path else str(name))
    for key in _MAPS:
        inner = node.get(key)
        if isinstance(inner, dict):  # schemas that add fields beside the form's own
            for spec in inner.values():
                yield from _fields(spec, path)
    for key in _ONES:
        yield from _fields(node.get(key), path)
    inner_list = node.get("allOf")
    for spec in inner_list if isinstance(inner_list, list) else []:
        yield from _fields(spec, path)


def names(schema: Any) -> set[str]:
    """The task data variables a form takes choices from."""
    found = set()
    for _path, node in _fields(schema, ""):
        source = _source(node)
        if source is not None:
            found.add(source[1])
    return found


def _typed(node: dict[str, Any], key: str) -> str:
    """The type of each option: a number field's options are numbers, others' text."""
    declared = node.get("type") if key != "items" else None
    return declared if declared in ("number", "integer") else "string"


def _replaced(node: dict[str, Any], key: str, options: list[dict[str, Any]]) -> None:
    """Put labelled choices in place of the sentinel (react-jsonschema-form's oneOf)."""
    if key == "items":
        node["items"] = {"type": "string", "oneOf": options}
        return
    del node[key]
    node["oneOf"] = options


def _fits(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return False
    if wanted == "integer":
        return isinstance(value, int)
    if wanted == "number":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _options(data: Mapping[str, Any], name: str, wanted: str) -> tuple[list[Any], str | None]:
    """The labelled choices a variable holds, or none and what is wrong with it."""
    if name not in data:
        return [], _("The choices of this field come from the case variable '%(name)s', "
                     "which this case does not have.", name=name)
    found = data[name]
    if isinstance(found, list) and len(found) > MAX_OPTIONS:
        return [], _("The choices of this field come from the case variable '%(name)s', "
                     "which holds more than %(limit)d choices.", name=name, limit=MAX_OPTIONS)
    if not isinstance(found, list) or not found or not all(
            isinstance(o, dict) and _fits(o.get("value"), wanted)
            and isinstance(o.get("label"), str | int | float)
            and len(str(o["label"])) <= MAX_LABEL for o in found):
        return [], _("The choices of this field come from the case variable '%(name)s', "
                     "which must be a non-empty list of entries like {\"value\": ..., "
                     "\"label\": ...}, each value of the field's type.", name=name)
    return [{"const": o["value"], "title": str(o["label"])} for o in found], None


def expand(schema: dict[str, Any],
           data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form with the choices its task data variables hold, and what is wrong per field.

    The form itself is left as it is (versions cache it). A variable that is missing,
    malformed or too long leaves its field without choices, with a message on the field.
    """
    if not names(schema):
        return schema, {}
    out = copy.deepcopy(schema)
    problems: dict[str, list[str]] = {}
    for path, node in _fields(out, ""):
        source = _source(node)
        if source is None:
            continue
        key, name = source
        options, problem = _options(data, name, _typed(node, key))
        _replaced(node, key, options)
        if problem:
            problems.setdefault(path or "_form", []).append(problem)
    return out, problems


def stand_in(schema: Any) -> tuple[Any, list[str]]:
    """The form as deploy checks it: each sentinel as one labelled choice of its type, and
    the problems of the sentinels themselves (a variable name that is no name)."""
    if not isinstance(schema, dict) or not names(schema):
        return schema, []
    out = copy.deepcopy(schema)
    problems = []
    for path, node in _fields(out, ""):
        source = _source(node)
        if source is None:
            continue
        key, name = source
        if not _NAME.match(name):
            problems.append(f"{path or '_form'}: " + _(
                "'%(sentinel)s' must be followed by the name of a task data variable",
                sentinel=SENTINEL))
        wanted = _typed(node, key)
        _replaced(node, key, [{"const": "x" if wanted == "string" else 0, "title": name}])
    return out, problems


def _scalars(value: Any) -> list[Any]:
    """Every single value inside an answer (lists and groups opened up)."""
    if isinstance(value, dict):
        return [s for inner in value.values() for s in _scalars(inner)]
    if isinstance(value, list):
        return [s for inner in value for s in _scalars(inner)]
    return [value]


def chosen(schema: Any, data: Mapping[str, Any], values: Any) -> dict[str, list[list[Any]]]:
    """The label of each answer picked from a task data variable, by variable: what the
    history keeps, so the step reads back in the words the person chose from."""
    picked = _scalars(values)
    out: dict[str, list[list[Any]]] = {}
    for name in sorted(names(schema)):
        found = data.get(name)
        if not isinstance(found, list) or len(found) > MAX_OPTIONS:
            continue
        pairs = [[o["value"], str(o["label"])] for o in found
                 if isinstance(o, dict) and isinstance(o.get("label"), str | int | float)
                 and any(o.get("value") == p and type(o.get("value")) is type(p)
                         for p in picked)]
        if pairs:
            out[name] = pairs
    return out


def relabelled(schema: dict[str, Any], kept: Any) -> dict[str, Any]:
    """A form whose task data choices are those a history entry kept (see `chosen`)."""
    if not isinstance(kept, dict) or not names(schema):
        return schema
    data = {name: [{"value": pair[0], "label": pair[1]} for pair in pairs
                   if isinstance(pair, list) and len(pair) == 2]
            for name, pairs in kept.items() if isinstance(pairs, list)}
    return expand(schema, data)[0]
