"""The deploy check of fields whose choices come from an administered code list."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from flask_babel import gettext as _

from .fields import CODE_LIST, declared, is_object

_ALONE = ("enum", "oneOf", "anyOf", "const", "pattern", "format")


def _fields(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field of a form, nested ones by their dotted path."""
    if not isinstance(schema, dict):
        return
    for name, spec in declared(schema).items():
        if isinstance(spec, dict):
            yield path + name, spec
            if is_object(spec):
                yield from _fields(spec, f"{path}{name}.")


def code_list_problems(schema: Any, known: Collection[str]) -> list[str]:
    """Every misuse of x-codeList in a form, as 'field: message' strings ([] when fine)."""
    problems = []
    names = ", ".join(sorted(known))
    for name, spec in _fields(schema):
        if CODE_LIST not in spec:
            continue
        wanted = spec[CODE_LIST]
        if not isinstance(wanted, str) or wanted not in known:
            problems.append(f"{name}: " + _("%(key)s names the code list %(list)s, which does "
                                            "not exist; use one of %(lists)s", key=CODE_LIST,
                                            list=repr(wanted), lists=names))
        if spec.get("type") != "string":
            problems.append(f"{name}: " + _("%(key)s goes on a string field", key=CODE_LIST))
        clashing = [key for key in _ALONE if key in spec]
        if clashing:
            problems.append(f"{name}: " + _("%(key)s gives the choices; leave out %(keys)s",
                                            key=CODE_LIST, keys=", ".join(clashing)))
    return problems
