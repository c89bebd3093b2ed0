"""Timer-burst benchmark for `make bench`: 10,000 timers due at the same instant.

Business-time deadlines bunch at the opening hour (every weekend complaint falls due at
Monday 08:00), so this is the scheduler's worst minute. BURST open cases, each with one
timer due at the same instant a few seconds ahead (half acknowledgement reminders that
e-mail the handler, half breaches that escalate the case; cloned the way
tests/bench/timers.py clones them), are drained by real schedulers:

* SQLite, one scheduler (the TimerScheduler in a background thread of this process);
* PostgreSQL (a throwaway server, tests/support/pg.py), two schedulers in two processes
  (`flask scheduler`, each its own interpreter and connections, claiming with SKIP LOCKED).

Drain time is the last timer's fired time less the common due time; lateness is each
timer's fired time less its due time, read from the "timer.fired" history entries.
The run checks that every timer fired exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

BURST = int(os.environ.get("PLAINT_BENCH_BURST", "10000"))
LEAD = timedelta(seconds=float(os.environ.get("PLAINT_BENCH_BURST_LEAD", "25")))
PATIENCE = 600.0  # seconds to wait for a drain before calling the run failed
REPO = Path(__file__).resolve().parents[2]


def _build(app: Flask) -> tuple[datetime, int]:
    """BURST cases whose one timer each falls due LEAD from now; the due time, first event id."""
    from server.extensions import db
    from server.models import CaseEvent, Timer, utcnow
    from tests.bench.timers import Cases

    with app.app_context():
        made = Cases()
        at = utcnow() + LEAD
        variants = [made.due(at, 0), made.due(at, 1)]
        made.replace([(made.ids[0], variants[0])])
        made.add(BURST - 1, variants)
        due = db.session.scalar(select(func.count()).select_from(Timer)
                                .where(Timer.due_at == at))
        assert due == BURST, due
        first = db.session.scalar(select(func.max(CaseEvent.id))) or 0
        db.session.rollback()
        assert utcnow() < at, "building the burst took longer than its lead"
        return at, first


def _fired(app: Flask, first: int) -> list[tuple[str, datetime, datetime, int]]:
    """Every timer fired since event `first`: (timer, due, fired at, case id)."""
    from server.extensions import db
    from server.models import CaseEvent

    with app.app_context():
        rows = db.session.execute(select(CaseEvent.case_id, CaseEvent.data).where(
            CaseEvent.id > first, CaseEvent.kind == "timer.fired")).all()
        db.session.rollback()
    fired = []
    for case_id, data in rows:
        entry = json.loads(data)
        at = datetime.fromisoformat(entry["fired_at"])
        fired.extend((name, datetime.fromisoformat(entry["due"][name]), at, case_id)
                     for name in entry["timers"])
    return fired


def _count(app: Flask, first: int) -> int:
    from server.extensions import db
    from server.models import CaseEvent

    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.id > first, CaseEvent.kind == "timer.fired")) or 0
        db.session.rollback()
    return n


def _figures(fired: list[tuple[str, datetime, datetime, int]], at: datetime,
             suffix: str) -> dict[str, float]:
    """Drain time and lateness of one run, after checking each timer fired exactly once."""
    per_case = Counter(case_id for _name, _due, _at, case_id in fired)
    assert len(per_case) == BURST and set(per_case.values()) == {1}, (
        len(per_case), Counter(per_case.values()))
    late = sorted((fired_at - due).total_seconds() for _n, due, fired_at, _c in fired)
    return {f"timer_burst_10k_drain_s_{suffix}":
            max(f for _n, _d, f, _c in fired).timestamp() - at.timestamp(),
            f"timer_burst_10k_p50_late_s_{suffix}": late[len(late) // 2],
            f"timer_burst_10k_p99_late_s_{suffix}":
            late[min(len(late) - 1, round(0.99 * (len(late) - 1)))]}


def _engine_alone(app: Flask, at: datetime, n: int = 500) -> float:
    """Milliseconds of engine work per timer (load, fire, dump; nothing written), timed on
    `n` of the burst's cases with the engine's clock set just past their due time."""
    from server.engine.clocks import SetClock, bound
    from server.extensions import db
    from server.models import Case
    from server.services import firing, lookups

    with app.app_context(), lookups.read_once(), bound(SetClock(at + timedelta(seconds=1))):
        states = db.session.execute(select(Case.process_version_id, Case.workflow_state)
                                    .limit(n)).all()
        started = time.process_time()
        fired = sum(firing.fire(version, state).snapshot is not None for version, state in states)
        spent = time.process_time() - started
        db.session.rollback()
    assert fired == len(states), (fired, len(states))
    return spent / len(states) * 1000


def sqlite_run(folder: Path, processes: int = 1) -> dict[str, float]:
    """One in-process scheduler drains the burst on SQLite, with `processes` engine workers
    (1: the engine runs in the scheduler's own process, the default)."""
    from server import create_app
    from server.extensions import db
    from server.models import utcnow
    from server.scheduler import TimerScheduler
    from server.services import firing

    suffix = "sqlite" if processes <= 1 else f"sqlite_p{processes}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'{suffix}.db'}",
                      "SECRET_KEY": "bench", "PLAINT_SCHEDULER_PROCESSES": processes})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    at, first = _build(app)
    engine_ms = _engine_alone(app, at) if processes <= 1 else None
    assert utcnow() < at, "measuring the engine took longer than the burst's lead"
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        deadline = time.monotonic() + LEAD.total_seconds() + PATIENCE
        while scheduler.fired < BURST and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        scheduler.shutdown()
    figures = _figures(_fired(app, first), at, suffix)
    figures[f"timer_burst_processes_{suffix}"] = firing.processes(app)
    if engine_ms is not None:
        figures["timer_engine_ms_per_timer"] = engine_ms
    with app.app_context():
        db.engine.dispose()
    return figures


def pg_run(schedulers: int = 2) -> dict[str, float]:
    """`schedulers` scheduler processes drain the burst on a throwaway PostgreSQL server."""

    from server import create_app
    from server.extensions import db
    from server.services import firing
    from tests.support import pg

    bindir = pg.find_bindir()
    if bindir is None:
        return {}
    server = pg.start(bindir)
    try:
        url = server.create_database("burst")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        env = {**os.environ, "PLAINT_DATABASE_URL": url, "PLAINT_SECRET_KEY": "bench",
               "TZ": "UTC"}
        at, first = _build(app)
        workers = [subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "server", "scheduler"], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(schedulers)]
        try:
            deadline = time.monotonic() + LEAD.total_seconds() + PATIENCE
            while _count(app, first) < BURST and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            outputs = [worker.communicate(timeout=120)[0] for worker in workers]
        shares = [int(out.rsplit("fired ", 1)[1].split(" ")[0]) for out in outputs]
        figures = _figures(_fired(app, first), at, f"pg{schedulers}")
        figures[f"timer_burst_10k_share_min_pg{schedulers}"] = min(shares) / BURST
        figures[f"timer_burst_processes_pg{schedulers}"] = firing.processes(app)
        with app.app_context():
            db.engine.dispose()
        return figures
    finally:
        server.stop()


def burst_run(folder: Path) -> tuple[list[str], dict[str, float]]:
    """Run the burst on SQLite (one scheduler, the engine inline and in 2 worker processes)
    and PostgreSQL (two schedulers); table lines, figures. The summary figure is the slower
    of SQLite's faster way and PostgreSQL's."""
    f = sqlite_run(folder)
    f.update(sqlite_run(folder, 2))
    f.update(pg_run(2))
    sqlite = min(f["timer_burst_10k_drain_s_sqlite"], f["timer_burst_10k_drain_s_sqlite_p2"])
    f["timer_burst_10k_drain_s"] = max(sqlite, f.get("timer_burst_10k_drain_s_pg2", 0.0))
    lines = [f"Timer burst: {BURST:,} timers due at the same instant (half reminders that "
             f"e-mail, half breaches that escalate), drained by real schedulers"]
    for suffix, label in (("sqlite", "SQLite, 1 scheduler"), ("sqlite_p2", "SQLite, 1 scheduler"),
                          ("pg2", "PostgreSQL, 2 scheduler processes")):
        if f"timer_burst_10k_drain_s_{suffix}" not in f:
            lines.append(f"  {label}: skipped (no PostgreSQL server binaries)")
            continue
        drain = f[f"timer_burst_10k_drain_s_{suffix}"]
        engines = int(f.pop(f"timer_burst_processes_{suffix}"))
        label += f" ({engines} engine processes each)" if engines > 1 else " (engine inline)"
        lines.append(f"  {label}: drained in {drain:.2f} s ({BURST / drain:.0f} timers/s); "
                     f"lateness p50 {f[f'timer_burst_10k_p50_late_s_{suffix}']:.2f} s, "
                     f"p99 {f[f'timer_burst_10k_p99_late_s_{suffix}']:.2f} s")
    if "timer_engine_ms_per_timer" in f:
        engine = f["timer_engine_ms_per_timer"]
        lines.append(f"  the engine alone (load, fire, dump; nothing written): {engine:.2f} ms a "
                     f"timer, {engine * BURST / 1000:.1f} s of one core for {BURST:,}")
    if "timer_burst_10k_share_min_pg2" in f:
        lines.append(f"  smaller scheduler's share on PostgreSQL: "
                     f"{f['timer_burst_10k_share_min_pg2']:.0%}")
    reported = {name: round(value, 2) for name, value in f.items()
                if name.startswith(("timer_burst_10k_", "timer_engine_")) and "share" not in name
                and "p50" not in name}
    return lines, reported


if __name__ == "__main__":  # `python -m tests.bench.burst`: this benchmark alone
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table, figures = burst_run(Path(tmp))
    print("\n".join(table))
    print(json.dumps(figures))
