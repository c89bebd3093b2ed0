"""Operators, subscripts and f-strings of diagram code, each checked before it runs.

The sandbox policy (sandbox.py) rewrites every binary operator into `binop`, every
comparison that could walk two large values into `compare`, every f-string into
`fstring` over `format_value`, and RestrictedPython routes subscripts through
`getitem` and `write`. Numbers take a fast path; sequences, sets and strings are
measured first, so that no single operator builds or walks more than the limits.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from .sandbox_builtins import (
    _FLAT,
    _repr,
    _str,
    check_decimal,
    check_keys,
    check_pow,
    key,
    materialize,
    need,
    need_bits,
)
from .sandbox_limits import MAX_ITEMS, MAX_WALK, ValueTooLarge, weigh

_NUMBERS = (int, float, bool)
_SEQUENCES = (str, bytes, list, tuple)
_SETLIKE: tuple[type, ...] = (set, frozenset, dict, type({}.keys()), type({}.items()))

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul,
    "MatMult": operator.matmul, "Div": operator.truediv, "FloorDiv": operator.floordiv,
    "Mod": operator.mod, "Pow": operator.pow, "LShift": operator.lshift,
    "RShift": operator.rshift, "BitOr": operator.or_, "BitXor": operator.xor,
    "BitAnd": operator.and_,
}
_INPLACE: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "+=": ("Add", operator.iadd), "-=": ("Sub", operator.isub),
    "*=": ("Mult", operator.imul), "/=": ("Div", operator.itruediv),
    "//=": ("FloorDiv", operator.ifloordiv), "%=": ("Mod", operator.imod),
    "**=": ("Pow", operator.ipow), "<<=": ("LShift", operator.ilshift),
    ">>=": ("RShift", operator.irshift), "|=": ("BitOr", operator.ior),
    "&=": ("BitAnd", operator.iand), "^=": ("BitXor", operator.ixor),
    "@=": ("MatMult", operator.imatmul),
}


def _check_add(a: Any, b: Any) -> None:
    """Joining sequences: the sum of their lengths."""
    if type(a) in _SEQUENCES and hasattr(b, "__len__"):
        need(len(a) + len(b), "the + operator")


def _check_mult(a: Any, b: Any) -> None:
    """Repeating a sequence, or multiplying integers."""
    for seq, n in ((a, b), (b, a)):
        if type(seq) in _SEQUENCES and isinstance(n, int):
            need(len(seq) * n, "the * operator")
    if type(a) is int and type(b) is int:
        need_bits(a.bit_length() + b.bit_length(), "the * operator")


def _check_lshift(a: Any, b: Any) -> None:
    """Shifting an integer left."""
    if isinstance(a, int) and isinstance(b, int) and b > 0:
        need_bits(a.bit_length() + b, "the << operator")


def _check_setlike(a: Any, b: Any) -> None:
    # Set operations hash and compare members; dict views build sets of (key, value).
    """Set and dict-view operations hash and compare their members."""
    if isinstance(a, _SETLIKE) or isinstance(b, _SETLIKE):
        items = [materialize(x, "the set operation") for x in (a, b)]
        check_keys([m for part in items for m in part])


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def check_percent(fmt: str | bytes, args: Any) -> None:
    """Refuse a %-format whose widths, precisions or values would make it too long."""
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    values = args if isinstance(args, tuple) else (args,)
    stars = sum(abs(v) for v in values if type(v) is int)
    size = len(text)
    for match in _PERCENT.finditer(text):
        for number in match.groups():
            if number == "*":
                size += stars
            elif number:
                size += int(number) if len(number) < 9 else MAX_ITEMS + 1
    need(size, "the % format")
    weigh("the % format", args, limit=MAX_ITEMS - size)


def _check_mod(a: Any, b: Any) -> None:
    """%-formatting a string or bytes."""
    if isinstance(a, str | bytes):
        check_percent(a, b)


_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "Add": _check_add, "Mult": _check_mult, "Pow": check_pow, "LShift": _check_lshift,
    "Mod": _check_mod, "BitOr": _check_setlike, "BitAnd": _check_setlike,
    "BitXor": _check_setlike, "Sub": _check_setlike,
}


def binop(op: str, a: Any, b: Any) -> Any:
    """a <op> b, for every binary operator of diagram code."""
    if not (type(a) in _NUMBERS and type(b) in _NUMBERS and op not in ("Mult", "Pow", "LShift")):
        check = _CHECKS.get(op)
        if check is not None:
            check(a, b)
    return _OPS[op](a, b)


def inplacevar(op: str, a: Any, b: Any) -> Any:
    """a <op>= b for a name (RestrictedPython refuses it on items and attributes)."""
    if op not in _INPLACE:
        raise ValueError(f"operator {op} is not allowed")
    name, fn = _INPLACE[op]
    check = _CHECKS.get(name)
    if check is not None:
        check(a, b)
    return fn(a, b)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "Eq": operator.eq, "NotEq": operator.ne, "Lt": operator.lt, "LtE": operator.le,
    "Gt": operator.gt, "GtE": operator.ge,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}


def compare(a: Any, op: str, b: Any) -> Any:
    """a <op> b where both sides may be large (a side that is a literal needs no check).

    Comparing two values walks at most the smaller of them, so one of them within
    MAX_WALK is enough; ``in`` compares (or hashes) the needle with each item.
    """
    if not (type(a) in _FLAT and type(b) in _FLAT):
        if op in ("In", "NotIn"):
            size = weigh("the comparison", a)
            if not isinstance(b, _SETLIKE) and hasattr(b, "__len__") \
                    and len(b) * size > MAX_WALK:
                weigh("the comparison", b)
        else:
            try:
                weigh("the comparison", a)
            except ValueTooLarge:
                weigh("the comparison", b)
    return _COMPARE[op](a, b)


def chain(left: Any, rest: tuple[tuple[str, Callable[[], Any]], ...]) -> Any:
    """a < b < c ...: each right side evaluated only when needed, as Python does."""
    result: Any = True
    for op, right in rest:
        value = right()
        result = compare(left, op, value)
        if not result:
            return result
        left = value
    return result


def getitem(value: Any, index: Any) -> Any:
    """value[index] for diagram code."""
    if type(index) in (tuple, frozenset):
        key(index)
    return value[index]


class _ItemWriter:
    """What ``x[i] = v`` and ``del x[i]`` write through: lists and dicts, checked."""

    __slots__ = ("target",)
    target: Any

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "target", target)

    def __setitem__(self, index: Any, value: Any) -> None:
        """x[i] = v, the key or slice checked."""
        if type(index) is slice:
            items = materialize(value, "the slice assignment")
            need(len(self.target) + len(items), "the slice assignment")
            self.target[index] = items
        else:
            self.target[key(index)] = value

    def __delitem__(self, index: Any) -> None:
        """del x[i], the key checked."""
        del self.target[key(index) if type(index) is not slice else index]

    def __setattr__(self, name: str, value: Any) -> None:
        """Diagram code sets no attributes."""
        raise TypeError("diagram code cannot set attributes")

    def __delattr__(self, name: str) -> None:
        """Diagram code deletes no attributes."""
        raise TypeError("diagram code cannot delete attributes")


class _ReadOnly(_ItemWriter):
    """What diagram code gets when it tries to change anything but a list or a dict."""

    def __setitem__(self, index: Any, value: Any) -> None:
        """x[i] = v, the key or slice checked."""
        raise TypeError(f"diagram code can change lists and dicts, not "
                        f"{type(self.target).__name__}")

    def __delitem__(self, index: Any) -> None:
        """del x[i], the key checked."""
        self[index] = None


def write(target: Any) -> Any:
    """The object ``target[i] = ...`` / ``target.a = ...`` writes through."""
    return _ItemWriter(target) if type(target) in (list, dict) else _ReadOnly(target)


_SPEC_NUMBER = re.compile(r"\d+")


def format_value(value: Any, conversion: int, spec: str) -> str:
    """One {value!conversion:spec} of an f-string, its width and size checked."""
    if conversion == ord("r"):
        value = _repr(value)
    elif conversion == ord("s"):
        value = _str(value)
    elif conversion == ord("a"):
        _repr(value)
        value = ascii(value)
    for number in _SPEC_NUMBER.findall(spec):
        if len(number) > 7 or int(number) > MAX_ITEMS:
            raise ValueTooLarge(f"an f-string width or precision above {MAX_ITEMS:,}")
    if not spec and type(value) is str:
        return value
    check_decimal(value, "the f-string", MAX_ITEMS)
    if type(value) not in _FLAT:
        weigh("the f-string", value, limit=MAX_ITEMS)
    return format(value, spec)


def fstring(parts: list[str]) -> str:
    """An f-string from its formatted parts, its length checked."""
    need(sum(len(p) for p in parts), "the f-string")
    return "".join(parts)


def apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """f(*args, **kwargs) as RestrictedPython rewrites calls with * and **."""
    return function(*args, **kwargs)

