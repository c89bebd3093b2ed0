"""The builtins and methods diagram code can call, each bounded in time and size.

Everything reachable is on a list: a builtin or method either does work bounded by
the values it is given without making anything much larger (``len``, ``str.upper``),
or it is wrapped here so that the size of what it would build, or walk through, is
checked before the C code runs (``str.ljust``, ``pow``, ``sorted``, ``set``). Lazy
iterators (``map``, ``filter``, ``zip``, ``enumerate``) are Python generators, so that
C code consuming them passes a checkpoint of the time limit on every item. Attribute
access goes through `getattr_`: a method that is not listed, or an attribute that does
not exist, is an AttributeError that says so (never None).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any

from .sandbox_limits import MAX_INT_BITS, MAX_ITEMS, ValueTooLarge, tick, weigh

_SIZED: tuple[type, ...] = (str, bytes, list, tuple, dict, set, frozenset, range,
                             type({}.keys()), type({}.values()), type({}.items()))
_FLAT = (str, int, float, bool, type(None))
_BULK = 10_000  # above this many items, sets and dicts are filled one item at a time
_ENCODINGS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1",
                        "utf-16", "utf-32", "cp1252", "cp1256"})
_ERRORS = frozenset({"strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace"})


def need(size: int, what: str) -> None:
    """Refuse an operation that would build more than MAX_ITEMS items or characters."""
    if size > MAX_ITEMS:
        raise ValueTooLarge(f"{what} would build more than {MAX_ITEMS:,} items or characters "
                            f"(about {size:,})")


def need_bits(bits: float, what: str) -> None:
    """Refuse an operation that would build an integer of more than MAX_INT_BITS bits."""
    if bits > MAX_INT_BITS:
        raise ValueTooLarge(f"{what} would build an integer of more than {MAX_INT_BITS:,} bits "
                            f"(about {int(bits):,})")


def materialize(iterable: Iterable[Any], what: str) -> list[Any]:
    """The items of an iterable as a new list, refusing more than MAX_ITEMS of them."""
    if isinstance(iterable, Sized) and isinstance(iterable, _SIZED):
        need(len(iterable), what)
        return list(iterable)
    items: list[Any] = []
    for item in iterable:
        items.append(item)
        if len(items) & 0xFFF == 0:
            need(len(items), what)
            tick()
    need(len(items), what)
    return items


def check_keys(items: Iterable[Any], what: str = "hashing the keys") -> None:
    """Refuse keys whose hashing would walk too far (tuples nest and share)."""
    nested = [item for item in items if type(item) in (tuple, frozenset)]
    if nested:
        weigh(what, *nested)


def key(value: Any) -> Any:
    """A value about to be hashed (dict key, set member), checked."""
    if type(value) in (tuple, frozenset):
        weigh("hashing the key", value)
    return value


def _fill(target: Any, items: list[Any]) -> Any:
    """Add items to a set (or pairs to a dict), with a checkpoint per item when many."""
    pairs = isinstance(target, dict)
    check_keys((k for k, _ in items) if pairs else items)
    if len(items) <= _BULK:
        target.update(items)
        return target
    for item in items:  # colliding hashes make each insertion slow: check as we go
        if pairs:
            target[item[0]] = item[1]
        else:
            target.add(item)
        tick()
    return target


class TypeCall:
    """A builtin type diagram code calls through a check; isinstance() still knows it."""

    __slots__ = ("call", "type")

    def __init__(self, kind: type, call: Callable[..., Any]) -> None:
        self.type, self.call = kind, call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the checked function."""
        return self.call(*args, **kwargs)

    def __repr__(self) -> str:
        """Look like what it stands for."""
        return f"<class '{self.type.__name__}'>"


def _unwrap(kinds: Any) -> Any:
    """The real types behind TypeCall wrappers, for isinstance()."""
    if isinstance(kinds, tuple):
        return tuple(_unwrap(k) for k in kinds)
    return kinds.type if isinstance(kinds, TypeCall) else kinds


def _isinstance(value: Any, kinds: Any) -> bool:
    """isinstance() that knows the wrapped builtin types."""
    return isinstance(value, _unwrap(kinds))


def _str(*args: Any, **kwargs: Any) -> str:
    """str(), refusing values that are huge written out."""
    if len(args) == 1 and not kwargs:
        if type(args[0]) not in _FLAT:
            weigh("str()", args[0], limit=MAX_ITEMS)
        return str(args[0])
    _check_codec(kwargs.get("encoding", args[1] if len(args) > 1 else "utf-8"),
                 kwargs.get("errors", args[2] if len(args) > 2 else "strict"))
    return str(*args, **kwargs)


def _repr(value: Any) -> str:
    """repr(), refusing values that are huge written out."""
    if type(value) not in _FLAT:
        weigh("repr()", value, limit=MAX_ITEMS)
    return repr(value)


def _check_codec(encoding: Any, errors: Any = "strict") -> None:
    """Refuse encodings and error handlers outside the short list (some are slow)."""
    if str(encoding).lower() not in _ENCODINGS or str(errors) not in _ERRORS:
        raise ValueError(f"diagram code can use the encodings {', '.join(sorted(_ENCODINGS))} "
                         f"and the error handlers {', '.join(sorted(_ERRORS))}")


def decimal_digits(value: Any) -> int:
    """How many digits a Decimal has written out in full (0 for anything else)."""
    if not isinstance(value, decimal.Decimal) or not value.is_finite():
        return 0
    exponent = int(value.as_tuple().exponent)
    return max(value.adjusted(), 0) + max(-exponent, 0) + 1


def check_decimal(value: Any, what: str, limit: int = MAX_INT_BITS * 3 // 10) -> None:
    """Refuse turning a Decimal with a huge exponent into an integer or plain digits."""
    if decimal_digits(value) > limit:
        raise ValueTooLarge(f"{what} would write out more than {limit:,} digits")

def _int(*args: Any, **kwargs: Any) -> int:
    """int(), refusing texts that would give integers over the size limit."""
    text = args[0] if args else kwargs.get("x")
    check_decimal(text, "int()")
    if isinstance(text, str | bytes) and len(text) > MAX_INT_BITS // 5:
        raise ValueTooLarge(f"int() of more than {MAX_INT_BITS // 5:,} characters")
    return int(*args, **kwargs)


def _range(*args: int) -> range:
    """range() of at most MAX_ITEMS numbers."""
    r = range(*args)
    need(len(r), "range()")
    return r


def _round(number: Any, ndigits: Any = None) -> Any:
    """round() to at most 10,000 digits (a large negative count builds a huge power)."""
    if isinstance(ndigits, int) and abs(ndigits) > 10_000:
        raise ValueTooLarge("round() to more than 10,000 digits")
    check_decimal(number, "round()")
    return round(number, ndigits)


def check_pow(base: Any, exp: Any) -> None:
    """Refuse an integer power whose result would be too large."""
    if isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1:
        need_bits(exp * math.log2(abs(base)), "the ** operator")


def _pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """pow(), size-checked; with a modulus, numbers of at most 4,096 bits."""
    if mod is None:
        check_pow(base, exp)
        return pow(base, exp)
    if isinstance(mod, int) and (mod.bit_length() > 4096 or
                                 (isinstance(exp, int) and abs(exp).bit_length() > 4096)):
        raise ValueTooLarge("pow() with a modulus takes numbers of at most 4,096 bits")
    return pow(base, exp, mod)


def _list(iterable: Iterable[Any] = ()) -> list[Any]:
    """list() of at most MAX_ITEMS items."""
    return materialize(iterable, "list()")


def _tuple(iterable: Iterable[Any] = ()) -> tuple[Any, ...]:
    """tuple() of at most MAX_ITEMS items."""
    return tuple(materialize(iterable, "tuple()"))


def _set(iterable: Iterable[Any] = ()) -> set[Any]:
    """set() of at most MAX_ITEMS members, checked before they are hashed."""
    result: set[Any] = set()
    _fill(result, materialize(iterable, "set()"))
    return result


def _frozenset(iterable: Iterable[Any] = ()) -> frozenset[Any]:
    """frozenset(), as set()."""
    return frozenset(_set(iterable))


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    """dict() of at most MAX_ITEMS pairs, keys checked before they are hashed."""
    if len(args) > 1:
        raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
    result: dict[Any, Any] = {}
    if args and type(args[0]) is dict:
        result = dict(args[0])  # its keys were checked when they went in
    elif args:
        pairs = []
        for pair in materialize(args[0], "dict()"):
            k, v = pair
            pairs.append((k, v))
        _fill(result, pairs)
    result.update(kwargs)
    return result


def _sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    """sum(); lists and tuples are joined once instead of copied at every step."""
    if not isinstance(start, list | tuple):
        return sum(materialize(iterable, "sum()"), start)
    # Adding lists one by one copies the growing total each time: join them once.
    total = list(start)
    for part in materialize(iterable, "sum()"):
        if type(part) is not type(start):
            raise TypeError(f"can only add {type(start).__name__} to "
                            f"{type(start).__name__}, not {type(part).__name__}")
        need(len(total) + len(part), "sum()")
        total.extend(part)
        tick()
    return total if isinstance(start, list) else tuple(total)


def _keys(items: list[Any], key: Callable[[Any], Any] | None, what: str) -> list[Any]:
    """The sort keys of items, checked so that comparing them stays within the limit."""
    keys = items
    if key is not None:
        keys = []
        for item in items:
            keys.append(key(item))
            tick()
    if not all(type(k) in _FLAT for k in keys):
        weigh(what, keys)
    return keys


def _sorted(iterable: Iterable[Any], /, *, key: Callable[[Any], Any] | None = None,
            reverse: bool = False) -> list[Any]:
    """sorted(), with keys computed first and checked so comparing stays in bounds."""
    items = materialize(iterable, "sorted()")
    keys = _keys(items, key, "sorting")
    if key is None:
        return sorted(items, reverse=reverse)
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
    return [items[i] for i in order]


def _extreme(pick: Callable[..., Any], name: str) -> Callable[..., Any]:
    """min() or max(), with keys computed first and checked."""
    def call(*args: Any, key: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{name} expected at least 1 argument, got 0")
        items = materialize(args[0] if len(args) == 1 else args, f"{name}()")
        if not items:
            if "default" in kwargs:
                return kwargs["default"]
            raise ValueError(f"{name}() arg is an empty sequence")
        keys = _keys(items, key, f"{name}()")
        return items[pick(range(len(items)), key=keys.__getitem__)]
    call.__name__ = name
    return call


def _map(function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
    """map() as a generator: a checkpoint of the time limit per item."""
    if not iterables:
        raise TypeError("map() must have at least two arguments.")
    for args in zip(*iterables, strict=False):
        tick()
        yield function(*args)


def _filter(function: Callable[[Any], Any] | None, iterable: Iterable[Any]) -> Iterator[Any]:
    """filter() as a generator: a checkpoint of the time limit per item."""
    for item in iterable:
        tick()
        if (function(item) if function is not None else item):
            yield item


def _zip(*iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
    """zip() as a generator: a checkpoint of the time limit per item."""
    for items in zip(*iterables, strict=strict):
        tick()
        yield items


def _enumerate(iterable: Iterable[Any], start: int = 0) -> Iterator[tuple[int, Any]]:
    """enumerate() as a generator: a checkpoint of the time limit per item."""
    for pair in enumerate(iterable, start):
        tick()
        yield pair


_MATH_NAMES = (
    "pi", "e", "tau", "inf", "nan", "ceil", "floor", "trunc", "fabs", "sqrt", "isqrt",
    "exp", "expm1", "log", "log2", "log10", "log1p", "pow", "sin", "cos", "tan", "asin",
    "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "hypot",
    "degrees", "radians", "isclose", "isfinite", "isinf", "isnan", "copysign", "fmod",
    "modf", "frexp", "ldexp", "gcd", "fsum", "erf", "erfc", "gamma", "lgamma", "remainder",
    "dist", "cbrt", "exp2", "nextafter", "ulp")


def _bits_of_ratio(n: int, k: int) -> float:
    """log2(n! / k!), an upper bound of the size of factorial, perm and comb."""
    return (math.lgamma(n + 1) - math.lgamma(k + 1)) / math.log(2)


def _factorial(n: Any) -> int:
    """math.factorial(), size-checked."""
    if isinstance(n, int) and n > 2:
        need_bits(_bits_of_ratio(n, 0), "factorial()")
    return math.factorial(n)


def _perm(n: Any, k: Any = None) -> int:
    """math.perm(), size-checked."""
    if isinstance(n, int) and isinstance(k, int | None) and n > 2:
        need_bits(_bits_of_ratio(n, n - min(k if k is not None else n, n)), "perm()")
    return math.perm(n, k)


def _comb(n: Any, k: Any) -> int:
    """math.comb(), size-checked."""
    if isinstance(n, int) and isinstance(k, int) and n > 2 and 0 <= k <= n:
        small = min(k, n - k)
        need_bits(_bits_of_ratio(n, n - small) - _bits_of_ratio(small, 0), "comb()")
    return math.comb(n, k)


def _check_product(numbers: Iterable[Any], what: str) -> None:
    """Refuse a product (or lcm) of integers whose bits add up to more than MAX_INT_BITS."""
    bits = 0
    for number in numbers:
        if isinstance(number, int):
            bits += abs(number).bit_length()
            need_bits(bits, what)


def _prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
    """math.prod(), size-checked."""
    items = materialize(iterable, "prod()")
    _check_product((start, *items), "prod()")
    return math.prod(items, start=start)


def _lcm(*numbers: Any) -> int:
    """math.lcm(), size-checked."""
    _check_product(numbers, "lcm()")
    return math.lcm(*numbers)


def _to_int(fn: Callable[[Any], int]) -> Callable[[Any], int]:
    """math.floor/ceil/trunc, refusing Decimals that would give huge integers."""
    def call(value: Any) -> int:
        check_decimal(value, f"{fn.__name__}()")
        return fn(value)
    call.__name__ = fn.__name__
    return call


class MathFunctions:
    """The math module as diagram code sees it: the listed functions, sizes checked."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: dict[str, Any] = {n: getattr(math, n) for n in _MATH_NAMES
                                      if hasattr(math, n)}
        for name in ("floor", "ceil", "trunc"):
            self.names[name] = _to_int(self.names[name])
        self.names.update(factorial=_factorial, perm=_perm, comb=_comb,
                          prod=_prod, lcm=_lcm)

    def __repr__(self) -> str:
        """Look like what it stands for."""
        return "<module 'math'>"


MATH = MathFunctions()

_EXCEPTIONS = (ArithmeticError, AssertionError, AttributeError, Exception, IndexError,
               KeyError, LookupError, NameError, NotImplementedError, OverflowError,
               RecursionError, RuntimeError, StopIteration, TypeError, UnboundLocalError,
               UnicodeError, ValueError, ZeroDivisionError)

BUILTINS: dict[str, Any] = {
    "None": None, "True": True, "False": False,
    **{cls.__name__: cls for cls in _EXCEPTIONS},
    "abs": abs, "all": all, "any": any, "bool": bool, "callable": callable, "chr": chr,
    "divmod": divmod, "float": float, "hex": hex, "len": len, "oct": oct, "ord": ord,
    "reversed": reversed, "isinstance": _isinstance, "repr": _repr, "round": _round,
    "pow": _pow, "sum": _sum, "sorted": _sorted, "min": _extreme(min, "min"),
    "max": _extreme(max, "max"), "map": _map, "filter": _filter, "zip": _zip,
    "enumerate": _enumerate, "math": MATH,
    "str": TypeCall(str, _str), "int": TypeCall(int, _int), "range": TypeCall(range, _range),
    "list": TypeCall(list, _list), "tuple": TypeCall(tuple, _tuple),
    "set": TypeCall(set, _set), "frozenset": TypeCall(frozenset, _frozenset),
    "dict": TypeCall(dict, _dict),
}
