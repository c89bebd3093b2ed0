"""The attributes diagram code may read: a list per type, and `getattr_` that uses it.

A listed name maps to None (the method is used as it is: its work is bounded by the
value it belongs to and its arguments, and what it builds is not much larger) or to
a function that wraps the bound method with a size check. Anything else is an
AttributeError saying that the attribute does not exist or is not available, where
RestrictedPython's default answers None and lets a typo take the other branch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import Any

from .sandbox_builtins import (
    MATH,
    TypeCall,
    _check_codec,
    _dict,
    _set,
    _sorted,
    check_keys,
    key,
    materialize,
    need,
)
from .sandbox_limits import weigh
from .sandbox_modules import Facade
from .sandbox_values import VALUE_METHODS, zone_attribute

Wrap = Callable[[Any, Callable[..., Any]], Callable[..., Any]]


def _width(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """center/ljust/rjust/zfill: the width is the size of the result."""
    def call(width: Any, *args: Any) -> Any:
        if isinstance(width, int):
            need(width, f"{method.__name__}()")
        return method(width, *args)
    return call


def _replace(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """replace(): the result grows by each match found."""
    def call(old: Any, new: Any, count: int = -1) -> Any:
        if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
            found = value.count(old) if old else len(value) + 1
            found = min(found, count) if count >= 0 else found
            need(len(value) + found * (len(new) - len(old)), "replace()")
        return method(old, new, count)
    return call


def _join(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """join(): the parts and separators together."""
    def call(iterable: Iterable[Any]) -> Any:
        parts = materialize(iterable, "join()")
        need(sum(len(p) for p in parts if isinstance(p, str | bytes))
             + len(value) * max(len(parts) - 1, 0), "join()")
        return method(parts)
    return call


def _expandtabs(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """expandtabs(): each tab may become tabsize spaces."""
    def call(tabsize: int = 8) -> Any:
        if isinstance(tabsize, int):
            need(len(value) + value.count("\t") * max(tabsize, 0), "expandtabs()")
        return method(tabsize)
    return call


def _codec(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """encode()/decode() with the short list of codecs."""
    def call(encoding: str = "utf-8", errors: str = "strict") -> Any:
        _check_codec(encoding, errors)
        return method(encoding, errors)
    return call


def _extend(value: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
    """extend() up to MAX_ITEMS items in all."""
    def call(iterable: Iterable[Any]) -> None:
        items = materialize(iterable, "extend()")
        need(len(value) + len(items), "extend()")
        method(items)
    return call


def _compared(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """count/index/remove compare the argument with every item: weigh both."""
    def call(needle: Any, *args: Any) -> Any:
        weigh(f"{method.__name__}()", value, needle)
        return method(needle, *args)
    return call


def _sort(value: list[Any], method: Callable[..., Any]) -> Callable[..., Any]:
    """list.sort() as sorted(), keys checked."""
    def call(*, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        value[:] = _sorted(value, key=key, reverse=reverse)
    return call


def _keyed(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """get/pop/setdefault/add/discard/remove hash their first argument."""
    def call(*args: Any) -> Any:
        if args:
            key(args[0])
        return method(*args)
    return call


def _update(value: dict[Any, Any], method: Callable[..., Any]) -> Callable[..., Any]:
    """dict.update() as dict(), keys checked."""
    def call(*args: Any, **kwargs: Any) -> None:
        method(_dict(*args, **kwargs))
    return call


def _set_args(value: Any, method: Callable[..., Any]) -> Callable[..., Any]:
    """union, issubset and the rest: other iterables become checked sets first."""
    def call(*others: Any) -> Any:
        sets = [o if type(o) in (set, frozenset) else _set(o) for o in others]
        # Members keep their hashes, but equal hashes are compared: weigh the tuples.
        check_keys([m for s in (value, *sets) for m in s])
        return method(*sets)
    return call


_STR_PLAIN = (
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
    "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric",
    "isprintable", "isspace", "istitle", "isupper", "lower", "lstrip", "partition",
    "removeprefix", "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper")
_BYTES_PLAIN = (
    "count", "endswith", "find", "hex", "index", "isalnum", "isalpha", "isascii", "isdigit",
    "islower", "isspace", "isupper", "lower", "lstrip", "rstrip", "split", "rsplit",
    "startswith", "strip", "upper")
_NUMBER_PLAIN = ("real", "imag", "conjugate", "as_integer_ratio")

_STR: dict[str, Wrap | None] = {
    **dict.fromkeys(_STR_PLAIN), "center": _width, "ljust": _width, "rjust": _width,
    "zfill": _width, "replace": _replace, "join": _join, "expandtabs": _expandtabs,
    "encode": _codec}
_SET: dict[str, Wrap | None] = {
    "copy": None, "pop": None, "clear": None, "add": _keyed, "discard": _keyed,
    "remove": _keyed, **dict.fromkeys(
        ("union", "intersection", "difference", "symmetric_difference", "issubset",
         "issuperset", "isdisjoint", "update", "intersection_update", "difference_update",
         "symmetric_difference_update"), _set_args)}
_INT: dict[str, Wrap | None] = {
    **dict.fromkeys(_NUMBER_PLAIN), "bit_length": None, "bit_count": None,
    "numerator": None, "denominator": None}

METHODS: dict[type, dict[str, Wrap | None]] = {
    str: _STR,
    bytes: {**dict.fromkeys(_BYTES_PLAIN), "decode": _codec},
    list: {"append": None, "clear": None, "copy": None, "insert": None, "pop": None,
           "reverse": None, "extend": _extend, "count": _compared, "index": _compared,
           "remove": _compared, "sort": _sort},
    tuple: {"count": _compared, "index": _compared},
    dict: {"clear": None, "copy": None, "items": None, "keys": None, "values": None,
           "popitem": None, "get": _keyed, "pop": _keyed, "setdefault": _keyed,
           "update": _update},
    set: _SET,
    frozenset: {k: v for k, v in _SET.items()
                if k in ("copy", "union", "intersection", "difference",
                         "symmetric_difference", "issubset", "issuperset", "isdisjoint")},
    int: _INT,
    bool: _INT,
    float: {**dict.fromkeys(_NUMBER_PLAIN), "is_integer": None, "hex": None},
    range: dict.fromkeys(("start", "stop", "step", "count", "index")),
    **VALUE_METHODS,
}


def getattr_(value: Any, name: str) -> Any:
    """Read an attribute for diagram code: listed ones only, and never None for a typo."""
    if value is MATH:
        found = MATH.names.get(name)
        if found is None:
            raise AttributeError(f"math has no '{name}' that diagram code may use")
        return found
    if isinstance(value, Facade):
        if name in value.names:
            return value.names[name]
        raise AttributeError(f"{value.label.split(chr(39))[1]}.{name} is not available in "
                             "diagram code")
    kind = type(value)
    listed = METHODS.get(kind)
    if listed is not None and name in listed:
        wrap = listed[name]
        bound = getattr(value, name)
        return bound if wrap is None else wrap(value, bound)
    if isinstance(value, tzinfo):
        return zone_attribute(value, name)
    if isinstance(value, BaseException) and name == "args":
        return value.args
    if kind is str and name in ("format", "format_map"):
        raise NotImplementedError("str.format is not available in diagram code: "
                                  "use an f-string such as f\"{amount:.2f}\"")
    if isinstance(value, TypeCall | type):
        owner = value.type if isinstance(value, TypeCall) else value
        raise AttributeError(f"'{owner.__name__}.{name}' is not available in diagram code: "
                             "call methods on values, e.g. name.lower()")
    if hasattr(value, name):
        raise AttributeError(f"'{kind.__name__}.{name}' is not available in diagram code")
    raise AttributeError(f"'{kind.__name__}' object has no attribute '{name}'")

