"""Conditional JSON Schema (if/then/else, dependentRequired, dependentSchemas, allOf) as a layout.

A form's conditional parts are read once into a `Layout`: every field the form declares
(also those declared only inside a branch), the condition under which a branch-only field
is shown, and the conditions under which a field is required. The same conditions are
written into the page for conditional.js and evaluated here to decide what is stored, so
the browser and the server agree on which fields a submission has.

A condition is a small JSON-able dict: {"field": f, "in": [values]}, {"field": f,
"filled": true}, {"all": [conditions]} or {"not": condition}.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

Condition = dict[str, Any]
BRANCH_KEYS = ("then", "else")
# "dependencies" is draft-07's spelling of both dependent keywords, which react-jsonschema-form
# (and so SpiffArena's forms) use: a list of names, or a schema.
CONDITIONAL_KEYS = {"if", "then", "else", "allOf", "dependentRequired", "dependentSchemas",
                    "dependencies"}
MAX_DEPTH = 4  # branches inside branches: deeper than this nobody can follow the form


@dataclass
class Layout:
    """The fields of a form and when each is shown or required."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    shown_when: dict[str, Condition] = field(default_factory=dict)
    required_when: dict[str, list[Condition]] = field(default_factory=dict)


def _all(conditions: list[Condition]) -> Condition:
    return conditions[0] if len(conditions) == 1 else {"all": list(conditions)}


def if_condition(spec: Any) -> Condition | None:
    """The condition an `if` schema states, or None when it is not one formkit can follow."""
    if not isinstance(spec, dict) or set(spec) - {"properties", "required"}:
        return None
    properties, required = spec.get("properties"), spec.get("required", [])
    if not isinstance(properties, dict) or not properties or not isinstance(required, list):
        return None
    clauses: list[Condition] = []
    for name, test in properties.items():
        if not isinstance(test, dict) or len(test) != 1 or name not in required:
            return None
        if "const" in test:
            clauses.append({"field": name, "in": [test["const"]]})
        elif isinstance(test.get("enum"), list) and test["enum"]:
            clauses.append({"field": name, "in": list(test["enum"])})
        elif test.get("minItems") == 1:
            clauses.append({"field": name, "filled": True})
        else:
            return None
    return _all(clauses)


def _walk(part: Any, guard: list[Condition], layout: Layout, depth: int) -> None:
    """Read one (sub)schema: its fields, requirements and the branches inside it."""
    if not isinstance(part, dict) or depth > MAX_DEPTH:
        return
    properties = part.get("properties")
    if isinstance(properties, dict):
        for name, spec in properties.items():
            if name in layout.fields or not isinstance(spec, dict):
                continue
            layout.fields[name] = spec
            if guard:
                layout.shown_when[name] = _all(guard)
    required = part.get("required")
    for name in required if isinstance(required, list) else []:
        if not guard:
            layout.required.add(name)
        elif isinstance(name, str):
            layout.required_when.setdefault(name, []).append(_all(guard))
    condition = if_condition(part.get("if")) if "if" in part else None
    if condition is not None:
        _walk(part.get("then"), [*guard, condition], layout, depth + 1)
        _walk(part.get("else"), [*guard, {"not": condition}], layout, depth + 1)
    items = part.get("allOf")
    for item in items if isinstance(items, list) else []:
        _walk(item, guard, layout, depth + 1)
    dependent = dict(part["dependentRequired"]) \
        if isinstance(part.get("dependentRequired"), dict) else {}
    schemas = dict(part["dependentSchemas"]) \
        if isinstance(part.get("dependentSchemas"), dict) else {}
    old = part.get("dependencies")
    for name, then in old.items() if isinstance(old, dict) else []:
        (dependent if isinstance(then, list) else schemas).setdefault(name, then)
    for name, names in dependent.items():
        for needed in names if isinstance(names, list) else []:
            if isinstance(needed, str):
                layout.required_when.setdefault(needed, []).append(
                    _all([*guard, {"field": name, "filled": True}]))
    for name, sub in schemas.items():
        _walk(sub, [*guard, {"field": name, "filled": True}], layout, depth + 1)


def layout(schema: Any) -> Layout:
    """The fields of a form, the top-level ones first, with when each is shown or required."""
    found = Layout()
    _walk(schema, [], found, 0)
    return found


def _equal(value: Any, option: Any) -> bool:
    """JSON equality: True is not 1, and 1 is 1.0."""
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option
    return bool(value == option)


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != []


def holds(condition: Condition, values: dict[str, Any]) -> bool:
    """Whether a condition holds for submitted (typed) values."""
    if "all" in condition:
        return all(holds(c, values) for c in condition["all"])
    if "not" in condition:
        return not holds(condition["not"], values)
    value = values.get(condition["field"])
    if condition.get("filled"):
        return _filled(value)
    return value is not None and any(_equal(value, o) for o in condition["in"])


def shown(found: Layout, values: dict[str, Any]) -> set[str]:
    """The fields that apply to these values: a branch's fields only while its condition holds.

    A condition may read a field that is itself in a branch, so fields are dropped until
    nothing changes (at most once per field).
    """
    active = set(found.fields)
    for _ in range(len(found.shown_when) + 1):
        present = {k: v for k, v in values.items() if k in active}
        now = {n for n in found.fields
               if n not in found.shown_when or holds(found.shown_when[n], present)}
        if now == active:
            break
        active = now
    return active


def needed(found: Layout, name: str, values: dict[str, Any]) -> bool:
    """Whether a field is required for these values."""
    return name in found.required or any(holds(c, values) for c in
                                         found.required_when.get(name, []))


def _text(value: Any) -> str:
    """A value as an HTML control holds it (as render shows values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _for_page(condition: Condition) -> Condition:
    if "all" in condition:
        return {"all": [_for_page(c) for c in condition["all"]]}
    if "not" in condition:
        return {"not": _for_page(condition["not"])}
    if condition.get("filled"):
        return {"field": condition["field"], "filled": True}
    return {"field": condition["field"], "in": [_text(v) for v in condition["in"]]}


def page_json(conditions: list[Condition]) -> str:
    """Conditions (any of them) as the JSON conditional.js reads, values as the page has them."""
    return json.dumps({"any": [_for_page(c) for c in conditions]}, separators=(",", ":"))
