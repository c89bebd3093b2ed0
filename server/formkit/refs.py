"""A form's own `$ref`s to its `definitions`, written out in place (as SpiffArena's forms use them).

react-jsonschema-form resolves `{"$ref": "#/definitions/Color", "title": "..."}` to the
definition with the keys beside the `$ref` on top. Plaint draws and checks each field from
one plain schema, so a form's local references are written out once, when the form is
read. Only references inside the form (`#/definitions/NAME`, `#/$defs/NAME`) are written
out, and not a reference that leads back to itself: anything else stays a `$ref`, which
deploy refuses with its reason.
"""

from __future__ import annotations

from typing import Any

_PREFIXES = {"#/definitions/": "definitions", "#/$defs/": "$defs"}
MAX_DEPTH = 8  # references inside references; deeper is refused as a $ref left in place
# Parts written in all: a few references used many times over could otherwise multiply a
# small file into millions of parts (the JSON form of an entity bomb).
MAX_PARTS = 20_000


class _TooLarge(Exception):
    """The written-out form would be larger than MAX_PARTS."""


def _target(schema: dict[str, Any], ref: Any) -> tuple[str, Any] | None:
    """(the reference, its definition) when `ref` names one of the form's own definitions."""
    if not isinstance(ref, str):
        return None
    for prefix, key in _PREFIXES.items():
        found = schema.get(key)
        name = ref[len(prefix):] if ref.startswith(prefix) else None
        if name and "/" not in name and isinstance(found, dict) and name in found:
            return ref, found[name]
    return None


def _written(node: Any, schema: dict[str, Any], seen: tuple[str, ...],
             budget: list[int]) -> tuple[Any, bool]:
    """A part of the form with its references written out, and whether all of them were."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, list):
        parts = [_written(item, schema, seen, budget) for item in node]
        return [p for p, _ok in parts], all(ok for _p, ok in parts)
    if not isinstance(node, dict):
        return node, True
    complete = True
    if "$ref" in node:
        found = _target(schema, node["$ref"])
        if found is None or found[0] in seen or len(seen) >= MAX_DEPTH:
            return node, False
        inner, complete = _written(found[1], schema, (*seen, found[0]), budget)
        if not isinstance(inner, dict):
            return node, False
        node = {**inner, **{k: v for k, v in node.items() if k != "$ref"}}
    out = {}
    for key, value in node.items():
        out[key], ok = _written(value, schema, seen, budget)
        complete = complete and ok
    return out, complete


def inline(schema: Any) -> Any:
    """The form with its local references written out and its definitions then dropped;
    the form as it is when it has none, or when any reference cannot be written out."""
    if not isinstance(schema, dict) or not any(
            isinstance(schema.get(k), dict) and schema[k] for k in _PREFIXES.values()):
        return schema
    rest = {k: v for k, v in schema.items() if k not in _PREFIXES.values()}
    try:
        written, complete = _written(rest, schema, (), [MAX_PARTS])
    except (_TooLarge, RecursionError):
        return schema
    return written if complete else schema
