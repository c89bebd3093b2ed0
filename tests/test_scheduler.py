"""The timer scheduler: wakes when a timer falls due, fires it once, across processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import time_machine
from flask import Flask
from sqlalchemy import func, insert, select

from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, Timer, utcnow
from server.scheduler import TimerScheduler
from server.services import cases, timers

from .support.data import HANDLER, INTAKE
from .support.wait import wait_for

REPO = Path(__file__).resolve().parent.parent
CASES_FOR_RACE = 2000


def overdue_cases(count: int) -> list[int]:
    """`count` cases whose acknowledgement timer fell due long ago (one started, others cloned)."""
    with time_machine.travel(utcnow() - timedelta(days=30), tick=True):
        first = cases.start_case(dict(INTAKE), "web", HANDLER).case
    row = dict(db.session.execute(select(Case.__table__).where(Case.id == first.id))
               .one()._mapping)
    timer_rows = [dict(r._mapping) for r in db.session.execute(
        select(Timer.__table__).where(Timer.case_id == first.id))]
    task_rows = [dict(r._mapping) for r in db.session.execute(
        select(HumanTask.__table__).where(HumanTask.case_id == first.id))]
    assert timer_rows, "the reference process should wait on an acknowledgement timer"
    del row["id"]
    clones = [{**row, "reference": f"{first.reference}-{i}", "tracking_token_hash": None}
              for i in range(1, count)]
    if clones:
        db.session.execute(insert(Case.__table__), clones)
    ids = list(db.session.scalars(select(Case.id).order_by(Case.id)))
    for table, rows in ((Timer.__table__, timer_rows), (HumanTask.__table__, task_rows)):
        copies = [{**{k: v for k, v in r.items() if k != "id"}, "case_id": case_id}
                  for case_id in ids if case_id != first.id for r in rows]
        if copies:
            db.session.execute(insert(table), copies)
    db.session.commit()
    return ids


# Fell due long ago, so all at once: the reminder and the breach of the acknowledgement
# (fired together), then the next level that the breach started.
CHAIN = Counter({"acknowledgement_reminder": 1, "acknowledgement_overdue": 1,
                 "acknowledgement_still_overdue": 1})


def fired_per_case() -> dict[int, Counter[str]]:
    """How often each timer of each case fired, from the case histories as committed now."""
    db.session.rollback()  # a fresh snapshot: other processes write meanwhile
    counts: dict[int, Counter[str]] = {}
    for case_id, data in db.session.execute(
            select(CaseEvent.case_id, CaseEvent.data).where(CaseEvent.kind == "timer.fired")):
        counts.setdefault(case_id, Counter()).update(json.loads(data)["timers"])
    db.session.rollback()
    return counts


def fired_total() -> int:
    """How many timers have fired in all."""
    return sum(sum(c.values()) for c in fired_per_case().values())


def scheduler_process(app: Flask, **env: str) -> subprocess.Popen[str]:
    """A `flask --app server scheduler --until-idle` process on the test's database."""
    environment = {**os.environ, "PLAINT_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "PLAINT_SECRET_KEY": "scheduler-test", "TZ": "UTC", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "server", "scheduler", "--until-idle"],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_three_scheduler_processes_fire_each_due_timer_exactly_once(app, app_ctx) -> None:
    ids = overdue_cases(CASES_FOR_RACE)
    workers = [scheduler_process(app) for _ in range(3)]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    db.session.rollback()
    fired = fired_per_case()
    assert len(ids) == CASES_FOR_RACE
    assert fired == dict.fromkeys(ids, CHAIN), "every timer fires once, none twice"
    assert db.session.scalar(select(func.count()).select_from(Timer)
                             .where(Timer.due_at <= utcnow())) == 0
    reported = sum(int(out.rsplit("fired ", 1)[1].split(" ")[0]) for out in outputs)
    assert reported == CASES_FOR_RACE * 3, outputs


def test_a_scheduler_killed_mid_fire_leaves_claims_that_expire_and_are_retried(
        app, app_ctx) -> None:
    ids = overdue_cases(400)
    lease = {"PLAINT_TIMER_LEASE_SECONDS": "2", "PLAINT_TIMER_BATCH": "100"}
    victim = scheduler_process(app, **lease)
    assert wait_for(lambda: fired_total() >= 20 or victim.poll() is not None, 60)
    victim.send_signal(signal.SIGKILL)  # kill -9: no clean-up, its claims stay behind
    victim.wait(timeout=30)
    assert fired_total() < len(ids) * 3, "the victim should die with timers still claimed"
    claimed, lease_ends = db.session.execute(
        select(func.count(), func.max(Timer.claimed_until))
        .where(Timer.claimed_by.is_not(None))).one()
    db.session.rollback()
    assert claimed, "the dead scheduler's claims are still there"
    assert wait_for(lambda: utcnow() > lease_ends, 30)  # its leases run out
    survivor = scheduler_process(app, **lease)
    output = survivor.communicate(timeout=240)[0]
    assert survivor.returncode == 0, output
    db.session.rollback()
    assert fired_per_case() == dict.fromkeys(ids, CHAIN)


def test_a_scheduler_started_after_downtime_fires_what_fell_due(app, app_ctx) -> None:
    ids = overdue_cases(3)
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        assert wait_for(lambda: scheduler.fired == 9, 30)
    finally:
        scheduler.shutdown()
    db.session.rollback()
    assert fired_per_case() == dict.fromkeys(ids, CHAIN)


def test_the_scheduler_sleeps_until_the_next_due_time_not_a_fixed_poll(app, app_ctx) -> None:
    app.config["PLAINT_SCHEDULER_MAX_SLEEP"] = 3600.0
    with time_machine.travel(utcnow() - timedelta(days=30), tick=True):
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    db.session.execute(Timer.__table__.update().where(Timer.case_id == case.id)
                       .values(due_at=utcnow() + timedelta(minutes=20)))
    db.session.commit()
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        assert wait_for(lambda: scheduler.sweeps >= 1, 30)
        wake = scheduler.next_wake
        # The next wake is the timer's due time (within the sweep's own run time).
        assert wake is not None
        assert abs((wake - (utcnow() + timedelta(minutes=20))).total_seconds()) < 60
    finally:
        scheduler.shutdown()


def test_a_timer_written_in_this_process_wakes_the_scheduler_early(app, app_ctx) -> None:
    app.config["PLAINT_SCHEDULER_MAX_SLEEP"] = 3600.0
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        assert wait_for(lambda: scheduler.sweeps >= 1, 30)
        assert scheduler.next_wake > utcnow() + timedelta(minutes=30)  # nothing waits: idle
        # A case started back in time writes a timer that is already due.
        with time_machine.travel(utcnow() - timedelta(days=30), tick=True):
            case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        assert wait_for(lambda: scheduler.fired == 3, 30)
    finally:
        scheduler.shutdown()
    assert fired_per_case() == {case.id: CHAIN}
    assert timers.next_due() is None or timers.next_due() > utcnow()
