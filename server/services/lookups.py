"""Configuration read once per run: a timer sweep, a step, a request, a preview job.

Within `read_once()` each lookup is read on first use and reused until the block ends: the
run sees the configuration as it was when it first asked, the next run asks again.

The settings (policy targets, the calendar and its dates, the zone and Hijri switch,
webhook subscriptions, team routes, code lists, and who may own cases: accounts' switch,
name and roles) are also kept per process, under the database's settings stamp
(migrations 0040 and 0041): triggers renew the stamp in the same transaction as any write
to those tables, in any process. A run reads the stamp once, and reads a setting again
only when the stamp it saw has nothing cached, so a change saved in any process applies
to the next run (DESIGN decision 8) for the price of one small query.
Other lookups (who holds a role, titles from deployed forms) never outlive their block.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from threading import Lock
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import ScalarSelect, column, select, table

from ..extensions import db

T = TypeVar("T")
P = ParamSpec("P")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("plaint_lookups", default=None)
_STAMPS = table("settings_stamp", column("id"), column("stamp"))
_READ_STAMP = select(_STAMPS.c.stamp).where(_STAMPS.c.id == 1)
_STAMP_KEY = ("lookups.stamp",)
# Settings by stamp; a few stamps are kept, as several databases can share a process (tests).
_SHARED: dict[str, dict[Hashable, Any]] = {}
_KEEP = 4
_LOCK = Lock()
# Set by a migration older than the stamp's (0040) that runs today's services: no stamp yet.
_DIRECT: ContextVar[bool] = ContextVar("plaint_settings_direct", default=False)


@contextmanager
def read_once(stamp: str | None = None) -> Iterator[None]:
    """Within the block (this context only), read each configuration lookup once.

    `stamp` is the settings stamp as the run's first read saw it (`stamp_column` read with
    the case), so that the run does not read it again.
    """
    token = _MEMO.set({} if stamp is None else {_STAMP_KEY: stamp})
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


def setting(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`'s answer for a setting, kept per process while the settings stamp holds.

    `load` must read only the stamped tables (migration 0040), and its answer is shared by
    every run and thread of the process: callers must not change it.
    """
    if _DIRECT.get():
        return once(key, load)
    memo = _MEMO.get()
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    values = _values(_stamp(memo))
    try:
        value = values[key]
    except KeyError:
        value = values[key] = load()
    if memo is not None:
        memo[key] = value
    return value  # type: ignore[no-any-return]


@contextmanager
def settings_read_directly() -> Iterator[None]:
    """Within the block, settings are read from their tables and not kept: for a migration
    older than the settings stamp (0040) that runs today's services on its database."""
    token = _DIRECT.set(True)
    try:
        yield
    finally:
        _DIRECT.reset(token)


def stamp_column() -> ScalarSelect[str]:
    """The settings stamp as a column, for a run to read it with its first query."""
    return _READ_STAMP.scalar_subquery()


def _stamp(memo: dict[Hashable, Any] | None) -> str:
    """The settings stamp, read once per read_once() block (on every call outside one).

    Once per block, like every lookup: what the block first reads may be a few
    milliseconds old by its end, never older than the block.
    """
    if memo is not None and _STAMP_KEY in memo:
        return memo[_STAMP_KEY]  # type: ignore[no-any-return]
    stamp = str(db.session.connection().execute(_READ_STAMP).scalar_one())
    if memo is not None:
        memo[_STAMP_KEY] = stamp
    return stamp


def _values(stamp: str) -> dict[Hashable, Any]:
    """The settings cached under a stamp (a new, empty cache for a stamp not seen yet)."""
    with _LOCK:
        values = _SHARED.get(stamp)
        if values is None:
            if len(_SHARED) >= _KEEP:
                del _SHARED[next(iter(_SHARED))]  # the oldest stamp seen
            values = _SHARED[stamp] = {}
        return values


def forget() -> None:
    """Drop what this block has read: its own write changed the configuration."""
    memo = _MEMO.get()
    if memo is not None:
        memo.clear()
