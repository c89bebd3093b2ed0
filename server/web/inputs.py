"""Values from the query string or a form that steer a response: checked before use."""

from __future__ import annotations

import re

# A path on this site: one slash, then no second slash or backslash, and no control
# characters or spaces (browsers drop tabs and newlines, so "/\t/evil.example" is
# "//evil.example" to them, and they read a backslash as a slash).
_SAME_SITE = re.compile(r"/(?![/\\])[^\\\x00-\x20\x7f]*")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")


def same_site(target: str | None, fallback: str) -> str:
    """`target` when it is a path on this site, else `fallback`: never an open redirect."""
    if target and len(target) <= 2000 and _SAME_SITE.fullmatch(target):
        return target
    return fallback


def page_number(raw: str | None, last: int = 100_000) -> int:
    """A page number from the query string: 1 unless it is a plain number from 1 to `last`."""
    if raw and _PAGE.fullmatch(raw):
        number = int(raw)
        if number <= last:
            return number
    return 1
