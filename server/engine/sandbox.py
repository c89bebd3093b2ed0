"""The sandbox every diagram expression, script, timer and DMN cell runs in.

Code is compiled with RestrictedPython (no imports, no dunder attributes, no
``str.format`` tricks, no subclass walking), runs with a small set of builtins and
Plaint helpers, and is stopped when it runs past a time limit. Operations that can
allocate huge values in one C call (``*``, ``**``, ``<<`` and ``range``) are
size-checked before they run.

Helpers available to diagram code, besides the safe builtins:

* ``now()``: the current time as an ISO 8601 UTC timestamp.
* ``timestamp_after(days=0, hours=0, minutes=0, seconds=0)``: now plus that
  much time, as an ISO 8601 UTC timestamp (use it in timeDate timers).
"""

from __future__ import annotations

import ast
import math
import operator
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from types import CodeType, FrameType
from typing import Any

from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_builtins,
    utility_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

SANDBOX_FILENAME = "<plaint-sandbox>"
MAX_SEQUENCE = 1_000_000  # items or characters one operation may build
MAX_INT_BITS = 100_000  # bits of an integer one operation may build


class SandboxError(Exception):
    """Diagram code was refused or failed inside the sandbox."""


class ScriptTimeout(BaseException):
    """Raised inside sandboxed code that ran past its time limit.

    A BaseException so that ``except Exception`` in diagram code cannot swallow it.
    CPython turns tracing off once a trace function raises, so nothing would stop
    diagram code that caught it: the policy refuses every way to catch it (a bare
    ``except:``, ``except BaseException``, leaving a ``finally`` by break, continue
    or return).
    """


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus size checks on operators that can explode."""

    _GUARDED_OPS = (ast.Mult, ast.Pow, ast.LShift)

    _UNCATCHABLE = frozenset({"BaseException", "SystemExit", "KeyboardInterrupt",
                              "GeneratorExit"})

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        names = {n.id for n in ast.walk(node.type)
                 if isinstance(n, ast.Name)} if node.type is not None else set()
        if node.type is None or names & self._UNCATCHABLE:
            self.error(node, "catch named errors only (e.g. except KeyError:), not every "
                             "error: a bare except could hide the time limit")
            return node
        return super().visit_ExceptHandler(node)  # type: ignore[return-value]

    def visit_Try(self, node: ast.Try) -> ast.AST:
        for statement in node.finalbody:
            for inner in ast.walk(statement):
                if isinstance(inner, ast.Break | ast.Continue | ast.Return):
                    self.error(inner, "break, continue and return cannot leave a finally "
                                      "block in diagram code")
        return super().visit_Try(node)  # type: ignore[return-value]

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import is not allowed in diagram code; use the helper functions")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "import is not allowed in diagram code; use the helper functions")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        visited = super().visit_BinOp(node)
        if isinstance(visited, ast.BinOp) and isinstance(node.op, self._GUARDED_OPS):
            call = ast.Call(
                func=ast.Name(id="_binop_", ctx=ast.Load()),
                args=[ast.Constant(type(visited.op).__name__), visited.left, visited.right],
                keywords=[],
            )
            return ast.fix_missing_locations(ast.copy_location(call, visited))
        return visited  # type: ignore[return-value]


def _check_size(op: str, a: Any, b: Any) -> None:
    if op == "Mult":
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(n, int):
                if len(seq) * n > MAX_SEQUENCE:
                    raise SandboxError(f"result would exceed {MAX_SEQUENCE:,} items")
    elif op == "Pow":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            if b * math.log2(abs(a)) > MAX_INT_BITS:
                raise SandboxError("power too large")
    elif op == "LShift" and isinstance(b, int) and b > MAX_INT_BITS:
        raise SandboxError("shift too large")


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "Mult": operator.mul,
    "Pow": operator.pow,
    "LShift": operator.lshift,
}
_INPLACE: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "+=": ("Add", operator.iadd),
    "-=": ("Sub", operator.isub),
    "*=": ("Mult", operator.imul),
    "/=": ("Div", operator.itruediv),
    "//=": ("FloorDiv", operator.ifloordiv),
    "%=": ("Mod", operator.imod),
    "**=": ("Pow", operator.ipow),
    "<<=": ("LShift", operator.ilshift),
    ">>=": ("RShift", operator.irshift),
    "|=": ("BitOr", operator.ior),
    "&=": ("BitAnd", operator.iand),
    "^=": ("BitXor", operator.ixor),
}


def _binop(op: str, a: Any, b: Any) -> Any:
    _check_size(op, a, b)
    return _OPS[op](a, b)


def _inplacevar(op: str, a: Any, b: Any) -> Any:
    if op not in _INPLACE:
        raise SandboxError(f"operator {op} is not allowed")
    name, fn = _INPLACE[op]
    _check_size(name, a, b)
    return fn(a, b)


def _limited_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise SandboxError(f"range() of more than {MAX_SEQUENCE:,} items")
    return r


def now() -> str:
    """Return the current time as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat()


def timestamp_after(days: float = 0, hours: float = 0, minutes: float = 0,
                    seconds: float = 0) -> str:
    """Return now plus the given time as an ISO 8601 UTC timestamp."""
    delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return (datetime.now(UTC) + delta).isoformat()


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    allowed.update(limited_builtins)
    allowed.update({k: v for k, v in utility_builtins.items() if k in ("math", "set", "frozenset")})
    allowed.update(
        range=_limited_range, list=list, dict=dict, min=min, max=max, sum=sum, any=any, all=all,
        enumerate=enumerate, map=map, filter=filter, reversed=reversed, sorted=sorted,
    )
    return allowed


HELPERS: dict[str, Callable[..., Any]] = {"now": now, "timestamp_after": timestamp_after}


def sandbox_globals(extra_helpers: dict[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Return the names sandboxed code sees besides its own data."""
    names: dict[str, Any] = {
        "__builtins__": _builtins(),
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_binop_": _binop,
        "_apply_": lambda f, *a, **kw: f(*a, **kw),
    }
    names.update(HELPERS)
    names.update(extra_helpers or {})
    return names


def _errors_to_message(errors: Sequence[str]) -> str:
    return "; ".join(e.replace(SANDBOX_FILENAME, "expression") for e in errors)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression under the sandbox policy, or raise SandboxError."""
    try:
        result = compile_restricted_eval(source.strip(), SANDBOX_FILENAME, policy=_Policy)
    except SyntaxError as exc:
        raise SandboxError(f"syntax error: {exc.msg}") from None
    if result.errors or result.code is None:
        raise SandboxError(_errors_to_message(result.errors))
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script under the sandbox policy, or raise SandboxError."""
    try:
        result = compile_restricted_exec(source, SANDBOX_FILENAME, policy=_Policy)
    except SyntaxError as exc:
        raise SandboxError(f"syntax error on line {exc.lineno}: {exc.msg}") from None
    if result.errors or result.code is None:
        raise SandboxError(_errors_to_message(result.errors))
    return result.code


_trusted = threading.local()  # seconds spent in our own helpers during the current run


def trusted(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a helper so its running time does not count against the script's limit.

    The limit stops runaway diagram code; a helper such as deadline() may read the
    database or build a holiday calendar for the first time, and that is not the
    diagram's doing.
    """
    @wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            _trusted.seconds = getattr(_trusted, "seconds", 0.0) + time.monotonic() - start

    return call


def run_limited(fn: Callable[[], Any], seconds: float) -> Any:
    """Call fn, stopping any sandboxed frame it runs once `seconds` have passed.

    A trace function is installed for this thread only, and only frames compiled
    from sandboxed source are traced, so the cost falls on diagram code alone.
    Time spent inside `trusted` helpers is not counted.
    """
    deadline = time.monotonic() + seconds
    _trusted.seconds = 0.0

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() - _trusted.seconds > deadline:
            raise ScriptTimeout(f"stopped after running longer than {seconds:g} s")
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SANDBOX_FILENAME:
            return None
        return local_trace(frame, event, arg)

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        return fn()
    finally:
        sys.settrace(previous)
