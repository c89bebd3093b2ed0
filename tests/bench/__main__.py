"""`make bench`: the engine's limit against the same cases through Plaint's services.

(a) engine: whole cases in memory, the state saved and reloaded after every step;
(b) services: the same cases through start_case/complete_task/send_message with
    real SQLite commits (WAL, synchronous=NORMAL), projections and the event log;
then timers (tests/bench/timers.py): idle sweeps at 1,000 and 100,000 open cases,
firing 1,000 due timers, and the scheduler's lateness; then a burst of 10,000 timers due at
once (tests/bench/burst.py), on SQLite and on PostgreSQL with two schedulers; then finding
(tests/bench/search.py): case search by exact reference and by a word, and the inbox's
Unclaimed tab, at 100,000 cases;
then the reports dashboard (tests/bench/dashboard.py) at 100,000 and 1,000,000 cases;
then reading a case page with and without the access log (tests/bench/reads.py);
then the page requests a handler makes per case (tests/bench/requests.py);
then previewing a draft by replaying 1,000 recorded cases (tests/bench/replay.py).
Prints a table, then the figures as one JSON object on the very last line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from .burst import burst_run
from .dashboard import dashboard_run
from .reads import reads_run
from .replay import replay_run
from .requests import requests_run
from .search import search_run
from .timers import timer_run

CASES = int(os.environ.get("PLAINT_BENCH_CASES", "300"))
STEPS = [("acknowledge", "ACK"), ("assess", "ASSESS"), ("investigate", "INVESTIGATE"),
         ("respond", "RESPOND")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def engine_run(n: int) -> dict[str, float]:
    from tests.support import data as c
    from tests.support.process import runtime

    rt = runtime()
    values = {"ACK": c.ACK, "ASSESS": c.ASSESS, "INVESTIGATE": c.INVESTIGATE,
              "RESPOND": c.RESPOND}
    steps: list[float] = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        wf, snap = rt.start(dict(c.INTAKE))
        state = rt.dump(wf)
        steps.append(time.perf_counter() - t0)
        for _bpmn_id, key in STEPS:
            t0 = time.perf_counter()
            wf = rt.load(state)
            snap = rt.complete(wf, snap.ready[0].task_id, values[key])
            state = rt.dump(wf)
            steps.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        wf = rt.load(state)
        snap = rt.message(wf, "complainant_response", {"accepted": True})
        state = rt.dump(wf)
        steps.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        wf = rt.load(state)
        snap = rt.complete(wf, snap.ready[0].task_id, c.CLOSE)
        state = rt.dump(wf)
        steps.append(time.perf_counter() - t0)
        # Closed; the diagram still offers the survey and the reopen window.
        assert snap.reached == ["closed"]
    elapsed = time.perf_counter() - started
    return {"cases_per_s": n / elapsed, "steps_per_s": len(steps) / elapsed,
            "p50_ms": percentile(steps, 50) * 1000, "p95_ms": percentile(steps, 95) * 1000}


def service_run(n: int, folder: Path) -> dict[str, float]:
    from server import create_app
    from server.extensions import db
    from server.models import Case, CaseEvent, HumanTask
    from server.services import cases
    from tests.support import data as c

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    values = {"ACK": c.ACK, "ASSESS": c.ASSESS, "INVESTIGATE": c.INVESTIGATE,
              "RESPOND": c.RESPOND}
    steps: list[float] = []

    def timed(fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        result = fn()
        steps.append(time.perf_counter() - t0)
        return result

    with app.app_context():
        started = time.perf_counter()
        for _ in range(n):
            case = timed(lambda: cases.start_case(dict(c.INTAKE), "web", c.HANDLER).case)
            reference, case_id = case.reference, case.id
            for _bpmn_id, key in STEPS:
                task_id = db.session.scalar(select(HumanTask.task_id)
                                            .where(HumanTask.case_id == case_id))
                timed(lambda t=task_id, k=key, r=reference: cases.complete_task(
                    r, t, values[k], c.HANDLER))
            timed(lambda r=reference: cases.send_message(
                r, "complainant_response", {"accepted": True}, c.HANDLER))
            task_id = db.session.scalar(select(HumanTask.task_id)
                                        .where(HumanTask.case_id == case_id))
            case = timed(lambda t=task_id, r=reference: cases.complete_task(
                r, t, c.CLOSE, c.HANDLER))
            assert not case.is_open
        elapsed = time.perf_counter() - started
        state = db.session.scalar(select(func.avg(func.length(Case.workflow_state))))
        row = db.session.scalar(select(func.avg(
            func.length(Case.reference) + func.length(Case.complainant_name)
            + func.coalesce(func.length(Case.complainant_email), 0)
            + func.length(Case.description) + func.coalesce(func.length(Case.remedy_sought), 0)
            + func.coalesce(func.length(Case.product_service), 0)
            + func.coalesce(func.length(Case.status_label), 0) + 64)))
        events = db.session.scalar(select(func.sum(
            func.length(CaseEvent.data) + func.length(CaseEvent.summary)
            + func.length(CaseEvent.actor) + func.length(CaseEvent.kind) + 128))) / n
        db.engine.dispose()
    return {"cases_per_s": n / elapsed, "steps_per_s": len(steps) / elapsed,
            "p50_ms": percentile(steps, 50) * 1000, "p95_ms": percentile(steps, 95) * 1000,
            "state_bytes": float(state), "row_bytes": float(row), "event_bytes": float(events)}


ROUNDS = int(os.environ.get("PLAINT_BENCH_ROUNDS", "3"))


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median throughput (this machine's speed drifts between runs)."""
    return sorted(runs, key=lambda r: r["cases_per_s"])[len(runs) // 2]


def main() -> None:
    engine_run(20)  # warm up imports and caches
    engines, services = [], []
    for _ in range(ROUNDS):  # alternate, so drift in machine speed hits both alike
        engines.append(engine_run(CASES))
        with tempfile.TemporaryDirectory() as tmp:
            services.append(service_run(CASES, Path(tmp)))
    engine, service = median_run(engines), median_run(services)
    with tempfile.TemporaryDirectory() as tmp:
        timer_lines, timer_figures = timer_run(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        burst_lines, burst_figures = burst_run(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        search_lines, search_figures = search_run(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        dashboard_lines, dashboard_figures = dashboard_run(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        reads_lines, reads_figures = reads_run(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        requests_lines, requests_figures = requests_run(Path(tmp))
        replay_lines, replay_figures = replay_run(Path(tmp))
    stored = service["state_bytes"] + service["row_bytes"] + service["event_bytes"]
    ratio = service["cases_per_s"] / engine["cases_per_s"]
    print(f"Plaint benchmark: {CASES} cases of the reference process "
          f"(start, 4 user tasks, the complainant's answer, closing = 7 steps each), one core; "
          f"median of {ROUNDS} alternating rounds")
    print(f"{'':<34}{'cases/s':>10}{'steps/s':>10}{'p50 ms':>9}{'p95 ms':>9}")
    for name, r in (("(a) engine, save/restore per step", engine),
                    ("(b) services, SQLite commits", service)):
        print(f"{name:<34}{r['cases_per_s']:>10.1f}{r['steps_per_s']:>10.1f}"
              f"{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}")
    print(f"ratio (b)/(a): {ratio:.2f}")
    print(f"bytes stored per closed case: {stored:,.0f} (workflow state "
          f"{service['state_bytes']:,.0f}, case row {service['row_bytes']:,.0f}, "
          f"event log {service['event_bytes']:,.0f})")
    print("\n".join(timer_lines))
    print("\n".join(burst_lines))
    print("\n".join(search_lines))
    print("\n".join(dashboard_lines))
    print("\n".join(reads_lines))
    print("\n".join(requests_lines))
    print("\n".join(replay_lines))
    sys.stdout.flush()
    print(json.dumps({
        "engine_cases_per_s": round(engine["cases_per_s"], 1),
        "service_cases_per_s": round(service["cases_per_s"], 1),
        "service_step_p50_ms": round(service["p50_ms"], 2),
        "service_step_p95_ms": round(service["p95_ms"], 2),
        "bytes_per_closed_case": round(stored),
        "service_to_engine_ratio": round(ratio, 2),
        **timer_figures,
        **burst_figures,
        **search_figures,
        **dashboard_figures,
        **reads_figures,
        **requests_figures,
        **replay_figures,
    }))


if __name__ == "__main__":
    main()
