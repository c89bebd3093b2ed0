"""Validating submitted data against a form's JSON Schema, field by field."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend, validator_for

from ..errors import InvalidInput
from ..formkit.regex import PatternError, compile_pattern

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


def _required(validator: Any, required: Any, instance: Any,
              schema: dict[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema's `required`, each error placed on the missing field's own path."""
    if not isinstance(instance, dict) or not isinstance(required, list):
        return
    for name in required:
        if name not in instance:
            yield ValidationError(f"{name!r} is a required property", path=[name])


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
                                       "required": _required})
    return _CLASSES[base]


def _message(error: ValidationError) -> str:
    kind, limit = error.validator, error.validator_value
    messages = {
        "required": "This field is required.",
        "minLength": ("Enter something here." if limit == 1
                      else f"Enter at least {limit} characters."),
        "maxLength": f"Enter at most {limit} characters.",
        "minimum": f"Enter {limit} or more.",
        "maximum": f"Enter {limit} or less.",
        "exclusiveMinimum": f"Enter more than {limit}.",
        "exclusiveMaximum": f"Enter less than {limit}.",
        "enum": ("Choose one of: " + ", ".join(str(v) for v in limit) + "."
                 if isinstance(limit, list) else ""),
        "const": "This must be accepted to go on." if limit is True else f"This must be {limit}.",
        "pattern": "This is not in the expected format.",
        "minItems": f"Choose at least {limit}.",
        "maxItems": f"Choose at most {limit}.",
        "uniqueItems": "Choose each option only once.",
    }
    if kind == "format":
        return {"email": "Enter a valid e-mail address, like name@example.com.",
                "date": "Enter a date as YYYY-MM-DD.",
                "date-time": "Enter a date and time with a time zone.",
                }.get(limit, "Invalid format.")
    if kind == "type":
        names = {"string": "text", "integer": "a whole number", "number": "a number",
                 "boolean": "yes or no", "array": "a list", "object": "a group of fields"}
        wanted = limit if isinstance(limit, list) else [limit]
        return "Enter " + " or ".join(names.get(str(w), str(w)) for w in wanted) + "."
    return messages.get(kind) or error.message


def _field(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "_form"


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


def validate(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Return only the declared fields of `data`, or raise InvalidInput per field."""
    if not isinstance(data, dict):
        raise InvalidInput("The form data must be a set of named fields.")
    declared = schema.get("properties", {})
    cleaned = {k: v for k, v in data.items() if k in declared and v is not None and v != ""}
    if _depth(cleaned) > MAX_DEPTH or _unsafe_keys(cleaned):
        raise InvalidInput("The form data is nested too deeply or uses a reserved name.")
    validator = _validator(schema)
    field_errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(cleaned):
        field = _field(error)
        message = _message(error)
        if declared.get(field, {}).get("const") is True and error.validator == "required":
            message = "This must be accepted to go on."  # an unticked consent box
        field_errors.setdefault(field, []).append(message)
    if field_errors:
        count = len(field_errors)
        raise InvalidInput(
            f"{count} field{'s' if count > 1 else ''} need{'' if count > 1 else 's'} "
            "correcting.", field_errors)
    return cleaned
