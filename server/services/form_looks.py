"""What a deploy says about UI schema keys that Plaint's forms draw without (never a refusal)."""

from __future__ import annotations

import json

from ..formkit.check_ui import ui_warnings


def warnings(files: dict[str, bytes]) -> list[str]:
    """One line per react-jsonschema-form key in a UI schema that only changes how it looks."""
    lines = []
    for name in sorted(files):
        if not name.lower().endswith(".json"):
            continue
        try:
            form = json.loads(files[name])
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue  # the deploy checks say what is wrong with a file that is not JSON
        # A UI schema, not a form: the form's "type" and "properties" are not in it.
        if isinstance(form, dict) and "properties" not in form and "type" not in form:
            lines += [f"{name}: {line}" for line in ui_warnings(form)]
    return lines
