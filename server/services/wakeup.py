"""Waking schedulers in other processes at once on PostgreSQL: NOTIFY and LISTEN.

A step that writes a timer, and a sweep that gives a claim back, say so on the channel
``plaint_timers`` in their own transaction (PostgreSQL delivers a NOTIFY at the commit,
and never for a transaction that rolled back), with the due time and the writing process
as the payload. Every scheduler listens on a connection of its own, outside the pool, and
moves its next sweep to that time, unless the note came from its own process (the
``timers_written`` signal wakes it for those). Without PostgreSQL, or while its
connection is down, a scheduler still wakes within PLAINT_SCHEDULER_MAX_SLEEP.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ..extensions import db

log = logging.getLogger(__name__)
CHANNEL = "plaint_timers"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :due)")
POLL = 1.0  # seconds between looks at the stop flag while no notification comes


def notify(due_at: datetime) -> None:
    """Tell the other processes' schedulers, at this transaction's commit, of a due time."""
    if db.engine.dialect.name != "postgresql":
        return
    from .timers import worker_name

    db.session.execute(_NOTIFY, {"due": f"{_aware(due_at).isoformat()} {worker_name()}"})


class Listener(threading.Thread):
    """LISTENs on a dedicated connection and calls `wake(due_at)` for every notification."""

    def __init__(self, engine: Engine, wake: Callable[[datetime], None],
                 retry_after: float, worker: str) -> None:
        super().__init__(name="plaint-timer-listener", daemon=True)
        self.engine = engine
        self.worker = worker  # notes from this process are ignored
        self.wake = wake
        self.retry_after = retry_after
        self.listening = threading.Event()  # set while LISTEN is in force
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Stop listening; returns once the thread ended (within POLL seconds)."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=POLL * 3)

    def run(self) -> None:
        """Listen until stopped; reconnect after a failure, PLAINT_SCHEDULER_MAX_SLEEP on."""
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:  # the database went away: sweeps go on at MAX_SLEEP meanwhile
                log.exception("timer listener lost its connection; reconnecting in %ss",
                              self.retry_after)
            self.listening.clear()
            self._stopping.wait(self.retry_after)

    def _listen(self) -> None:
        pooled = self.engine.raw_connection()
        conn: Any = pooled.driver_connection
        pooled.detach()  # its own connection for as long as it listens, never back to the pool
        try:
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            while not self._stopping.is_set():
                for note in conn.notifies(timeout=POLL):
                    due, _space, sender = note.payload.partition(" ")
                    if sender != self.worker:
                        self.wake(_parse(due))
        finally:
            conn.close()


def _parse(payload: str) -> datetime:
    """The due time a notification carries (now, when it carries none that parses)."""
    try:
        return _aware(datetime.fromisoformat(payload))
    except ValueError:
        return datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
