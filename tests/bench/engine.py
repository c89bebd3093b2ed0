"""The engine's own limit: whole cases in memory, the state saved and reloaded per step."""

from __future__ import annotations

import time
from typing import Any

STEPS = [("acknowledge", "ACK"), ("assess", "ASSESS"), ("investigate", "INVESTIGATE"),
         ("respond", "RESPOND")]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def engine_run(n: int) -> dict[str, float]:
    """`n` cases of the reference process through the engine alone; throughput and step times."""
    from tests.support import data as c
    from tests.support.process import runtime

    rt = runtime()
    values: dict[str, dict[str, Any]] = {"ACK": c.ACK, "ASSESS": c.ASSESS,
                                         "INVESTIGATE": c.INVESTIGATE, "RESPOND": c.RESPOND}
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
