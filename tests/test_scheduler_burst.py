"""Timer bursts: many cases due at once fire in batches, on several schedulers at once,
and a scheduler asleep in another process is woken by PostgreSQL's NOTIFY."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import Case, CaseEvent, Incident, Timer, utcnow
from server.services import audit, cases, reporting, timers

from .support.data import HANDLER, INTAKE
from .support.wait import wait_for
from .test_scheduler import CHAIN, fired_per_case, overdue_cases, scheduler_process


def test_two_schedulers_fire_a_burst_each_timer_exactly_once(app: Flask, app_ctx: None,
                                                             backend: str) -> None:
    ids = overdue_cases(300)
    start = threading.Barrier(2)
    results: dict[str, timers.SweepResult] = {}

    def scheduler(worker: str) -> None:
        with app.app_context():  # a session, and so a connection, of its own
            start.wait()
            results[worker] = timers.sweep(worker=worker, limit=20)
            db.session.remove()

    threads = [threading.Thread(target=scheduler, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert fired_per_case() == dict.fromkeys(ids, CHAIN), "every timer fires once, none twice"
    assert sum(r.fired for r in results.values()) == 3 * len(ids)
    assert db.session.scalar(select(func.count()).select_from(Timer)
                             .where(Timer.due_at <= utcnow())) == 0
    if backend == "postgresql":  # SKIP LOCKED: both took batches side by side
        assert all(r.fired for r in results.values()), results


def test_a_case_failing_half_way_through_its_write_becomes_an_incident_and_the_batch_fires(
        app: Flask, app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = overdue_cases(12)
    broken = ids[0]  # the case started through the services (the others are its clones)
    record = reporting.record

    def failing(case: Any, *args: Any, **kwargs: Any) -> None:
        if case.id == broken:  # after its case row, projections and history were written
            raise RuntimeError("the reporting row could not be written")
        record(case, *args, **kwargs)

    monkeypatch.setattr(reporting, "record", failing)
    result = timers.sweep()
    assert (result.cases, result.failed) == (11, 1)
    fired = fired_per_case()
    assert fired == dict.fromkeys(set(ids) - {broken}, CHAIN)
    # Nothing of the broken case's step is left: its savepoint was rolled back whole.
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == broken)
                                    .order_by(CaseEvent.seq)))
    assert kinds == ["case.received", "incident.opened"]
    assert audit.verify_case(db.session.get(Case, broken)) == []
    [incident] = db.session.scalars(select(Incident))
    assert incident.case_id == broken and incident.is_open
    assert "could not be written" in incident.error
    parked = db.session.scalars(select(Timer.claimed_until).where(Timer.case_id == broken)).all()
    assert parked and all(until is not None for until in parked)  # held, not fired again
    monkeypatch.undo()
    assert timers.sweep().claimed == 0  # the healthy cases left nothing claimed behind


@pytest.mark.parametrize("listen", ["database URL", "PLAINT_SCHEDULER_LISTEN_URL"])
def test_a_timer_written_elsewhere_wakes_a_sleeping_scheduler_by_notify(
        app: Flask, app_ctx: None, backend: str, listen: str) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite has one process")
    [first] = overdue_cases(1)
    # Another process, told to sleep an hour between sweeps when nothing is due sooner;
    # it listens on its database URL, or on one of its own (past a pooler, in production).
    direct = {"PLAINT_SCHEDULER_LISTEN_URL": app.config["SQLALCHEMY_DATABASE_URI"]} \
        if listen != "database URL" else {}
    other = scheduler_process(app, PLAINT_SCHEDULER_MAX_SLEEP="3600", **direct)
    try:
        assert wait_for(lambda: first in fired_per_case() or other.poll() is not None, 60)
        assert other.poll() is None, other.communicate()[0]

        def listening() -> bool:
            found = db.session.scalar(select(func.count()).select_from(
                text("pg_stat_activity")).where(text("query = 'LISTEN plaint_timers'")))
            db.session.rollback()
            return bool(found)

        assert wait_for(listening, 30)
        # Its first sweep is over and it sleeps until a timer days away. A case written
        # here (no scheduler in this process) with timers already due:
        with time_machine.travel(utcnow() - timedelta(days=30),
                                 tick=True):
            late = cases.start_case(dict(INTAKE), "web", HANDLER).case
        # ...is fired by the other process long before its hour of sleep is up.
        assert wait_for(lambda: late.id in fired_per_case(), 60)
        assert fired_per_case()[late.id] == CHAIN
    finally:
        other.send_signal(signal.SIGTERM)
        output = other.communicate(timeout=60)[0]
    assert "fired 6 timer(s)" in output, output
    assert Counter(k for c in fired_per_case().values() for k in c) == Counter(
        {name: 2 for name in CHAIN})


def test_a_batch_run_in_this_process_leaves_no_listener_behind(
        app: Flask, app_ctx: None, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("only PostgreSQL schedulers listen")
    [case_id] = overdue_cases(1)

    def listeners() -> list[threading.Thread]:
        return [t for t in threading.enumerate()
                if t.name == "plaint-timer-listener" and t.is_alive()]

    before = len(listeners())
    result = app.test_cli_runner().invoke(args=["scheduler", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "fired 3 timer(s)" in result.output
    assert case_id in fired_per_case()
    # The run is over: its listener (a thread with a connection of its own) ended with it.
    assert wait_for(lambda: len(listeners()) == before, 10), listeners()
