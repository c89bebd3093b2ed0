"""A timer burst fired with the engine in worker processes, and outside the write lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from server import create_app
from server.extensions import db
from server.models import Case, CaseEvent, Incident, OutboxMessage
from server.scheduler import TimerScheduler
from server.services import audit, cases, firing, timers

from .support.app import app_config
from .support.meanwhile import note_while_engine_runs
from .support.wait import wait_for
from .test_scheduler import CHAIN, fired_per_case, overdue_cases

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VOLATILE = {"fired_at", "due", "at", "hash", "prev", "id", "case_id", "incident"}
# A new task's due time inside an entry: counted from when it fired, in working hours.
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def _app(path: Path, processes: int) -> Flask:
    return create_app({**app_config(f"sqlite:///{path}"), "SECRET_KEY": "pool-test",
                       "PLAINT_SCHEDULER_PROCESSES": processes})


@pytest.fixture
def twin_burst(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Flask, Flask, int]]:
    """Two copies of one database holding 20 overdue cases, one of them poisoned; apps on
    each: the first fires with two engine workers, the second inline."""
    first = tmp_path / "pool.db"
    shutil.copy(sqlite_template, first)
    pooled = _app(first, 2)
    with pooled.app_context():
        ids = overdue_cases(20)
        poisoned = ids[7]  # its saved state was damaged: loading it raises a plain error
        db.session.execute(update(Case).where(Case.id == poisoned)
                           .values(workflow_state=b"not a workflow"))
        db.session.commit()
        db.engine.dispose()
    shutil.copy(first, tmp_path / "inline.db")
    inline = _app(tmp_path / "inline.db", 0)
    yield pooled, inline, poisoned
    for app in (pooled, inline):
        firing.shutdown(app)
        with app.app_context():
            db.engine.dispose()


def _what_happened(app: Flask, poisoned: int) -> dict[str, Any]:
    """Each case's history (without times and hashes), the e-mails asked for, the incidents."""
    with app.app_context():
        history: dict[int, list[Any]] = {}
        for case_id, kind, summary, data in db.session.execute(
                select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.summary, CaseEvent.data)
                .order_by(CaseEvent.case_id, CaseEvent.seq)):
            entry = {k: v for k, v in json.loads(data).items() if k not in VOLATILE}
            # New tasks get random ids from SpiffWorkflow, in any two runs alike; the two
            # sides fire at different instants (in working hours a due time moves with them).
            text = INSTANT.sub("<time>", UUID.sub("<task>", json.dumps(entry, sort_keys=True)))
            history.setdefault(case_id, []).append((kind, summary, text))
        mail = sorted(db.session.execute(select(
            OutboxMessage.case_id, OutboxMessage.event, OutboxMessage.recipient_kind,
            OutboxMessage.subject)).all())
        stopped = [(i.case_id, i.error, i.element_id, i.attempts, i.is_open)
                   for i in db.session.scalars(select(Incident))]
        # The case started through the services (the others are clones of its rows).
        first = db.session.scalar(select(Case).order_by(Case.id).limit(1))
        assert first is not None and first.id != poisoned and audit.verify_case(first) == []
        db.session.remove()
    return {"history": history, "mail": mail, "incidents": stopped}


def test_a_burst_fired_by_engine_workers_leaves_what_firing_inline_leaves(
        twin_burst: tuple[Flask, Flask, int], monkeypatch: pytest.MonkeyPatch) -> None:
    pooled, inline, poisoned = twin_burst
    here: list[int] = []
    fire = firing.fire

    def in_this_process(version_id: int, state: bytes) -> firing.Fired:
        here.append(version_id)
        return fire(version_id, state)

    monkeypatch.setattr(firing, "fire", in_this_process)
    with pooled.app_context():
        # Until the workers have started, sweeps fire inline (tested below).
        assert wait_for(firing.workers_ready, 120)
        result = timers.sweep()
        assert (result.cases, result.failed) == (19, 1)
        assert fired_per_case() == {case_id: CHAIN for case_id in fired_per_case()}
        assert len(fired_per_case()) == 19 and poisoned not in fired_per_case()
        db.session.remove()
    # The workers fired the burst; this process takes back only what none had begun.
    in_workers = 20 - len(here)
    assert in_workers >= 20 // 2, here
    with inline.app_context():
        assert (timers.sweep().cases, len(here) - (20 - in_workers)) == (19, 20)
        db.session.remove()
    pool_side, inline_side = _what_happened(pooled, poisoned), _what_happened(inline, poisoned)
    assert pool_side == inline_side
    [(case_id, error, element, attempts, is_open)] = pool_side["incidents"]
    assert case_id == poisoned and error.startswith("error: ") and is_open and attempts == 1
    assert element == "acknowledgement_reminder"
    assert pool_side["mail"], "the reminders e-mailed someone"


def test_a_burst_whose_engine_worker_was_killed_fires_inline_each_timer_once(
        twin_burst: tuple[Flask, Flask, int]) -> None:
    pooled, _inline, poisoned = twin_burst
    with pooled.app_context():
        assert wait_for(firing.workers_ready, 120)
        victim = multiprocessing.active_children()[0]
        os.kill(victim.pid, signal.SIGKILL)  # the machine ran out of memory, say
        victim.join(timeout=20)
        result = timers.sweep()
        assert (result.cases, result.failed) == (19, 1)
        fired = fired_per_case()
        assert fired == {case_id: CHAIN for case_id in fired} and len(fired) == 19
        assert poisoned not in fired
        assert not firing.workers_ready()  # this scheduler fires inline from now on
        db.session.remove()
    assert multiprocessing.active_children() == []


def test_the_scheduler_stops_its_engine_workers_when_it_stops(
        twin_burst: tuple[Flask, Flask, int]) -> None:
    pooled, _inline, _poisoned = twin_burst
    scheduler = TimerScheduler(pooled, until_idle=True)
    scheduler.start()
    deadline = time.monotonic() + 120
    while scheduler._scheduler.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert scheduler.fired == 19 * sum(CHAIN.values())
    # The batch run shuts itself down, workers included, as it ends.
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not scheduler._scheduler.running
    assert firing.POOL not in pooled.extensions and multiprocessing.active_children() == []


def test_a_note_written_while_the_engine_fires_is_kept_and_the_timer_fires_after_it(
        app: Flask, app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    [case_id] = overdue_cases(1)
    reference = db.session.get(Case, case_id).reference
    db.session.remove()
    notes = note_while_engine_runs(app, monkeypatch, "fire_timers", reference,
                                   "Called the complainant.")
    result = timers.sweep()
    assert notes == ["written"]  # the note did not wait for the engine: no lock was held
    assert (result.fired, result.conflicts) == (sum(CHAIN.values()), 0)  # in this sweep
    assert fired_per_case() == {case_id: CHAIN}
    case = cases.get_case(reference)
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id).order_by(CaseEvent.seq))]
    assert kinds[-2:] == ["note.added", "timer.fired"]
    assert audit.verify_case(case) == []
    assert timers.sweep().claimed == 0


def test_processes_setting_is_a_number() -> None:
    from server.config import ConfigError, scheduler_processes

    assert scheduler_processes("") is None and scheduler_processes("3") == 3
    with pytest.raises(ConfigError, match="PLAINT_SCHEDULER_PROCESSES"):
        scheduler_processes("many")
