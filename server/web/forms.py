"""The round trip of a JSON Schema form: parse what was sent, act, or say what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput, PlaintError
from ..formkit import parse_submission
from ..formkit.datetimes import asks_date_time
from ..formkit.parse import row_action, with_added_row
from .timefmt import page_zone


@dataclass
class Submission:
    """What became of a submitted form: the values as typed, errors per field, the result."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    # A row was added to or removed from a repeatable group: the form is only redrawn.
    redrawn: bool = False

    @property
    def ok(self) -> bool:
        """Whether the action went through."""
        return self.status == 200 and not self.errors and not self.redrawn


def submit(schema: dict[str, Any], ui: dict[str, Any] | None, form: Any,
           action: Callable[[dict[str, Any]], Any]) -> Submission:
    """Parse a submitted form and hand the values to `action`.

    A refusal comes back as errors to show beside the fields (or above the form) with
    the values kept, so the person loses nothing they typed.
    """
    # A date and time from a datetime-local input is the organisation's wall clock; a form
    # without one does not need the zone (a query saved on every task sent).
    values = parse_submission(schema, ui, form, page_zone() if asks_date_time(schema) else None)
    if row_action(form) is not None:
        return Submission(with_added_row(schema, values, form), redrawn=True)
    try:
        return Submission(values, result=action(values))
    except InvalidInput as exc:
        return Submission(values, exc.field_errors or {"_form": [exc.message]}, exc.status)
    except PlaintError as exc:
        return Submission(values, {"_form": [exc.message]}, exc.status)
