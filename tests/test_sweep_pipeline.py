"""A sweep claims its next batch while it records the one before (so engine workers never
run dry): the claims taken ahead keep every guarantee of a claim taken after."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from server import create_app
from server.extensions import db
from server.models import Timer, utcnow
from server.scheduler import TimerScheduler
from server.services import firing, timers

from .support.app import app_config
from .support.wait import wait_for
from .test_scheduler import CHAIN, fired_per_case, overdue_cases


def _claimed_rows() -> int:
    db.session.rollback()
    held = db.session.scalar(select(func.count()).select_from(Timer)
                             .where(Timer.claimed_by.is_not(None))) or 0
    db.session.rollback()
    return held


def test_the_next_batch_is_claimed_while_the_one_before_is_recorded(
        app: Flask, app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = overdue_cases(12)
    recorded: list[int] = []
    held: list[int] = []  # timers claimed when each write batch begins
    record = timers._fire_batch

    def watched(case_ids: list[int], *args: Any) -> None:
        held.append(_claimed_rows())
        recorded.extend(case_ids)
        record(case_ids, *args)

    monkeypatch.setattr(timers, "WRITE_BATCH", 2)
    monkeypatch.setattr(timers, "WRITE_BATCH_POSTGRESQL", 2)
    monkeypatch.setattr(timers, "_fire_batch", watched)
    result = timers.sweep(limit=4)
    assert fired_per_case() == dict.fromkeys(ids, CHAIN)
    assert result.fired == 3 * len(ids)
    # From the second write batch of a full claim on, the next claim is already held.
    assert max(held) > 4, held
    assert _claimed_rows() == 0


def test_claims_taken_ahead_that_expire_and_fire_elsewhere_fire_once(
        app: Flask, app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = overdue_cases(12)
    claim = timers._claim_batch
    elsewhere: list[timers.SweepResult] = []
    stalled: list[str] = []

    def slow(now: Any, worker: str, limit: int, result: timers.SweepResult) -> Any:
        claimed = claim(now, worker, limit, result)
        if claimed is not None and result.claimed > len(claimed.order) and not stalled:
            stalled.append(worker)
            # This scheduler stalls past the lease of the batch it claimed ahead (its
            # engine runs already started): another scheduler takes that batch and the rest.
            db.session.execute(update(Timer).where(Timer.claimed_by == worker,
                                                   Timer.case_id.in_(claimed.order))
                               .values(claimed_until=utcnow() - timedelta(seconds=1)))
            db.session.commit()
            elsewhere.append(timers.sweep(worker="elsewhere", limit=limit))
        return claimed

    monkeypatch.setattr(timers, "WRITE_BATCH", 2)
    monkeypatch.setattr(timers, "WRITE_BATCH_POSTGRESQL", 2)
    monkeypatch.setattr(timers, "_claim_batch", slow)
    result = timers.sweep(limit=4)
    assert stalled == [timers.worker_name()] and elsewhere[0].fired > 0
    # The batch taken over fired nothing here (its steps were recorded elsewhere), which
    # ends this sweep; the next takes what became due since.
    rest = timers.sweep(limit=4)
    assert fired_per_case() == dict.fromkeys(ids, CHAIN), "every timer fires once, none twice"
    assert result.fired + elsewhere[0].fired + rest.fired == 3 * len(ids)
    assert _claimed_rows() == 0 and timers.sweep().claimed == 0


@pytest.fixture
def pooled(sqlite_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """An app on SQLite with two engine workers and small batches."""
    path = tmp_path / "pool.db"
    shutil.copy(sqlite_template, path)
    app = create_app({**app_config(f"sqlite:///{path}"), "SECRET_KEY": "pipeline-test",
                      "PLAINT_SCHEDULER_PROCESSES": 2, "PLAINT_TIMER_BATCH": 8})
    yield app
    firing.shutdown(app)
    with app.app_context():
        db.engine.dispose()


def test_a_scheduler_shut_down_mid_burst_gives_back_what_it_claimed_ahead(
        pooled: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with pooled.app_context():
        ids = overdue_cases(40)
        assert wait_for(firing.workers_ready, 120)
        db.session.remove()
    scheduler = TimerScheduler(pooled)
    record = timers._fire_batch
    stopping: list[threading.Thread] = []
    calls: list[int] = []

    def then_stop(*args: Any) -> None:
        record(*args)
        calls.append(1)
        # Ctrl+C in the middle of the burst's first batch, once it claimed the next.
        if len(calls) == 2:
            stopper = threading.Thread(target=scheduler.shutdown)
            stopper.start()  # before the test's thread can see it and join it
            stopping.append(stopper)
            assert wait_for(lambda: scheduler._closing, 10)

    monkeypatch.setattr(timers, "WRITE_BATCH", 2)
    monkeypatch.setattr(timers, "WRITE_BATCH_POSTGRESQL", 2)
    monkeypatch.setattr(timers, "_fire_batch", then_stop)
    scheduler.start()
    assert wait_for(lambda: bool(stopping), 120)
    stopping[0].join(timeout=120)
    assert not stopping[0].is_alive() and not scheduler._scheduler.running
    deadline = time.monotonic() + 20
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []
    with pooled.app_context():
        fired = fired_per_case()
        # It stopped after the batch under way, not at the end of the burst.
        assert 0 < len(fired) <= 8  # one claim of PLAINT_TIMER_BATCH
        assert all(count == 1 for per_case in fired.values() for count in per_case.values())
        # Nothing is left claimed: the next scheduler fires the rest now, not after a lease.
        assert _claimed_rows() == 0
        monkeypatch.setattr(timers, "_fire_batch", record)
        rest = timers.sweep()
        assert fired_per_case() == dict.fromkeys(ids, CHAIN), "every timer fires once"
        assert rest.fired + scheduler.fired == 3 * len(ids)
        db.session.remove()


def test_engine_workers_yield_the_cpu_to_the_scheduler_that_records_their_runs(
        pooled: Flask) -> None:
    with pooled.app_context():
        assert wait_for(firing.workers_ready, 120)
        pool = firing._pool()
        assert pool is not None
        here = os.nice(0)
        assert pool.submit(os.nice, 0).result(timeout=60) == min(here + firing.WORKER_NICENESS, 19)
