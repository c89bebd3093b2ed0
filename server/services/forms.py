"""Validating submitted data against a form's JSON Schema, field by field."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend, validator_for

from ..errors import InvalidInput
from ..formkit import conditions, dynamic
from ..formkit.fields import CODE_LIST, kind
from ..formkit.fields import declared as declared_fields
from ..formkit.regex import PatternError, compile_pattern
from . import code_lists

log = logging.getLogger(__name__)
MAX_DEPTH = 8
# RFC 5321 caps an address at 254 characters; a longer value is refused without a look at it.
MAX_EMAIL = 254
MAX_DATE_TEXT = 64  # far more than any ISO 8601 date and time with fraction and zone
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
FORMATS = FormatChecker(formats=())


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return len(value) <= MAX_EMAIL and compile_pattern(_EMAIL).search(value) is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return len(value) <= MAX_DATE_TEXT and bool(date.fromisoformat(value))


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) > MAX_DATE_TEXT:
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _over_max_length(instance: Any, schema: dict[str, Any]) -> bool:
    """Whether a text is longer than its field allows: then maxLength alone answers."""
    limit = schema.get("maxLength")
    return isinstance(instance, str) and isinstance(limit, int) and len(instance) > limit


def _pattern(validator: Any, pattern: Any, instance: Any,
             schema: dict[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema's `pattern`, run by RE2 (linear time) and only on text within maxLength."""
    if not isinstance(instance, str) or not isinstance(pattern, str) or \
            _over_max_length(instance, schema):
        return
    try:
        regex = compile_pattern(pattern)
    except PatternError as exc:
        # Deploy refuses such patterns; a version stored before that rule cannot check the
        # field, so the value is refused rather than let through unchecked.
        log.warning("form pattern %r cannot be run by RE2 (%s); the value is refused",
                    pattern, exc)
        yield ValidationError("the field's pattern cannot be checked")
        return
    if regex.search(instance) is None:
        yield ValidationError("the value does not match the field's pattern")


def _code_list(validator: Any, list_name: Any, instance: Any,
               schema: dict[str, Any]) -> Iterator[ValidationError]:
    """`x-codeList`: the answer must be a code of that administered list."""
    if isinstance(instance, str) and isinstance(list_name, str) \
            and instance not in code_lists.codes(list_name):
        yield ValidationError(f"{instance!r} is not a code of the {list_name} list",
                              validator=CODE_LIST, validator_value=list_name)


def _required(validator: Any, required: Any, instance: Any,
              schema: dict[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema's `required`, each error placed on the missing field's own path."""
    if not isinstance(instance, dict) or not isinstance(required, list):
        return
    for name in required:
        if name not in instance:
            yield ValidationError(f"{name!r} is a required property", path=[name])


def _dependent_required(validator: Any, dependent: Any, instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema's `dependentRequired`, each error on the field that is missing.

    The draft's own puts it on the form, where nobody can tell which field to fill in.
    """
    if not isinstance(instance, dict) or not isinstance(dependent, dict):
        return
    for trigger, names in dependent.items():
        if trigger not in instance or not isinstance(names, list):
            continue
        for name in names:
            if name not in instance:
                yield ValidationError(f"{name!r} is required when {trigger!r} is given",
                                      path=[name], validator="required", validator_value=names)


def _dependencies(validator: Any, dependent: Any, instance: Any,
                  schema: dict[str, Any]) -> Iterator[ValidationError]:
    """Draft-07's `dependencies` (react-jsonschema-form's): names as dependentRequired does,
    a schema as dependentSchemas does, whichever draft the form declares."""
    if not isinstance(instance, dict) or not isinstance(dependent, dict):
        return
    names = {k: v for k, v in dependent.items() if isinstance(v, list)}
    yield from _dependent_required(validator, names, instance, schema)
    for trigger, then in dependent.items():
        if trigger in instance and isinstance(then, dict):
            yield from validator.descend(instance, then, schema_path=trigger)


_CLASSES: dict[type, Any] = {}


def _checking(base: Any) -> Any:
    """The validator class for a draft, with the keywords above in place of its own."""
    if base not in _CLASSES:
        draft_format = base.VALIDATORS["format"]

        def _format(validator: Any, wanted: Any, instance: Any,
                    schema: dict[str, Any]) -> Iterator[ValidationError]:
            """The draft's `format`, not run on text over the field's maxLength."""
            if not _over_max_length(instance, schema):
                yield from draft_format(validator, wanted, instance, schema)

        _CLASSES[base] = extend(base, {"pattern": _pattern, "format": _format,
                                       "required": _required, CODE_LIST: _code_list,
                                       "dependentRequired": _dependent_required,
                                       "dependencies": _dependencies})
    return _CLASSES[base]


def _rows_message(kind: str, limit: Any) -> str | None:
    """minItems and maxItems of a repeatable group are counts of rows, not of choices."""
    if kind == "minItems":
        return ngettext("Fill in at least %(num)d row.", "Fill in at least %(num)d rows.", limit)
    if kind == "maxItems":
        return ngettext("Fill in at most %(num)d row.", "Fill in at most %(num)d rows.", limit)
    return None


def _in_rows(schema: Any) -> bool:
    """Whether a list is drawn as rows (of groups, or of single values), not as choices."""
    return kind(schema) in ("rows", "values")


def _message(error: ValidationError) -> str:
    """What the person should do, in their language."""
    kind, limit = error.validator, error.validator_value
    # A list of single values is counted in rows too (one input each).
    if _in_rows(error.schema) and isinstance(limit, int):
        counted = _rows_message(str(kind), limit)
        if counted:
            return counted
    if kind == "uniqueItems" and _in_rows(error.schema):
        return _("Enter each entry only once.")
    if kind == "format":
        return {"email": _("Enter a valid e-mail address, like name@example.com."),
                "date": _("Enter a date as YYYY-MM-DD."),
                "date-time": _("Enter a date and time."),
                }.get(limit, _("Invalid format."))
    if kind == "type":
        names = {"string": _("text"), "integer": _("a whole number"), "number": _("a number"),
                 "boolean": _("yes or no"), "array": _("a list"),
                 "object": _("a group of fields")}
        wanted = limit if isinstance(limit, list) else [limit]
        return _("Enter %(what)s.", what=_(" or ").join(names.get(str(w), str(w))
                                                        for w in wanted))
    if kind == "minLength" and limit == 1:
        return _("Enter something here.")
    if kind == "enum" and isinstance(limit, list):
        return _("Choose one of: %(options)s.", options=", ".join(str(v) for v in limit))
    if kind == "const":
        return _("This must be accepted to go on.") if limit is True \
            else _("This must be %(value)s.", value=limit)
    messages = {
        "required": lambda: _("This field is required."),
        "minLength": lambda: _("Enter at least %(n)s characters.", n=limit),
        "maxLength": lambda: _("Enter at most %(n)s characters.", n=limit),
        "minimum": lambda: _("Enter %(n)s or more.", n=limit),
        "maximum": lambda: _("Enter %(n)s or less.", n=limit),
        "exclusiveMinimum": lambda: _("Enter more than %(n)s.", n=limit),
        "exclusiveMaximum": lambda: _("Enter less than %(n)s.", n=limit),
        "pattern": lambda: _("This is not in the expected format."),
        "minItems": lambda: _("Choose at least %(n)s.", n=limit),
        "maxItems": lambda: _("Choose at most %(n)s.", n=limit),
        "uniqueItems": lambda: _("Choose each option only once."),
        "oneOf": lambda: _("Choose one of the options."),
        "anyOf": lambda: _("Choose one of the options."),
        CODE_LIST: lambda: _("Choose one of the options in the list."),
    }
    said = messages.get(str(kind))
    return said() if said else error.message


def _field(error: ValidationError) -> str:
    """The field an error belongs to: a nested field by its dotted path ("list.1.name" in a
    row of a repeatable group, "list.1" for an entry of a list of single values), a list of
    choices by its name."""
    path = list(error.absolute_path)
    # An entry of a list of single values has its own input: the error stays on it.
    entry = isinstance(error.schema, dict) and kind(
        {"type": "array", "items": error.schema}) == "values"
    # An index at the end points into a list of choices: the error is the list's.
    while path and isinstance(path[-1], int) and not entry:
        path.pop()
    return ".".join(str(p) for p in path) or "_form"


def _only_declared(spec: Any, value: Any) -> Any:
    """A nested group's (or a row's) value with only the fields it declares, blanks left out."""
    if kind(spec) == "object" and isinstance(value, dict):
        fields = declared_fields(spec)
        return {k: _only_declared(fields[k], v) for k, v in value.items()
                if k in fields and v is not None and v != ""}
    if kind(spec) == "rows" and isinstance(value, list):
        return [_only_declared(spec["items"], row) for row in value]
    return value


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level


def _unsafe_keys(value: Any) -> bool:
    # SpiffWorkflow's serializer treats a dict with "typename" as one of its objects:
    # such data saves but can never be loaded again.
    if isinstance(value, dict):
        return "typename" in value or any(_unsafe_keys(v) for v in value.values())
    if isinstance(value, list):
        return any(_unsafe_keys(v) for v in value)
    return False


_VALIDATORS: OrderedDict[int, tuple[dict[str, Any], Any]] = OrderedDict()


def _validator(schema: dict[str, Any]) -> Any:
    """A compiled validator per schema object (forms are cached and never change)."""
    key = id(schema)
    cached = _VALIDATORS.get(key)
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = _checking(validator_for(schema))(schema, format_checker=FORMATS)
    _VALIDATORS[key] = (schema, validator)  # holding the schema keeps its id unique
    while len(_VALIDATORS) > 512:
        _VALIDATORS.popitem(last=False)
    return validator


def validate(schema: dict[str, Any], data: Any,
             task_data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return only the declared fields of `data`, or raise InvalidInput per field.

    A field declared only in a condition's branch (then/else/dependentSchemas) is kept only
    while its condition holds, as the page shows it only then. Choices that come from a
    task data variable (formkit/dynamic.py) are those `task_data` holds now.
    """
    if not isinstance(data, dict):
        raise InvalidInput(_("The form data must be a set of named fields."))
    given = schema
    schema, unusable = dynamic.expand(schema, task_data or {})
    found = conditions.layout(schema)
    declared = found.fields
    cleaned = {k: _only_declared(declared[k], v) for k, v in data.items()
               if k in declared and v is not None and v != ""}
    if _depth(cleaned) > MAX_DEPTH or _unsafe_keys(cleaned):
        raise InvalidInput(_("The form data is nested too deeply or uses a reserved name."))
    applies = conditions.shown(found, cleaned)
    cleaned = {k: v for k, v in cleaned.items() if k in applies}
    # A form whose choices came from task data is new each time: not worth caching.
    validator = _checking(validator_for(schema))(schema, format_checker=FORMATS) \
        if schema is not given else _validator(schema)
    field_errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(cleaned):
        field = _field(error)
        message = _message(error)
        # A field whose choices could not be read says why, not "choose one of the options".
        said = unusable.get(".".join(p for p in field.split(".") if not p.isdigit()))
        if said:
            field_errors[field] = list(said)
            continue
        if declared.get(field, {}).get("const") is True and error.validator == "required":
            message = _("This must be accepted to go on.")  # an unticked consent box
        field_errors.setdefault(field, []).append(message)
    if field_errors:
        count = len(field_errors)
        raise InvalidInput(ngettext("%(num)d field needs correcting.",
                                    "%(num)d fields need correcting.", count), field_errors)
    return cleaned
