"""Erasing personal values from a saved workflow state, without its spec.

The state is the serializer's JSON (engine/serializer.py), compressed. Every string in it
that is one of the erased values, or that contains a long enough one (a name copied into
a sentence by a script), is replaced; so are the values of the named personal fields,
wherever a task's data holds them. Numbers, booleans, dates and codes stay, so the case's
reporting facts can still be read from it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ..packing import pack
from .serializer import state_dict
from .state_form import compact

# Shorter values are replaced only where a whole string equals them: "Al" must not
# disappear from every "Alert" of the state.
MIN_INSIDE = 6
MIN_EXACT = 3


def erase_state(state: bytes, values: Collection[str], fields: Collection[str],
                marker: str) -> bytes:
    """The state with `values` and the `fields`' string values replaced by `marker`."""
    tree = state_dict(state)
    exact = {value for value in values if len(value) >= MIN_EXACT}
    inside = sorted((value for value in exact if len(value) >= MIN_INSIDE), key=len,
                    reverse=True)
    erased = _walk(tree, exact, inside, frozenset(fields), marker)
    return pack(json.dumps(compact(erased), separators=(",", ":")).encode("utf-8"), "state")


def _walk(node: Any, exact: set[str], inside: list[str], fields: frozenset[str],
          marker: str) -> Any:
    """A copy of `node` with the personal strings replaced."""
    if isinstance(node, str):
        return erase_text(node, exact, inside, marker)
    if isinstance(node, list):
        return [_walk(item, exact, inside, fields, marker) for item in node]
    if isinstance(node, dict):
        return {key: (marker if key in fields and isinstance(value, str) and value
                      else _walk(value, exact, inside, fields, marker))
                for key, value in node.items()}
    return node


def erase_text(text: str, exact: set[str], inside: list[str], marker: str) -> str:
    """`text` with the erased values in it replaced (whole, or inside it if long enough)."""
    if text in exact:
        return marker
    for value in inside:
        if value in text:
            text = text.replace(value, marker)
    return text
