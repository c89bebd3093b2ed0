"""The sandbox every diagram expression, script, timer and DMN cell runs in.

Code is compiled with RestrictedPython (no imports, no dunder attributes, no
``str.format`` tricks, no subclass walking) plus our policy, which rewrites the code
so that its limits hold by construction:

* every ``except`` clause passes its classes through ``_catchable_`` (a limit is never
  among them) and every handler and ``finally`` body starts with ``_guard_()``, which
  raises again once a limit was hit: no code can catch the time limit and go on;
* every binary operator, every comparison that is not against a literal, every
  f-string, every hashed key and every subscript goes through a function that checks
  the size of what it would build or walk first (sandbox_operators.py);
* builtins and methods are a list, each bounded or size-checked (sandbox_builtins.py,
  sandbox_methods.py); a missing attribute is an AttributeError;
* classes, generators (``yield``), ``with``, ``print`` and star-unpacking into
  displays are refused: diagram code does not need them and each would widen what
  has to be checked.

The code then runs under run_limited (sandbox_limits.py): a time limit checked on
every line and every call, and a memory allowance.

Helpers available to diagram code, besides the builtins:

* ``now()``: the current time as an ISO 8601 UTC timestamp.
* ``timestamp_after(days=0, hours=0, minutes=0, seconds=0)``: now plus that
  much time, as an ISO 8601 UTC timestamp (use it in timeDate timers).
* SpiffArena's script globals (``datetime``, ``timedelta``, ``time``, ``json``,
  ``decimal``, ``uuid``, ``random``, ``calendar``, ``zoneinfo``, ``pytz``) as listed
  façades (sandbox_modules.py), and ``format(value, spec)``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import lru_cache
from types import CodeType
from typing import Any, cast

from flask_babel import gettext as _
from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)
from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from .clocks import now as engine_now
from .sandbox_builtins import BUILTINS, key
from .sandbox_limits import (
    DEFAULT_DATA,
    DEFAULT_MEMORY,
    MAX_INT_BITS,
    MAX_ITEMS,
    SANDBOX_FILENAME,
    LimitExceeded,
    MemoryLimitExceeded,
    SandboxError,
    ScriptTimeout,
    ValueTooLarge,
    catchable,
    data_size_problem,
    guard,
    run_limited,
    trusted,
    weigh,
)
from .sandbox_methods import getattr_
from .sandbox_modules import MODULES
from .sandbox_operators import (
    apply,
    binop,
    chain,
    compare,
    format_value,
    fstring,
    getitem,
    inplacevar,
    write,
)

__all__ = [
    "DEFAULT_DATA", "DEFAULT_MEMORY", "MAX_INT_BITS", "MAX_ITEMS", "SANDBOX_FILENAME",
    "LimitExceeded", "MemoryLimitExceeded", "SandboxError", "ScriptTimeout", "ValueTooLarge",
    "compile_expression", "compile_script", "data_size_problem", "run_limited",
    "sandbox_globals", "trusted", "weigh",
]


def _call(name: str, *args: ast.expr) -> ast.Call:
    """A call of one of the sandbox's own names (they start with _, so code cannot rebind them)."""
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _placed(new: ast.AST, old: ast.AST) -> Any:
    """A new node at the old node's place in the source."""
    return ast.fix_missing_locations(ast.copy_location(new, old))


def _literal(node: ast.AST) -> bool:
    """A constant or a display of constants: comparing anything with it is cheap."""
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.Tuple | ast.List | ast.Set) and \
        all(isinstance(e, ast.Constant) for e in node.elts)


def _cheap(left: ast.AST, op: ast.cmpop, right: ast.AST) -> bool:
    """A comparison that cannot walk far: with a literal (``in`` a set literal hashes)."""
    if isinstance(op, ast.Is | ast.IsNot):
        return True
    if isinstance(op, ast.In | ast.NotIn):
        return _literal(left) or (_literal(right) and not isinstance(right, ast.Set))
    return _literal(left) or _literal(right)


def _names_only(node: ast.AST) -> bool:
    """Whether an except clause names its classes (a name or a tuple of names)."""
    if isinstance(node, ast.Tuple):
        return all(isinstance(e, ast.Name) for e in node.elts)
    return isinstance(node, ast.Name)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the rewrites that make the limits hold."""

    _UNCATCHABLE = frozenset({"BaseException", "SystemExit", "KeyboardInterrupt",
                              "GeneratorExit"})

    def _refuse(self, node: ast.AST, message: str) -> ast.AST:
        """Note an error at a node and leave it as it is."""
        self.error(node, message)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        """Only named, catchable classes; the handler first re-raises a hit limit."""
        if node.type is None or {n.id for n in ast.walk(node.type)
                                 if isinstance(n, ast.Name)} & self._UNCATCHABLE:
            return self._refuse(node, "catch named errors only (e.g. except KeyError:), not "
                                      "every error: a bare except could hide the time limit")
        if not _names_only(node.type):
            return self._refuse(node, "except names the errors it catches, e.g. "
                                      "except (KeyError, ValueError):")
        node = cast(ast.ExceptHandler, super().visit_ExceptHandler(node))
        caught = cast(ast.expr, node.type)
        node.type = _placed(_call("_catchable_", caught), caught)
        node.body.insert(0, _placed(ast.Expr(_call("_guard_")), node))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        """No break, continue or return out of finally; finally first re-raises a hit limit."""
        for statement in node.finalbody:
            for inner in ast.walk(statement):
                if isinstance(inner, ast.Break | ast.Continue | ast.Return):
                    self.error(inner, "break, continue and return cannot leave a finally "
                                      "block in diagram code")
        node = cast(ast.Try, super().visit_Try(node))
        if node.finalbody:
            node.finalbody.insert(0, _placed(ast.Expr(_call("_guard_")), node.finalbody[0]))
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        """Refuse import."""
        return self._refuse(node, "import is not allowed in diagram code; use the helper "
                                  "functions")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        """Refuse from ... import."""
        return self._refuse(node, "import is not allowed in diagram code; use the helper "
                                  "functions")

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        """Refuse class definitions."""
        return self._refuse(node, "classes are not available in diagram code")

    def visit_Yield(self, node: ast.Yield) -> ast.AST:
        """Refuse generator functions."""
        return self._refuse(node, "yield is not available in diagram code; use a list")

    def visit_YieldFrom(self, node: ast.YieldFrom) -> ast.AST:
        """Refuse generator functions."""
        return self._refuse(node, "yield is not available in diagram code; use a list")

    def visit_With(self, node: ast.With) -> ast.AST:
        """Refuse with statements."""
        return self._refuse(node, "with is not available in diagram code")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        """Refuse print (RestrictedPython would collect its output)."""
        if node.id in ("print", "printed"):
            return self._refuse(node, "print is not available in diagram code: set a "
                                      "variable instead")
        return cast(ast.AST, super().visit_Name(node))

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """At most one *args and one **kwargs per call."""
        if sum(isinstance(a, ast.Starred) for a in node.args) > 1 or \
                sum(k.arg is None for k in node.keywords) > 1:
            return self._refuse(node, "a call may unpack one *list and one **dict")
        return cast(ast.AST, super().visit_Call(node))

    def _no_star(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        """Refuse *unpacking in a list, tuple or set display."""
        if isinstance(getattr(node, "ctx", ast.Load()), ast.Load) and \
                any(isinstance(e, ast.Starred) for e in node.elts):
            self.error(node, "*unpacking inside [...], (...) or {...} is not available in "
                             "diagram code: join lists with +")

    def visit_List(self, node: ast.List) -> ast.AST:
        """A list display, without *unpacking."""
        self._no_star(node)
        return cast(ast.AST, super().visit_List(node))

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        """A tuple display, without *unpacking (unpacking targets may use it)."""
        self._no_star(node)
        return cast(ast.AST, super().visit_Tuple(node))

    def visit_Set(self, node: ast.Set) -> ast.AST:
        """A set display: its members are checked before they are hashed."""
        self._no_star(node)
        node = cast(ast.Set, super().visit_Set(node))
        node.elts = [e if isinstance(e, ast.Constant) else _placed(_call("_key_", e), e)
                     for e in node.elts]
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        """A dict display: its keys are checked before they are hashed."""
        node = cast(ast.Dict, super().visit_Dict(node))
        node.keys = [k if k is None or isinstance(k, ast.Constant)
                     else _placed(_call("_key_", k), k) for k in node.keys]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        """A set comprehension: each member is checked before it is hashed."""
        node = cast(ast.SetComp, super().visit_SetComp(node))
        node.elt = _placed(_call("_key_", node.elt), node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        """A dict comprehension: each key is checked before it is hashed."""
        node = cast(ast.DictComp, super().visit_DictComp(node))
        node.key = _placed(_call("_key_", node.key), node.key)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """Every binary operator becomes _binop_(op, a, b)."""
        visited = cast(ast.AST, super().visit_BinOp(node))
        if not isinstance(visited, ast.BinOp):
            return visited
        return _placed(_call("_binop_", ast.Constant(type(visited.op).__name__),
                             visited.left, visited.right), visited)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """A comparison that could walk two large values becomes _compare_ or _chain_."""
        node = cast(ast.Compare, super().visit_Compare(node))
        sides = [node.left, *node.comparators]
        if all(_cheap(a, op, b) for a, op, b in zip(sides, node.ops, sides[1:], strict=False)):
            return node
        ops = [type(op).__name__ for op in node.ops]
        if len(ops) == 1:
            return _placed(_call("_compare_", node.left, ast.Constant(ops[0]),
                                 node.comparators[0]), node)
        no_args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                kw_defaults=[], kwarg=None, defaults=[])
        rest = ast.Tuple(elts=[ast.Tuple(elts=[ast.Constant(op), ast.Lambda(no_args, right)],
                                         ctx=ast.Load())
                               for op, right in zip(ops, node.comparators, strict=True)],
                         ctx=ast.Load())
        return _placed(_call("_chain_", node.left, rest), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        """An f-string becomes _fstring_ over _format_ of each value."""
        node = cast(ast.JoinedStr, super().visit_JoinedStr(node))
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = value.format_spec if value.format_spec is not None \
                    else ast.Constant("")
                value = _placed(_call("_format_", value.value,
                                      ast.Constant(value.conversion), spec), value)
            parts.append(value)
        return _placed(_call("_fstring_", ast.List(elts=parts, ctx=ast.Load())), node)


def _run_time_names() -> dict[str, Any]:
    """The functions the rewritten code calls, by the names the policy gives them."""
    return {
        "__builtins__": BUILTINS,
        "_getattr_": getattr_,
        "_getitem_": getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": write,
        "_inplacevar_": inplacevar,
        "_binop_": binop,
        "_compare_": compare,
        "_chain_": chain,
        "_key_": key,
        "_format_": format_value,
        "_fstring_": fstring,
        "_guard_": guard,
        "_catchable_": catchable,
        "_apply_": apply,
    }


def now() -> str:
    """Return the current time as an ISO 8601 UTC timestamp."""
    return engine_now().isoformat()


def timestamp_after(days: float = 0, hours: float = 0, minutes: float = 0,
                    seconds: float = 0) -> str:
    """Return now plus the given time as an ISO 8601 UTC timestamp."""
    delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return (engine_now() + delta).isoformat()


def format_(value: Any, spec: str = "") -> str:
    """format(value, spec), with the checks of an f-string."""
    return format_value(value, -1, spec)


HELPERS: dict[str, Any] = {"now": now, "timestamp_after": timestamp_after, "format": format_,
                           **MODULES}


def sandbox_globals(extra_helpers: dict[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Return the names sandboxed code sees besides its own data."""
    names = _run_time_names()
    names.update(HELPERS)
    names.update(extra_helpers or {})
    return names


def _errors_to_message(errors: Sequence[str]) -> str:
    """RestrictedPython's errors as one message, naming the expression."""
    return "; ".join(e.replace(SANDBOX_FILENAME, "expression") for e in errors)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression under the sandbox policy, or raise SandboxError."""
    try:
        result = compile_restricted_eval(source.strip(), SANDBOX_FILENAME, policy=_Policy)
    except SyntaxError as exc:
        raise SandboxError(_("syntax error: %(error)s", error=exc.msg)) from None
    if result.errors or result.code is None:
        raise SandboxError(_errors_to_message(result.errors))
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile a script under the sandbox policy, or raise SandboxError."""
    try:
        result = compile_restricted_exec(source, SANDBOX_FILENAME, policy=_Policy)
    except SyntaxError as exc:
        raise SandboxError(_("syntax error on line %(line)s: %(error)s", line=exc.lineno,
                             error=exc.msg)) from None
    if result.errors or result.code is None:
        raise SandboxError(_errors_to_message(result.errors))
    return result.code
