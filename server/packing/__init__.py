"""Stored text compressed against preset dictionaries: workflow states and history data.

Every case of a process stores the same keys, task names, titles and form names over and
over; a preset dictionary (zlib's `zdict`) made from the reference process holds them once,
in the code, so each row keeps only what is its own. A packed value starts with MARK and
the dictionary's number, so a dictionary is never changed once shipped: a better one gets
a new number and old rows still name theirs. Values written before packing still load: a
state is then a plain zlib stream and history data plain JSON text.
"""

from __future__ import annotations

import zlib
from functools import cache
from pathlib import Path
from typing import Any

MARK = 0x1F  # neither a zlib stream (0x78) nor JSON text ("{") starts with it
# What each kind of value is packed with today: the dictionary's number.
CURRENT = {"state": 1, "history": 2}
FILES = {1: "state-1.zdict", 2: "history-2.zdict"}


class PackingError(ValueError):
    """A stored value names a dictionary this server does not have."""


@cache
def dictionary(number: int) -> bytes:
    """The preset dictionary with this number, read once from the package."""
    name = FILES.get(number)
    if name is None:
        raise PackingError(f"no packing dictionary number {number}")
    return (Path(__file__).parent / name).read_bytes()


@cache
def _primed(number: int) -> Any:
    """A compressor that has read the dictionary with this number, never used itself."""
    # Level 6: level 9 costs three times the time for 4% less.
    return zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY,
                            dictionary(number))


def pack(text: bytes, kind: str) -> bytes:
    """`text` compressed against the current dictionary of its kind, with its number."""
    number = CURRENT[kind]
    # A copy of a primed compressor: reading a 32 KB dictionary costs about as much as
    # compressing a whole state (the bytes are the same either way).
    packer = _primed(number).copy()
    return bytes((MARK, number)) + packer.compress(text) + packer.flush()


def unpack(data: bytes) -> bytes:
    """The text of a packed value, or of an older plain zlib stream (zlib.error if neither)."""
    if is_packed(data):
        unpacker = zlib.decompressobj(-15, dictionary(data[1]))
        text = unpacker.decompress(data[2:]) + unpacker.flush()
        if not unpacker.eof:
            raise zlib.error("packed value is cut short")
        return text
    return zlib.decompress(data)


def is_packed(data: bytes) -> bool:
    """Whether a stored value was written by pack()."""
    return bool(data) and data[0] == MARK
