"""A task's instructions for the person who works it: SpiffArena's instructionsForEndUser.

The diagram's text is a Jinja template filled in with the task's data
("Call {{ complainant_name }} on {{ complainant_phone }}"). A process owner writes it and
complainants fill in the data, so neither is trusted: it runs in Jinja's sandbox (no
attributes starting with an underscore, no methods, no globals such as `lipsum` or
`namespace`), with only filters that do bounded work, with `*`, `**`, `+` and `%` checked
for the size of what they would build, and under the diagram-code limits (time, memory)
of sandbox_limits.py: the compiled template counts as diagram code, so a loop inside a
loop is stopped by the time limit. What it writes is capped too. Values from the data
are escaped for Markdown, so an answer cannot turn into a link or an image on the page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from .sandbox_limits import SANDBOX_FILENAME, LimitExceeded, ValueTooLarge, run_limited

MAX_OUTPUT = 20_000  # characters the filled-in instructions may have
MAX_VALUE = 100_000  # characters or items one operation may build
SECONDS = 0.5  # a page view waits at most this for its instructions
MEMORY = 32 * 1024 * 1024
INSTRUCTIONS_KEY = "instructionsForEndUser"

# Filters that do work bounded by their input (join is checked below).
_FILTERS = ("abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
            "float", "int", "items", "last", "length", "list", "lower", "max", "min",
            "reverse", "round", "sort", "string", "sum", "title", "trim", "unique", "upper",
            "wordcount", "filesizeformat", "truncate")
# What Markdown reads as markup in a value: escaped, so data shows as typed.
# (< > & are HTML-escaped after this, and Markdown reads their entities as plain text.)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


class InstructionsError(Exception):
    """The instructions could not be filled in (a broken template, or a limit hit)."""


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


class _Environment(SandboxedEnvironment):
    """Jinja's sandbox with bounded operators and no methods."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Data may be read (a field of a dict); nothing may be called."""
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """An operator, refused when what it would build is too large."""
        if operator == "%" and isinstance(left, str):
            raise ValueTooLarge("text formatting with % is not available in instructions")
        if operator == "*":
            count = right if isinstance(right, int) else left if isinstance(left, int) else 0
            if max(_sized(left), _sized(right)) * max(count, 0) > MAX_VALUE:
                raise ValueTooLarge("a repetition would build too large a value")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and \
                abs(left) > 1 and right * max(abs(left).bit_length(), 1) > 10_000:
            raise ValueTooLarge("a power would build too large a number")
        if operator == "+" and _sized(left) + _sized(right) > MAX_VALUE:
            raise ValueTooLarge("joining would build too large a value")
        return super().call_binop(context, operator, left, right)


def _join(value: Any, separator: str = "") -> str:
    """Jinja's join, refused when the text would be too large."""
    items = [str(item) for item in value]
    if sum(map(len, items)) + len(separator) * len(items) > MAX_VALUE:
        raise ValueTooLarge("joining would build too large a value")
    return separator.join(items)


def _markdown_safe(value: Any) -> Any:
    """A value from the data with Markdown's markup characters escaped."""
    if value is None or isinstance(value, ChainableUndefined):
        return ""
    if isinstance(value, Markup):
        return value
    return _MARKDOWN.sub(r"\\\1", str(value))


@lru_cache(maxsize=1)
def _environment() -> _Environment:
    env = _Environment(autoescape=True, undefined=ChainableUndefined,
                       finalize=_markdown_safe)
    env.globals.clear()
    env.globals["range"] = _bounded_range
    kept = {name: env.filters[name] for name in _FILTERS if name in env.filters}
    env.filters.clear()
    env.filters.update(kept, join=_join)
    env.tests = {name: env.tests[name] for name in (
        "defined", "undefined", "none", "number", "string", "mapping", "sequence",
        "even", "odd", "divisibleby", "eq", "ne", "lt", "le", "gt", "ge", "in",
        "true", "false", "boolean", "integer", "float", "lower", "upper")
        if name in env.tests}
    return env


def _bounded_range(*args: int) -> range:
    found = range(*args)
    if len(found) > MAX_VALUE:
        raise ValueTooLarge("a range of more than 100,000 numbers")
    return found


def problem(source: str) -> str | None:
    """Why a template cannot be used (checked at deploy), or None."""
    try:
        tree = _environment().parse(source)
    except TemplateSyntaxError as exc:
        return _("the instructions are not a valid template: %(error)s (line %(line)s)",
                 error=exc.message or "", line=exc.lineno)
    unknown = sorted({f.name for f in tree.find_all(nodes.Filter)} - set(_environment().filters))
    if unknown:
        return _("the instructions use filters Plaint does not offer: %(filters)s; use "
                 "%(offered)s", filters=", ".join(unknown),
                 offered=", ".join(sorted(_environment().filters)))
    return None


@lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    env = _environment()
    # Compiled as diagram code: the time limit's trace function follows its lines.
    code = env.compile(source, filename=SANDBOX_FILENAME)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def render(source: str, data: dict[str, Any]) -> str:
    """The instructions filled in with the task's data; InstructionsError when they cannot be."""
    if not source.strip():
        return ""
    if "{" not in source:
        return source  # plain text, as most instructions are

    def fill() -> str:
        parts: list[str] = []
        size = 0
        for chunk in _compiled(source).generate(dict(data)):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise ValueTooLarge("the instructions came out too long")
            parts.append(chunk)
        return "".join(parts)

    try:
        # Markup came out with HTML escaped; the page's Markdown renderer (raw HTML off)
        # reads the entities back as text.
        return str(run_limited(fill, SECONDS, MEMORY))
    except LimitExceeded as exc:
        raise InstructionsError(str(exc)) from None
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError,
            RecursionError) as exc:
        raise InstructionsError(str(exc)) from None


