"""Date-time fields between the organisation's wall clock and stored ISO 8601 instants.

A browser's datetime-local input sends the time a person read off their wall clock,
without a zone ("2026-12-06T14:30"), and blanks a value that has one. Stored answers must
be instants, so a time without an offset is taken in the organisation's zone on the way in
and shown back in that zone on the way out. The zone is given by the caller (the business
calendar's, services/localtime.py): formkit does not look it up.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

# What a datetime-local input (or a person typing the same) sends: no zone, optional seconds.
_WALL = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?")
_LONGEST = 64  # far more than any ISO 8601 date and time with fraction and zone


def asks_date_time(schema: Any) -> bool:
    """Whether any field anywhere in a schema is a date and time (so needs the zone)."""
    if isinstance(schema, dict):
        return schema.get("format") == "date-time" or any(
            asks_date_time(value) for value in schema.values())
    if isinstance(schema, list):
        return any(asks_date_time(value) for value in schema)
    return False


def with_offset(text: str, zone: tzinfo | None) -> str:
    """A wall time as an ISO 8601 instant in `zone`; anything else comes back as typed.

    "2026-12-06T14:30" in Asia/Riyadh becomes "2026-12-06T14:30:00+03:00". A value that
    already names its offset is kept, and nonsense is left for validation to explain.
    """
    if zone is None or not _WALL.fullmatch(text):
        return text
    try:
        local = datetime.fromisoformat(text).replace(tzinfo=zone)
        # A wall time skipped or repeated at a clock change takes the offset before it
        # (zoneinfo's fold 0): the nearest reading a person would agree with.
        return local.isoformat(timespec="seconds" if not local.microsecond else "auto")
    except (ValueError, OverflowError):
        return text


def wall_time(value: object, zone: tzinfo | None) -> str | None:
    """A stored instant as the wall time a datetime-local input can hold, in `zone`.

    None when the value is not an instant with an offset (then it is shown as it is).
    """
    if zone is None or not isinstance(value, str) or len(value) > _LONGEST:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return None
        local = moment.astimezone(zone)
    except (ValueError, OverflowError):
        return None
    # Browsers hold seconds and milliseconds at most; whole minutes are shown as such.
    spec = "milliseconds" if local.microsecond else "seconds" if local.second else "minutes"
    return local.replace(tzinfo=None).isoformat(timespec=spec)
