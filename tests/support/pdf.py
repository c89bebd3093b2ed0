"""Reading what a PDF shows, for the letter and bundle tests; fonts forgotten between tests.

A pytest plugin (listed in tests/conftest.py) for its `fonts_reset` fixture.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import pytest

from server.services import letters

_OBJECT = re.compile(rb"(\d+) 0 obj")
_LENGTH = re.compile(rb"/Length (\d+)\b(?! 0 R)")
_TOKEN = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f]+)>|\bET\b",
                    re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    """The bytes of a PDF literal string."""
    def one(match: re.Match) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else _ESCAPES.get(code, code)
    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def _cmap(text: bytes) -> dict[int, str]:
    """A ToUnicode CMap as glyph code -> text."""
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                found[code] = chr(int(dst, 16) + offset)
    return found


def _objects(data: bytes) -> Iterator[tuple[bytes, tuple[bytes, bytes]]]:
    """Each object's number, dictionary and (inflated) stream.

    A stream is read by its /Length, never by searching for "endstream": compressed
    bytes may hold any sequence, and a font file often does.
    """
    position = 0
    while match := _OBJECT.search(data, position):
        end = data.find(b"endobj", match.end())
        end = len(data) if end == -1 else end
        start = data.find(b"stream", match.end(), end)
        head, stream = data[match.end():end], b""
        length = _LENGTH.search(data, match.end(), start) if start != -1 else None
        if start != -1 and length is not None:
            head = data[match.end():start]
            begin = start + len(b"stream")
            begin += 2 if data[begin:begin + 2] == b"\r\n" else 1
            after = begin + int(length.group(1))
            stream = data[begin:after]
            if b"/FlateDecode" in head:
                stream = zlib.decompress(stream)
            end = data.find(b"endobj", after)
            end = len(data) if end == -1 else end
        yield match.group(1), (head, stream)
        position = end + len(b"endobj")


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, a line per text object, read through each font's ToUnicode map.

    Right-to-left text comes out in visual order (reversed), as it is drawn.
    """
    objects = dict(_objects(data))
    maps = {number: _cmap(objects[found.group(1)][1]) for number, (head, _) in objects.items()
            if b"/Type /Font" in head and (found := re.search(rb"/ToUnicode (\d+) 0 R", head))}
    fonts = {name: maps.get(number) for head, _ in objects.values()
             for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", head)}
    lines: list[str] = []
    for head, stream in objects.values():
        if b"BT" not in stream or b"/Length1" in head:  # /Length1: an embedded font file
            continue
        font, line = None, []
        for match in _TOKEN.finditer(stream):
            if match.group(1):
                font = fonts.get(match.group(1))
            elif match.group(0) == b"ET":
                lines.append("".join(line))
                line = []
            else:
                raw = (_unescape(match.group(2)) if match.group(2) is not None
                       else bytes.fromhex(match.group(3).decode()))
                line.extend(raw.decode("latin-1") if font is None else
                            (font.get(int.from_bytes(raw[i:i + 2], "big"), "?")
                             for i in range(0, len(raw) - 1, 2)))
    return "\n".join(text for text in lines if text)


@pytest.fixture
def fonts_reset() -> Iterator[None]:
    """Forget which fonts were found, before and after the test."""
    letters.font_files.cache_clear()
    yield
    letters.font_files.cache_clear()
