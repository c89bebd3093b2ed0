"""Regular expressions from forms, run by RE2: time linear in the input, whatever the pattern.

Python's `re` backtracks: a pattern such as ``^(a+)+$`` takes seconds on 30 characters, and
a form's pattern comes from whoever deploys the process while its input comes from anyone.
RE2 never backtracks; the price is that lookarounds and backreferences do not exist, so a
pattern that uses them is refused at deploy rather than run some other way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2
from flask_babel import gettext as _


class PatternError(ValueError):
    """RE2 cannot compile the pattern; the message says why."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the person, not to stderr
    options.never_capture = True  # only whether it matches matters
    return options


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 expression for a pattern, or PatternError."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None


def pattern_problem(pattern: str) -> str | None:
    """Why a form's pattern cannot be used, or None when RE2 runs it."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return _("pattern cannot be used (%(error)s): patterns run in a linear-time engine "
                 "(RE2), which has no lookahead, lookbehind or backreference; describe the "
                 "value without them", error=exc)
    return None


def matches(pattern: str, text: str) -> bool:
    """Whether the pattern is found in the text, as JSON Schema's `pattern` asks (unanchored)."""
    return compile_pattern(pattern).search(text) is not None
