"""Deploy checks of a form's conditional parts, with messages that say what to write instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from .conditions import CONDITIONAL_KEYS, MAX_DEPTH, if_condition, layout

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
BRANCH_KEYS = {"properties", "required"} | CONDITIONAL_KEYS
FieldCheck = Callable[[Any], list[str]]
Fits = Callable[[dict[str, Any], Any], bool]


class _Checker:
    """Walks the conditional parts once, collecting every problem (not only the first)."""

    def __init__(self, schema: dict[str, Any], field_problems: FieldCheck, fits: Fits) -> None:
        self.fields = layout(schema).fields
        self.field_problems = field_problems
        self.fits = fits
        self.declared: dict[str, int] = {}
        self.problems: list[str] = []

    def say(self, where: str, message: str) -> None:
        self.problems.append(f"_form: {where}: {message}" if where else f"_form: {message}")

    def part(self, part: Any, where: str, depth: int, allowed: set[str] | None) -> None:
        """One schema or branch: its keys, fields, requirements and what branches from it."""
        if not isinstance(part, dict):
            self.say(where, _("a branch must be an object"))
            return
        if depth > MAX_DEPTH:
            self.say(where, _("conditions are nested more than %(n)d deep; split the form "
                              "or write the conditions side by side in allOf", n=MAX_DEPTH))
            return
        if allowed is not None:
            for key in part:
                if key not in allowed:
                    self.say(where, _("'%(key)s' is not supported in a branch; a branch holds "
                                      "properties, required and further conditions", key=key))
            self.branch_fields(part, where)
        if "if" in part:
            self.condition(part, where, depth)
        elif "then" in part or "else" in part:
            self.say(where, _("'then' or 'else' without 'if': say when they apply"))
        self.all_of(part.get("allOf"), where, depth)
        self.dependent(part, where, depth)

    def branch_fields(self, part: dict[str, Any], where: str) -> None:
        """Fields declared in a branch, and the names a branch requires."""
        properties = part.get("properties", {})
        if not isinstance(properties, dict):
            self.say(where, _("properties must be an object of fields"))
            properties = {}
        for name, spec in properties.items():
            if not _NAME.match(name):
                self.problems.append(f"{name}: " + _("a field name must start with a letter "
                                                     "and use only letters, digits and "
                                                     "underscores"))
            self.problems += [f"{name}: {p}" for p in self.field_problems(spec)]
        required = part.get("required", [])
        if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
            self.say(where, _("required must be a list of field names"))
            return
        for name in required:
            if name not in self.fields:
                self.say(where, _("requires '%(name)s', which is not a field of the form",
                                  name=name))

    def condition(self, part: dict[str, Any], where: str, depth: int) -> None:
        """An if/then/else: a condition formkit can follow, on declared fields, fitting values."""
        at = f"{where}.if" if where else "if"
        test = part["if"]
        if if_condition(test) is None:
            self.say(at, _('write the condition as {"properties": {"field": {"const": value}}, '
                           '"required": ["field"]} (or "enum": [values], or "minItems": 1 for '
                           'a list of choices); every field it names must be in its required, '
                           "or the condition holds while the field is empty"))
        else:
            for name, clause in test["properties"].items():
                self.clause(at, name, clause)
        if "then" not in part and "else" not in part:
            self.say(at, _("an 'if' needs a 'then' or an 'else'"))
        for branch in ("then", "else"):
            if branch in part:
                self.part(part[branch], f"{where}.{branch}" if where else branch, depth + 1,
                          BRANCH_KEYS)

    def clause(self, where: str, name: str, clause: dict[str, Any]) -> None:
        spec = self.fields.get(name)
        if spec is None:
            self.say(where, _("the condition reads '%(name)s', which is not a field of the "
                              "form", name=name))
            return
        if "minItems" in clause or spec.get("type") == "array":
            if "minItems" not in clause:
                self.say(where, _("'%(name)s' is a list of choices: say 'something is ticked' "
                                  "with minItems 1", name=name))
            elif spec.get("type") != "array":
                self.say(where, _("minItems applies to a list of choices; '%(name)s' is not "
                                  "one: compare it with const or enum", name=name))
            return
        values = [clause["const"]] if "const" in clause else clause["enum"]
        for value in values:
            if not self.fits(spec, value):
                self.say(where, _("'%(name)s' can never be %(value)r: the value does not fit "
                                  "the field's type or choices", name=name, value=value))

    def all_of(self, items: Any, where: str, depth: int) -> None:
        if items is None:
            return
        if not isinstance(items, list) or not items:
            self.say(where, _("allOf must be a list of conditions"))
            return
        for index, item in enumerate(items):
            at = f"{where}.allOf[{index}]" if where else f"allOf[{index}]"
            if isinstance(item, dict) and set(item) - CONDITIONAL_KEYS:
                self.say(at, _("allOf holds conditions only (if/then/else, dependentRequired, "
                               "dependentSchemas); write the field's own rules on the field"))
                continue
            self.part(item, at, depth + 1, None)

    def dependent(self, part: dict[str, Any], where: str, depth: int) -> None:
        """dependentRequired and dependentSchemas: keyed by a field whose presence counts."""
        for key in ("dependentRequired", "dependentSchemas", "dependencies"):
            if key not in part:
                continue
            at = f"{where}.{key}" if where else key
            found = part[key]
            if not isinstance(found, dict):
                self.say(at, _("%(key)s must be an object keyed by field names", key=key))
                continue
            for name, then in found.items():
                self.trigger(at, name)
                if key == "dependentSchemas" or (key == "dependencies"
                                                 and not isinstance(then, list)):
                    self.part(then, f"{at}.{name}", depth + 1, BRANCH_KEYS)
                elif not isinstance(then, list) or not all(
                        isinstance(n, str) and n in self.fields for n in then):
                    self.say(f"{at}.{name}", _("must list fields of the form"))

    def trigger(self, where: str, name: str) -> None:
        spec = self.fields.get(name)
        if spec is None:
            self.say(where, _("'%(name)s' is not a field of the form", name=name))
        elif spec.get("type") in ("array", "boolean"):
            # An unticked box or an empty list is still an answer, so the rule would
            # always apply: the person could never leave the dependent fields out.
            self.say(where, _("'%(name)s' is a yes/no or list field, which always has an "
                              "answer; use if/then with const (or minItems 1) instead",
                              name=name))

    def duplicates(self, schema: dict[str, Any]) -> None:
        """A field declared in two places would be two fields with one name."""
        seen: dict[str, int] = {}
        pending: list[Any] = [schema]
        while pending:
            part = pending.pop()
            if not isinstance(part, dict):
                continue
            properties = part.get("properties")
            if isinstance(properties, dict):
                for name in properties:
                    seen[name] = seen.get(name, 0) + 1
            pending += [part.get(k) for k in ("then", "else")]
            items = part.get("allOf")
            pending += items if isinstance(items, list) else []
            for key in ("dependentSchemas", "dependencies"):
                schemas = part.get(key)
                pending += list(schemas.values()) if isinstance(schemas, dict) else []
        for name, count in seen.items():
            if count > 1:
                self.problems.append(f"{name}: " + _(
                    "declared more than once; declare it in one place and list it in "
                    "'required' of each branch that needs it"))


def conditional_problems(schema: dict[str, Any], field_problems: FieldCheck,
                         fits: Fits) -> list[str]:
    """Every problem of a form's conditional parts (the top-level fields are checked apart)."""
    checker = _Checker(schema, field_problems, fits)
    checker.part(schema, "", 0, None)
    checker.duplicates(schema)
    return list(dict.fromkeys(checker.problems))
