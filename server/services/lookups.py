"""Configuration read once per run: a timer sweep, a step, a preview job.

The policy's targets, the calendar and its dates, the zone and Hijri setting, webhook
subscriptions and who holds a role are read on every call outside a run, so a change saved
in any process applies to the next deadline or message (DESIGN decision 8). Within
`read_once()` each is read on first use and reused until the block ends: the run sees the
settings as they were when it first asked, the next run reads them again. Nothing read
here outlives its block, so no cache has to be invalidated across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("plaint_lookups", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within the block (this context only), read each configuration lookup once."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def reads_once(func: Callable[P, T]) -> Callable[P, T]:
    """Run each call of `func` (a step) within its own read_once() block."""

    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with read_once():
            return func(*args, **kwargs)

    return run


def active() -> bool:
    """Whether a read_once() block is open in this context."""
    return _MEMO.get() is not None


def once(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`'s answer, read once per read_once() block (every time outside one)."""
    memo = _MEMO.get()
    if memo is None:
        return load()
    try:
        return memo[key]  # type: ignore[no-any-return]
    except KeyError:
        value = memo[key] = load()
        return value


def forget() -> None:
    """Drop what this block has read: its own write changed the configuration."""
    memo = _MEMO.get()
    if memo is not None:
        memo.clear()
