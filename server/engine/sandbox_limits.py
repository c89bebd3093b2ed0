"""The limits diagram code runs under: time, memory, and the size of what it builds.

A run (run_limited) installs a trace function for its thread. The trace function is
called on every line of diagram code and on every Python call made during the run
(our wrappers and helpers included), and stops the run once its time is up or once
the process has grown by more than its memory allowance. A single C call cannot run
long or build much: every builtin and method diagram code can reach either does
bounded work or is wrapped (sandbox_builtins.py) so that it checks sizes first.

Nothing can catch a limit. The errors derive from BaseException, diagram code can
only name ordinary errors in ``except``, every handler first asks `guard()`, which
raises again once a limit was hit (and puts the trace function back should CPython
have turned it off), and every ``finally`` body starts with the same call.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import wraps
from types import FrameType
from typing import Any, cast

SANDBOX_FILENAME = "<plaint-sandbox>"
MB = 1024 * 1024
MAX_ITEMS = 1_000_000  # items or characters one operation may build or walk through
MAX_WALK = 4 * MAX_ITEMS  # characters a comparison, hash or sort may walk through
MAX_INT_BITS = 100_000  # bits of an integer one operation may build
MAX_DEPTH = 100  # nesting of lists, dicts and tuples that comparisons and saving accept
DEFAULT_MEMORY = 64 * MB  # growth of the process one run may cause
DEFAULT_DATA = 1 * MB  # case data one step may leave, as JSON
TRUSTED_SECONDS = 3.0  # one call of a trusted helper may take this, or twice the limit
_SAMPLE_EVERY = 0.004  # seconds between two looks at the process's memory


class SandboxError(Exception):
    """Diagram code was refused or failed inside the sandbox."""


class LimitExceeded(BaseException):
    """Diagram code hit a limit; a BaseException so that diagram code cannot catch it."""


class ScriptTimeout(LimitExceeded):
    """Diagram code ran past its time limit."""


class MemoryLimitExceeded(LimitExceeded):
    """Diagram code made the process grow by more than its allowance."""


class ValueTooLarge(LimitExceeded):
    """One operation would build, or walk through, a value over the size limit."""


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


_statm: tuple[int, int] | None = None  # (pid, descriptor of /proc/self/statm) once opened


def resident_bytes() -> int | None:
    """The process's resident memory now (None where /proc is missing)."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:  # opened by this process, not its parent
        try:
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY))
        except OSError:
            return None
    return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGE


class _Run:
    """The state of one limited run on one thread."""

    __slots__ = (
        "checkpoint",
        "deadline",
        "failed",
        "global_trace",
        "local_trace",
        "memory",
        "rss_base",
        "seconds",
        "trusted_seconds",
        "trusted_since",
    )

    def __init__(self, seconds: float, memory: int) -> None:
        now = time.monotonic()
        self.seconds = seconds
        self.trusted_seconds = max(TRUSTED_SECONDS, 2 * seconds)
        self.deadline = now + seconds
        self.checkpoint = min(self.deadline, now + _SAMPLE_EVERY)
        self.memory = memory
        self.rss_base = resident_bytes()
        self.failed: LimitExceeded | None = None
        self.trusted_since: float | None = None
        self.global_trace: Callable[..., Any] | None = None
        self.local_trace: Callable[..., Any] | None = None

    def check(self) -> None:
        """Raise once the run is out of time or memory; called when checkpoint passed."""
        if self.failed is not None:
            raise type(self.failed)(*self.failed.args)
        now = time.monotonic()
        if self.trusted_since is not None:
            # Helpers are allowed their own time (and their first-use allocations).
            if now - self.trusted_since > self.trusted_seconds:
                self.fail(ScriptTimeout(f"a helper called by diagram code ran longer than "
                                        f"{self.trusted_seconds:g} s"))
            self.checkpoint = now + _SAMPLE_EVERY
            return
        if now > self.deadline:
            self.fail(ScriptTimeout(f"stopped after running longer than {self.seconds:g} s"))
        if self.rss_base is not None:
            rss = resident_bytes()
            if rss is not None and rss - self.rss_base > self.memory:
                self.fail(MemoryLimitExceeded(
                    f"stopped after using more than {self.memory / MB:g} MB of memory"))
        self.checkpoint = min(self.deadline, now + _SAMPLE_EVERY)

    def fail(self, exc: LimitExceeded) -> None:
        """Remember the limit that was hit (every later guard raises it again) and raise."""
        self.failed = exc
        self.checkpoint = -math.inf
        raise exc


_local = threading.local()


def current_run() -> _Run | None:
    """The limited run on this thread, if any."""
    return getattr(_local, "run", None)


def tick() -> None:
    """A checkpoint for loops in our own code that make no Python calls."""
    run = getattr(_local, "run", None)
    if run is None:
        raise ScriptTimeout("diagram code can only run under its limits")
    if time.monotonic() > run.checkpoint:
        run.check()


def guard() -> None:
    """Start of every except handler and finally body: re-raise a hit limit, re-arm tracing.

    CPython turns tracing off for the thread when a trace function raises (the time
    limit itself, or a RecursionError inside the trace function); code that is still
    allowed to run gets the trace function back before it goes on.
    """
    run = getattr(_local, "run", None)
    if run is None:
        raise ScriptTimeout("diagram code can only run under its limits")
    if time.monotonic() > run.checkpoint:
        run.check()
    if sys.gettrace() is not run.global_trace:
        sys.settrace(run.global_trace)
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == SANDBOX_FILENAME and frame.f_trace is None:
                frame.f_trace = run.local_trace
            frame = frame.f_back


def catchable(types: Any) -> Any:
    """The classes an ``except`` clause may really catch: never a limit.

    Called while an exception is being matched, before the handler runs: a limit hit
    is raised again here; BaseException (however it was reached) becomes Exception;
    anything that is not an exception class catches nothing.
    """
    guard()
    wanted = types if isinstance(types, tuple) else (types,)
    return tuple(_safe_class(t) for t in wanted)


class _NeverRaised(Exception):
    """Stands in for what an except clause named that may not be caught."""


def _safe_class(cls: Any) -> type[BaseException]:
    """The class an except clause may use in place of cls."""
    if not (isinstance(cls, type) and issubclass(cls, BaseException)) \
            or issubclass(cls, LimitExceeded):
        return _NeverRaised
    if issubclass(LimitExceeded, cls):
        return Exception  # BaseException, however diagram code got hold of it
    return cls if issubclass(cls, Exception) else _NeverRaised


def run_limited(fn: Callable[[], Any], seconds: float, memory: int = DEFAULT_MEMORY) -> Any:
    """Call fn, stopping the diagram code it runs once `seconds` have passed.

    Also stopped when the process grows by more than `memory` bytes during the run.
    Time spent inside `trusted` helpers is not counted (each call has its own allowance).
    """
    run = _Run(seconds, memory)

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        """Called on every line of diagram code."""
        if time.monotonic() > run.checkpoint:
            run.check()
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        """Called on every Python call during the run."""
        # Our wrappers and helpers are checkpoints too, so a C loop that calls back
        # into Python (map over a wrapped method, say) is stopped as well.
        if time.monotonic() > run.checkpoint:
            run.check()
        if frame.f_code.co_filename == SANDBOX_FILENAME:
            return local_trace
        return None

    run.global_trace, run.local_trace = global_trace, local_trace
    outer, previous = current_run(), sys.gettrace()
    _local.run = run
    sys.settrace(global_trace)
    try:
        return fn()
    finally:
        sys.settrace(previous)
        _local.run = outer


def trusted(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a helper so its running time does not count against the script's limit.

    The limit stops runaway diagram code; a helper such as deadline() may read the
    database or build a holiday calendar for the first time, and that is not the
    diagram's doing. A helper call is still stopped after max(TRUSTED_SECONDS, twice
    the limit), at its next Python call: diagram code can pass it arguments that make
    it loop (working_days(10**9)).
    """
    @wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        """The helper, timed apart from the script."""
        run = current_run()
        if run is None or run.trusted_since is not None:
            return fn(*args, **kwargs)
        start = run.trusted_since = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            run.trusted_since = None
            run.deadline += time.monotonic() - start

    return call


# --- sizes -------------------------------------------------------------------------

_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))
_CONTAINERS = (dict, list, tuple, set, frozenset, BaseException)
# Kept in task data: the serializer stores the first three, the rest become text.
_STORABLE = frozenset({"datetime", "timedelta", "UUID", "date", "time", "Decimal"})


class _Weigher:
    """The size of a value written out in full (repr or JSON): characters, roughly.

    Shared parts are weighed once but counted every time they appear, as repr, ==,
    hash and json.dumps would walk them; a value that contains itself or nests deeper
    than MAX_DEPTH is refused, since those walks would recurse without end (hashing a
    deeply nested tuple crashes CPython).
    """

    def __init__(self, limit: int, what: str, json: bool = False) -> None:
        self.limit, self.what, self.json = limit, what, json
        self.memo: dict[int, int] = {}
        self.open: set[int] = set()
        self.steps = 0

    def too_large(self, size: int) -> ValueTooLarge:
        """The error for a value over the limit."""
        return ValueTooLarge(f"{self.what} would be larger than {self.limit:,} characters "
                             f"(about {size:,})")

    def weigh(self, value: Any, depth: int = 0) -> int:
        """The written-out size of value; raise ValueTooLarge above the limit."""
        kind = type(value)
        if kind is str:
            return len(value) + 2 if not self.json or value.isascii() else 6 * len(value) + 2
        if kind is int:
            return value.bit_length() * 31 // 100 + 2
        if kind in (float, bool, type(None)):
            return 24
        if kind in (bytes, bytearray):
            return 4 * len(value) + 3
        key = id(value)
        if key in self.memo:
            return self.memo[key]
        if key in self.open:
            raise ValueTooLarge(f"{self.what} contains itself")
        if depth > MAX_DEPTH:
            raise ValueTooLarge(f"{self.what} nests deeper than {MAX_DEPTH} levels")
        self.open.add(key)
        size = self._container(value, depth + 1)
        self.open.discard(key)
        self.memo[key] = size
        return size

    def _container(self, value: Any, depth: int) -> int:
        """The written-out size of a list, tuple, set, dict, view or exception."""
        if self.json and (callable(value) or isinstance(value, (Iterator, range, *_VIEWS))):
            # The serializer cannot store these: say so now, not with a failed save.
            raise ValueTooLarge(f"{self.what} is or holds a {type(value).__name__}, which "
                                "is not data")
        if self.json and not isinstance(value, _CONTAINERS) and \
                type(value).__name__ not in _STORABLE:
            raise ValueTooLarge(f"{self.what} is or holds a {type(value).__name__}, which "
                                "is not data: store str(value)")
        if self.json and isinstance(value, dict) and "typename" in value:
            raise ValueTooLarge(f"{self.what} has a key 'typename', which the workflow "
                                "engine keeps for itself: use another name")
        if isinstance(value, dict):
            items: Iterable[Any] = (x for pair in value.items() for x in pair)
        elif isinstance(value, list | tuple | set | frozenset):
            items = value
        elif isinstance(value, _VIEWS):
            items = (cast(Any, value).mapping,)
        elif isinstance(value, BaseException):
            items = value.args
        else:
            return 64  # functions, ranges, iterators: a short repr
        size = 2
        for item in items:
            size += self.weigh(item, depth) + 2
            if size > self.limit:
                raise self.too_large(size)
            self.steps += 1
            if self.steps & 0x3FF == 0 and current_run() is not None:
                tick()
        return size


def weigh(what: str, *values: Any, limit: int = MAX_WALK) -> int:
    """The written-out size of values together; refuse above limit characters.

    Walks (==, <, hashing, sorting) are allowed MAX_WALK, which is more than what one
    operation may build (MAX_ITEMS): they make nothing new.
    """
    weigher = _Weigher(limit, what)
    total = 0
    for value in values:
        total += weigher.weigh(value)
        if total > limit:
            raise weigher.too_large(total)
    return total


def data_size_problem(data: Mapping[str, Any], limit: int) -> str | None:
    """Why the data cannot be saved (too large, too deep, not data), or None."""
    weigher = _Weigher(limit, "the case data", json=True)
    weigh_value = weigher.weigh
    total, sizes = 0, {}
    for name, value in data.items():
        kind = type(value)
        try:
            # Text and numbers weighed here as _Weigher.weigh weighs them (most case data
            # is flat): a method call per value cost more than the weighing.
            if kind is str:
                size = (len(value) if value.isascii() else 6 * len(value)) + 6 + len(name)
            elif kind is int:
                size = value.bit_length() * 31 // 100 + 6 + len(name)
            else:
                size = weigh_value(value) + len(name) + 4
        except ValueTooLarge as exc:
            if "larger than" not in str(exc):
                return f"'{name}' cannot be saved: {str(exc).replace('the case data', 'it')}"
            size = limit + 1
        sizes[name] = size
        total += size
        if total > limit:
            name = max(sizes, key=sizes.__getitem__)
            return (f"the case data would take more than the {_bytes(limit)} limit; "
                    f"'{name}' alone takes {'more than ' if sizes[name] > limit else ''}"
                    f"{_bytes(min(sizes[name], limit))}")
    return None


def _bytes(n: int) -> str:
    """A byte count as people read it."""
    return f"{n / MB:g} MB" if n >= MB else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"
