"""Timer benchmarks for `make bench`: idle sweeps, firing due timers, scheduler lateness.

One SQLite database grows from 1,000 to 100,000 open cases, each waiting on the
acknowledgement's reminder and breach timers, due 1 to 30 days ahead. On it:

* an idle sweep (`timers.sweep()` with nothing due) and `timers.next_due()`, median
  of many calls, at 1,000 and at 100,000 open cases;
* one `timers.sweep()` that fires 1,000 due timers of 1,000 cases (half reminders,
  half breaches that escalate the case), counted in timers;
* the real `TimerScheduler`, running in the background, firing 1,000 timers that
  fall due over 25 seconds; lateness is the fired time less the due time, read
  from each case's "timer.fired" history entry.

Cases are made fast the way tests/test_scheduler.py makes them: one case is started
through the services and cloned with SQL. The clones' due times are set in the
workflow state itself (the timer's `event_value`, where SpiffWorkflow looks when
it decides a timer is due), and the projection rows are written from a snapshot of
that state, so firing a clone is exactly what firing a started case would be.
Every due time is a fixed distance from the moment the bench runs, never a business
deadline, so the figures do not depend on the weekday.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from flask import Flask
from sqlalchemy import delete, func, insert, select, update

OPEN_CASES = int(os.environ.get("PLAINT_BENCH_TIMER_CASES", "100000"))
SMALL = 1_000  # open cases at the first idle measurement
DUE = 1_000  # timers made due for the firing run
LATE = 1_000  # timers the scheduler fires for the lateness figures
SPREAD = 25.0  # seconds over which those fall due
LEAD = 8.0  # seconds from making them to the first due time
IDLE_CALLS = 500
CHUNK = 10_000  # rows per executemany


@dataclass(frozen=True)
class Variant:
    """A workflow state whose timers fall due at chosen times, and its projection rows."""

    state: bytes
    projection: str
    timers: list[dict[str, Any]]  # timer rows without case_id
    tasks: list[dict[str, Any]]  # human_task rows without case_id


class Cases:
    """Clones of one started case, with the due times of their timers set at will."""

    def __init__(self) -> None:
        from server.extensions import db
        from server.models import Case, CaseReport, utcnow
        from server.services import cases
        from server.services.processes import runtime_for
        from tests.support.data import HANDLER, INTAKE

        started = cases.start_case(dict(INTAKE), "web", HANDLER).case
        self.row = dict(db.session.execute(
            select(Case.__table__).where(Case.id == started.id)).one()._mapping)
        # Every real case has its reporting row from the start: a fired timer updates it.
        self.report = dict(db.session.execute(
            select(CaseReport.__table__).where(CaseReport.case_id == started.id)).one()._mapping)
        self.runtime = runtime_for(self.row["process_version_id"])
        self.now = utcnow()
        self.fresh = self.row["workflow_state"]
        # The same case after its reminder fired: what waits is the breach alone.
        self.reminded = self._fire(self.fresh, {
            "acknowledgement_reminder": self.now - timedelta(hours=2),
            "acknowledgement_overdue": self.now + timedelta(days=1)})
        self.next_id = started.id + 1
        self.ids: list[int] = [started.id]

    def _fire(self, state: bytes, dues: dict[str, datetime]) -> bytes:
        workflow = self._redated(state, dues)
        fired = self.runtime.fire_timers(workflow).fired
        assert fired == ["acknowledgement_reminder"], fired
        return self.runtime.dump(workflow)

    def _redated(self, state: bytes, dues: dict[str, datetime]) -> Any:
        workflow = self.runtime.load(state)
        for timer in self.runtime.snapshot(workflow).timers:
            if timer.bpmn_id in dues:
                task = workflow.get_task_from_id(UUID(timer.task_id))
                task.internal_data["event_value"] = dues[timer.bpmn_id].isoformat()
        return workflow

    def variant(self, dues: dict[str, datetime], reminded: bool = False) -> Variant:
        """The case (fresh, or after its reminder fired) with its timers due at `dues`."""
        from server.services.projections import summary_of as projection_of

        workflow = self._redated(self.reminded if reminded else self.fresh, dues)
        snapshot = self.runtime.snapshot(workflow)
        moved = {t.bpmn_id: t.due_at for t in snapshot.timers}
        assert all(moved.get(name) == due for name, due in dues.items()), moved
        timers = [{"task_id": t.task_id, "bpmn_id": t.bpmn_id, "title": t.title,
                   "due_at": t.due_at, "claimed_by": None, "claimed_until": None,
                   "attempts": 0, "last_error": None} for t in snapshot.timers]
        tasks = [{"task_id": t.task_id, "bpmn_id": t.bpmn_id, "title": t.title,
                  "due_at": t.due_at, "lane": t.lane, "role": t.role, "form": t.form,
                  "assignee_id": None, "created_at": self.row["received_at"], "flag": t.flag}
                 for t in snapshot.ready]
        return Variant(self.runtime.dump(workflow),
                       json.dumps(projection_of(snapshot), separators=(",", ":")),
                       timers, tasks)

    def waiting(self, day: float) -> Variant:
        """A fresh case whose reminder falls due `day` days from now, its breach a day later."""
        reminder = self.now + timedelta(days=day)
        return self.variant({"acknowledgement_reminder": reminder,
                             "acknowledgement_overdue": reminder + timedelta(days=1)})

    def due(self, at: datetime, index: int) -> Variant:
        """A case with exactly one timer due at `at`: a reminder (even index) or a breach."""
        if index % 2 == 0:
            return self.variant({"acknowledgement_reminder": at,
                                 "acknowledgement_overdue": at + timedelta(days=20)})
        return self.variant({"acknowledgement_overdue": at}, reminded=True)

    def add(self, count: int, variants: list[Variant]) -> None:
        """Insert `count` more open cases, taking the variants in turn."""
        from server.extensions import db
        from server.models import Case, CaseReport

        base = {**self.row, "tracking_token_hash": None}
        for start in range(0, count, CHUNK):
            ids = range(self.next_id, self.next_id + min(CHUNK, count - start))
            picked = [(case_id, variants[case_id % len(variants)]) for case_id in ids]
            db.session.execute(insert(Case.__table__), [
                {**base, "id": case_id, "reference": f"{base['reference']}-{case_id}",
                 "workflow_state": v.state, "projection": v.projection}
                for case_id, v in picked])
            db.session.execute(insert(CaseReport.__table__), [
                {**self.report, "case_id": case_id} for case_id, _v in picked])
            self._write_rows(picked)
            db.session.commit()
            self.next_id += len(ids)
            self.ids.extend(ids)

    def replace(self, chosen: Iterable[tuple[int, Variant]]) -> None:
        """Give existing cases new states (and projection rows to match)."""
        from server.extensions import db
        from server.models import Case, HumanTask, Timer

        picked = list(chosen)
        ids = [case_id for case_id, _ in picked]
        for table in (Timer.__table__, HumanTask.__table__):
            db.session.execute(delete(table).where(table.c.case_id.in_(ids)))
        for case_id, v in picked:
            db.session.execute(update(Case.__table__).where(Case.id == case_id).values(
                workflow_state=v.state, projection=v.projection))
        self._write_rows(picked)
        db.session.commit()

    @staticmethod
    def _write_rows(picked: list[tuple[int, Variant]]) -> None:
        from server.extensions import db
        from server.models import HumanTask, Timer

        for table, rows in ((Timer.__table__, [{**r, "case_id": case_id} for case_id, v
                                               in picked for r in v.timers]),
                            (HumanTask.__table__, [{**r, "case_id": case_id} for case_id, v
                                                   in picked for r in v.tasks])):
            db.session.execute(insert(table), rows)


def median_ms(fn: Callable[[], Any], calls: int = IDLE_CALLS) -> float:
    """The median wall time of `calls` calls of `fn`, in milliseconds."""
    for _ in range(20):
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def idle(figures: dict[str, float], label: str) -> None:
    """Time an idle sweep and next_due(), checking that nothing is due."""
    from server.models import utcnow
    from server.services import timers

    assert timers.sweep().claimed == 0, "the idle sweep found something due"
    upcoming = timers.next_due()
    assert upcoming is not None and upcoming > utcnow()
    figures[f"idle_sweep_ms_at_{label}"] = median_ms(timers.sweep)
    figures[f"next_due_ms_at_{label}"] = median_ms(timers.next_due)


def query_plans() -> list[str]:
    """SQLite's plan for the idle sweep's probe and for next_due(), one line each."""
    from server.extensions import db
    from server.models import Timer
    from server.services.claims import due_and_free

    probes = {
        "idle probe": select(Timer.id)
        .where(due_and_free(Timer, Timer.due_at, datetime.now())).limit(1),
        "next_due": select(Timer.due_at).where(Timer.claimed_until.is_(None))
        .order_by(Timer.due_at).limit(1),
    }
    lines = []
    for name, statement in probes.items():
        compiled = statement.compile(dialect=db.engine.dialect)
        params = tuple(str(compiled.params[name]) if isinstance(compiled.params[name], datetime)
                       else compiled.params[name] for name in compiled.positiontup or [])
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), params).all()
        lines.append(f"{name}: " + "; ".join(row[-1] for row in plan))
    db.session.rollback()
    return lines


def fire_due(made: Cases, figures: dict[str, float]) -> None:
    """Make DUE timers of as many cases due, then time the sweep that fires them."""
    from server.extensions import db
    from server.models import CaseEvent, Timer, utcnow
    from server.services import timers

    step = len(made.ids) // DUE
    chosen = made.ids[::step][:DUE]
    past = utcnow() - timedelta(minutes=5)
    made.replace((case_id, made.due(past - timedelta(seconds=i), i))
                 for i, case_id in enumerate(chosen))
    due_rows = db.session.scalar(select(func.count()).select_from(Timer)
                                 .where(Timer.due_at <= utcnow()))
    assert due_rows == DUE, due_rows
    first_event = db.session.scalar(select(func.max(CaseEvent.id)))
    db.session.rollback()
    calls = fired = 0
    t0 = time.perf_counter()
    while True:  # one call should do; loop so a sweep that stops early cannot hide it
        result = timers.sweep()
        calls += 1
        fired += result.fired
        if result.claimed == 0:
            break
    elapsed = time.perf_counter() - t0
    recorded = sum(len(json.loads(data)["timers"]) for data in db.session.scalars(
        select(CaseEvent.data).where(CaseEvent.id > first_event,
                                     CaseEvent.kind == "timer.fired")))
    left = db.session.scalar(select(func.count()).select_from(Timer)
                             .where(Timer.due_at <= utcnow()))
    db.session.rollback()
    assert fired == recorded == DUE and left == 0, (fired, recorded, left)
    figures["fire_1000_due_s"] = elapsed
    figures["fire_sweep_calls"] = calls - 1  # the last one found nothing


def lateness(app: Flask, made: Cases, figures: dict[str, float]) -> None:
    """Let the real scheduler fire LATE timers due over SPREAD seconds; measure how late."""
    from server.extensions import db
    from server.models import CaseEvent, utcnow
    from server.scheduler import TimerScheduler

    step = len(made.ids) // LATE
    chosen = made.ids[step // 2::step][:LATE]
    first_due = utcnow() + timedelta(seconds=LEAD)
    made.replace((case_id, made.due(first_due + timedelta(seconds=SPREAD * i / LATE), i))
                 for i, case_id in enumerate(chosen))
    first_event = db.session.scalar(select(func.max(CaseEvent.id)))
    db.session.rollback()
    figures["timer_lead_s"] = (first_due - utcnow()).total_seconds()
    assert figures["timer_lead_s"] > 0, "making the timers took longer than LEAD"
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        deadline = time.monotonic() + LEAD + SPREAD + 60
        while scheduler.fired < LATE and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown()
    late: list[float] = []
    for data in db.session.scalars(select(CaseEvent.data).where(
            CaseEvent.id > first_event, CaseEvent.kind == "timer.fired")):
        entry = json.loads(data)
        fired_at = datetime.fromisoformat(entry["fired_at"])
        late.extend((fired_at - datetime.fromisoformat(entry["due"][name])).total_seconds()
                    for name in entry["timers"])
    db.session.rollback()
    assert len(late) == LATE == scheduler.fired, (len(late), scheduler.fired)
    late.sort()
    figures["timer_lateness_p50_s"] = late[len(late) // 2]
    figures["timer_lateness_p99_s"] = late[min(len(late) - 1, round(0.99 * (len(late) - 1)))]
    figures["timer_lateness_max_s"] = late[-1]
    figures["scheduler_sweeps"] = scheduler.sweeps


# The figures on the JSON line that ends `make bench`, with their decimals.
REPORTED = {"idle_sweep_ms_at_1k": 3, "idle_sweep_ms_at_100k": 3, "next_due_ms_at_1k": 3,
            "next_due_ms_at_100k": 3, "fire_1000_due_s": 2, "timer_lateness_p50_s": 3,
            "timer_lateness_p99_s": 3, "timer_lateness_max_s": 3}


def timer_run(folder: Path) -> tuple[list[str], dict[str, float]]:
    """Run the timer benchmarks on a fresh database; return table lines and JSON figures."""
    from server import create_app
    from server.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'timers.db'}",
                      "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    figures: dict[str, float] = {}
    started = time.perf_counter()
    with app.app_context():
        made = Cases()
        # 250 distinct states, reminders 1 to 30 days ahead.
        waiting = [made.waiting(1 + 29 * i / 250) for i in range(250)]
        made.replace([(made.ids[0], waiting[0])])
        made.add(SMALL - 1, waiting)
        idle(figures, "1k")
        t0 = time.perf_counter()
        made.add(OPEN_CASES - SMALL, waiting)
        figures["build_s"] = time.perf_counter() - t0
        idle(figures, "100k")
        plans = query_plans()
        fire_due(made, figures)
        lateness(app, made, figures)
        db.engine.dispose()
    figures["timer_bench_s"] = time.perf_counter() - started
    return table(figures, plans), {name: round(figures[name], digits)
                                   for name, digits in REPORTED.items()}


def table(f: dict[str, float], plans: list[str]) -> list[str]:
    """The timer figures as lines of the bench's table."""
    cases = f"{OPEN_CASES:,}"
    return [
        f"Timers: open cases waiting on 2 timers each (reminder and breach, due in 1-30 "
        f"days), SQLite; {SMALL:,} then {cases} cases",
        f"{'':<34}{'1,000':>10}{cases:>10}",
        f"{'idle sweep, median ms':<34}{f['idle_sweep_ms_at_1k']:>10.3f}"
        f"{f['idle_sweep_ms_at_100k']:>10.3f}",
        f"{'next_due(), median ms':<34}{f['next_due_ms_at_1k']:>10.3f}"
        f"{f['next_due_ms_at_100k']:>10.3f}",
        *(f"  plan, {line}" for line in plans),
        f"fire {DUE:,} due timers of {DUE:,} cases (half reminders, half breaches) in "
        f"{f['fire_sweep_calls']:.0f} sweep: {f['fire_1000_due_s']:.2f} s "
        f"({DUE / f['fire_1000_due_s']:.0f} timers/s)",
        f"scheduler lateness, {LATE:,} timers due over {SPREAD:.0f} s: "
        f"p50 {f['timer_lateness_p50_s']:.3f} s, p99 {f['timer_lateness_p99_s']:.3f} s, "
        f"max {f['timer_lateness_max_s']:.3f} s ({f['scheduler_sweeps']:.0f} sweeps)",
        f"timer bench: {f['timer_bench_s']:.0f} s, of which {f['build_s']:.0f} s adding "
        f"{OPEN_CASES - SMALL:,} cases",
    ]
