"""The engine part of firing timers: inline, or in a pool of worker processes in a burst.

A timer sweep (services/timers.py) reads its claimed cases without the write lock, has
the engine load each one, fire its due timers and dump it here, and only then takes the
lock to record the steps. The engine part is most of a step's time and needs nothing
but the case's state, its process version and the policy and calendar rows the deadline
helpers read, so in a burst it can run in PLAINT_SCHEDULER_PROCESSES worker processes
when that is set, while this process records the batch before.

The pool is started on first use with `spawn`: the scheduler process holds APScheduler's
threads and SQLAlchemy's connections, which a forked child would share half-copied. Each
worker builds the app from this app's settings (its own engine and connections, only
reading) and keeps it for its life; the sandbox's limits hold there as here (they are a
trace function and the worker's own memory). What comes back is the new state and the
Snapshot, or the failure as the incident will word it. Rather than wait for a worker,
this process takes back the last chunk of runs no worker has begun and runs it itself.
The workers run at a lower CPU priority than this process: its recording is the burst's
critical path, and they keep ahead of it on what CPU is left (timers.sweep claims ahead).
A worker that dies breaks the pool: the cases it held, and all later ones, run inline.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from flask import Flask, current_app

from ..engine import EngineError, Snapshot
from ..extensions import db
from . import incidents, lookups
from .processes import runtime_for

log = logging.getLogger(__name__)
POOL = "plaint.engine_pool"
BROKEN = "plaint.engine_pool_broken"
# Cases one worker task fires: large enough that pickling and the round trip are a small
# part of it, small enough that both workers stay busy to the end of a write batch.
CHUNK = 4
# Fewer cases than this in a sweep's claim run inline: a pool round trip would cost more.
POOL_FROM = 2 * CHUNK
# How much lower an engine worker's CPU priority is than its scheduler's (see _start_worker).
WORKER_NICENESS = 10


@dataclass(slots=True)
class Fired:
    """One case's engine run: its new state and snapshot, nothing due yet, or a failure."""

    state: bytes | None = None
    snapshot: Snapshot | None = None
    error: Exception | None = None


class FailedInWorker(EngineError):
    """A case's engine run failed in a worker process: its words, as the incident shows them."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (FailedInWorker, (str(self), self.element_id, self.element_name))


def fire(version_id: int, state: bytes) -> Fired:
    """Load a case's state, fire its due timers and dump it again (no database writes)."""
    runtime = runtime_for(version_id)
    workflow = runtime.load(state)
    snapshot = runtime.fire_timers(workflow)
    if not snapshot.fired:
        return Fired()
    return Fired(runtime.dump(workflow), snapshot)


class Runs:
    """The engine runs of a sweep's claimed cases, started at once, read case by case."""

    def __init__(self, jobs: dict[int, tuple[int, bytes]]) -> None:
        self._jobs = jobs
        self._done: dict[int, Fired] = {}
        self._futures: dict[int, Future[list[tuple[int, Fired]]]] = {}
        self._chunks: list[tuple[Future[list[tuple[int, Fired]]], list[int]]] = []
        pool = _pool() if len(jobs) >= POOL_FROM else None
        if pool is None:
            return
        ids = list(jobs)
        try:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                future = pool.submit(_fire_chunk, [(case_id, *jobs[case_id]) for case_id in chunk])
                self._futures.update(dict.fromkeys(chunk, future))
                self._chunks.append((future, chunk))
        except BrokenProcessPool:
            _broken()  # what was not submitted runs inline

    def outcome(self, case_id: int) -> Fired:
        """The engine run of one case: from its worker, else run here and now (inline).

        Rather than wait for a worker, this process takes back the last chunk no worker
        has begun and runs it itself (while the workers are busy, or still starting).
        """
        while case_id not in self._done:
            future = self._futures.get(case_id)
            if future is None:  # not sent to a worker, or the pool broke
                return _guarded(*self._jobs[case_id])
            if not future.done() and self._take_back():
                continue
            try:
                self._done.update(future.result())
            except BrokenProcessPool:
                _broken()
                self._futures.clear()
                continue
            del self._futures[case_id]
        return self._done.pop(case_id)

    def _take_back(self) -> bool:
        """Run here the last chunk no worker has begun; whether there was one."""
        while self._chunks:
            future, chunk = self._chunks.pop()
            if future.done() or future.running():
                self._chunks.append((future, chunk))
                return False  # the workers take chunks in order: all before it have begun
            if future.cancel():
                for case_id in chunk:
                    del self._futures[case_id]
                    self._done[case_id] = _guarded(*self._jobs[case_id])
                return True
        return False

    def cancel(self) -> None:
        """Drop the runs not yet read (the sweep stopped early)."""
        for future in set(self._futures.values()):
            future.cancel()
        self._futures.clear()
        self._chunks.clear()


def _guarded(version_id: int, state: bytes) -> Fired:
    try:
        return fire(version_id, state)
    except Exception as exc:  # whatever one case does, the batch goes on
        return Fired(error=exc)


def processes(app: Flask) -> int:
    """How many worker processes fire timers for this app (0 or 1: none, inline).

    Inline unless PLAINT_SCHEDULER_PROCESSES asks for more: with no configuration Plaint
    is one process (DESIGN decision 13), and the in-app scheduler runs in every web
    worker. A dedicated `flask scheduler` on SQLite, the one process firing every timer,
    is where a pool pays (about 1.6x on 2 cores); on PostgreSQL one runs more schedulers
    instead, each inline, since a pool in each would share the same cores.
    """
    value: int | None = app.config.get("PLAINT_SCHEDULER_PROCESSES")
    return 1 if value is None else value


_LOCK = threading.Lock()


def _pool() -> ProcessPoolExecutor | None:
    """This app's pool of engine workers once they are ready (None: fire inline for now).

    The first call starts the workers; they take seconds to import and build the app,
    and the sweeps fire inline meanwhile rather than wait for them.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    wanted = processes(app)
    if wanted <= 1 or app.extensions.get(BROKEN):
        return None
    with _LOCK:
        started: tuple[ProcessPoolExecutor, list[Future[None]]] | None = app.extensions.get(POOL)
        if started is None:
            pool = ProcessPoolExecutor(max_workers=wanted, mp_context=get_context("spawn"),
                                       initializer=_start_worker,
                                       initargs=(_settings(app),))
            started = pool, [pool.submit(_ready) for _ in range(wanted)]
            app.extensions[POOL] = started
            log.info("timer firing: starting %d engine worker processes", wanted)
    pool, warming = started
    if not all(future.done() for future in warming):
        return None
    if any(future.exception() is not None for future in warming):
        _broken()
        return None
    return pool


def workers_ready() -> bool:
    """Start this app's engine workers if they are not started; whether they are ready."""
    return _pool() is not None


def _ready() -> None:
    """In a worker: nothing; its answer says the worker has started."""


def _broken() -> None:
    """A worker died: drop the pool and fire inline from now on in this process.

    A worker that dies of what it ran (the machine's memory ran out) would die again in
    a new pool; one that cannot start (a script without a __main__ guard, which `spawn`
    imports again in the worker) would never start.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions[BROKEN] = True
    if shutdown(app):
        log.error("an engine worker process died; timers fire inline in this process from now "
                  "on (PLAINT_SCHEDULER_PROCESSES)")


def shutdown(app: Flask) -> bool:
    """Stop this app's engine workers, if any run; whether there were any."""
    with _LOCK:
        started: tuple[ProcessPoolExecutor, Any] | None = app.extensions.pop(POOL, None)
    if started is None:
        return False
    started[0].shutdown(wait=True, cancel_futures=True)
    return True


def _settings(app: Flask) -> dict[str, Any]:
    """The settings a worker builds its app from: this app's, those that can travel."""
    settings = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: S112 - a setting only this process uses (an object)
            continue
        settings[key] = value
    # A worker only runs the engine: never a scheduler of its own, nor another pool.
    settings.update(PLAINT_SCHEDULER="off", PLAINT_SCHEDULER_PROCESSES=0)
    return settings


_WORKER_APP: Flask | None = None


def _start_worker(settings: dict[str, Any]) -> None:
    """Build this worker's app once; its app context stays pushed for the worker's life."""
    global _WORKER_APP
    from .. import create_app

    # Ctrl+C reaches the whole process group: the scheduler stops its workers itself,
    # after the sweep under way, rather than see them die in the middle of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:  # a scheduler killed outright leaves no worker behind
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    _WORKER_APP = create_app(settings)
    _WORKER_APP.app_context().push()
    # The scheduler records what the workers fire, one case at a time, under the write lock:
    # that is a burst's critical path, so it (and the web workers) get the CPU first and the
    # workers the rest; it takes back runs no worker has begun when they fall behind. Only
    # once started: on a busy machine a worker starting at low priority would not be ready
    # for the burst.
    os.nice(WORKER_NICENESS)
    log.debug("engine worker %s ready", os.getpid())


def _exit_with(sentinel: int) -> None:
    """In a worker: wait for the scheduler process to end, then end too."""
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _fire_chunk(jobs: Sequence[tuple[int, int, bytes]]) -> list[tuple[int, Fired]]:
    """In a worker: the engine runs of a few cases, each failure worded for its incident."""
    try:
        with lookups.read_once():
            return list(_each(jobs))
    finally:
        db.session.remove()  # no read transaction left open between chunks


def _each(jobs: Sequence[tuple[int, int, bytes]]) -> Iterator[tuple[int, Fired]]:
    for case_id, version_id, state in jobs:
        fired = _guarded(version_id, state)
        if fired.error is not None:
            error = fired.error
            fired = Fired(error=FailedInWorker(
                incidents.describe(error), getattr(error, "element_id", None),
                getattr(error, "element_name", None)))
        yield case_id, fired
