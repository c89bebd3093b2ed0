"""Preview by replay for `make bench`: 1,000 recorded cases through a draft that changes
the triage table (serious complaints become "medium" instead of "high").

Cases are made fast the way tests/bench/timers.py makes them, but with real recorded
history: four cases are run through the services (acknowledged; assessed serious;
assessed moderate; resolved and closed after the complainant's answer), and each is
cloned with SQL, its case row and every history row, to 1,000 cases in all. The figure
is the wall time of the preview job's work (services/processes/replay.run_job, called
directly rather than on its thread), every case replayed twice: on its own version and
on the draft. The bench checks that the report sees the priority change and that the
job wrote nothing but its own row.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

CASES = int(os.environ.get("PLAINT_BENCH_REPLAY_CASES", "1000"))


def _templates() -> list[int]:
    """Four real cases with different histories; their ids."""
    from server.services import cases
    from tests.support import data as c
    from tests.support.cases import complete, file_case

    acknowledged, serious, moderate, closed = (file_case()[0] for _ in range(4))
    complete(acknowledged, "acknowledge", c.ACK)
    for reference, severity in ((serious, "serious"), (moderate, "moderate"),
                                (closed, "serious")):
        complete(reference, "acknowledge", c.ACK)
        complete(reference, "assess", {**c.ASSESS, "severity": severity})
    complete(closed, "investigate", c.INVESTIGATE)
    complete(closed, "respond", c.RESPOND)
    cases.send_message(closed, "complainant_response", {"accepted": True}, c.HANDLER)
    complete(closed, "close", c.CLOSE)
    return [cases.get_case(r).id for r in (acknowledged, serious, moderate, closed)]


def _clone(templates: list[int], count: int) -> None:
    """Insert clones of the template cases, with their history, up to `count` cases."""
    from server.extensions import db
    from server.models import Case, CaseEvent

    rows = {t: dict(db.session.execute(select(Case.__table__).where(Case.id == t)).one()
                    ._mapping) for t in templates}
    events = {t: [dict(r._mapping) for r in db.session.execute(
        select(CaseEvent.__table__).where(CaseEvent.case_id == t))] for t in templates}
    next_id = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
    next_event = (db.session.scalar(select(func.max(CaseEvent.id))) or 0) + 1
    cases, history = [], []
    for n in range(count - len(templates)):
        template = templates[n % len(templates)]
        row = rows[template]
        cases.append({**row, "id": next_id, "reference": f"{row['reference']}-{next_id}",
                      "tracking_token_hash": None})
        for event in events[template]:
            history.append({**event, "id": next_event, "case_id": next_id})
            next_event += 1
        next_id += 1
    db.session.execute(insert(Case.__table__), cases)
    db.session.execute(insert(CaseEvent.__table__), history)
    db.session.commit()


def _fingerprint() -> str:
    """A digest of the case and history rows and of every table's row count but the job's."""
    from sqlalchemy import inspect, text

    from server.extensions import db
    from server.models import Case, CaseEvent

    counts = [(t, db.session.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one())
              for t in sorted(inspect(db.engine).get_table_names()) if t != "replay_job"]
    digest = hashlib.sha256(repr(counts).encode())
    for row in db.session.execute(select(Case.id, Case.version, Case.workflow_state)
                                  .order_by(Case.id)):
        digest.update(repr(tuple(row)).encode())
    for row in db.session.execute(select(CaseEvent.id, CaseEvent.hash).order_by(CaseEvent.id)):
        digest.update(repr(tuple(row)).encode())
    db.session.rollback()
    return digest.hexdigest()


def replay_run(folder: Path) -> tuple[list[str], dict[str, Any]]:
    """Replay CASES recorded cases through a triage-changing draft; table lines and figures."""
    from server import create_app
    from server.extensions import db
    from server.models import ReplayJob, User
    from server.services import processes
    from server.services.actors import Actor
    from server.services.processes import drafts, replay
    from server.services.users import create_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'replay.db'}",
                      "SECRET_KEY": "bench"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        create_user("olga", ["process_owner"], "bench-password-1234", display_name="Olga")
        owner = Actor.for_user(db.session.scalar(select(User).where(User.username == "olga")))
        _clone(_templates(), CASES)
        draft = drafts.edit_version(processes.active_version_id(), owner)
        dmn = draft.contents()["triage.dmn"].decode().replace(
            '<outputEntry id="triage_serious_p"><text>"high"</text>',
            '<outputEntry id="triage_serious_p"><text>"medium"</text>')
        assert not drafts.save_file(draft.id, "triage.dmn", dmn.encode(), owner)
        job = ReplayJob(draft_id=draft.id, draft_title=draft.title, started_by_id=owner.user_id,
                        started_by=owner.name, status="running", params="{}")
        db.session.add(job)
        db.session.commit()
        before = _fingerprint()
        t0 = time.perf_counter()
        report = replay.run_job(job.id, draft.id, replay.Choice(CASES))
        elapsed = time.perf_counter() - t0
        unchanged = _fingerprint() == before
        db.engine.dispose()
    totals = report["totals"]
    assert totals["cases"] == CASES and totals["priority_changed"] > 0, totals
    assert unchanged, "the preview wrote something besides its job row"
    kpis = report["kpis"]
    lines = [f"preview by replay: {CASES} recorded cases through a draft with another triage "
             f"table, each replayed on its version and on the draft: {elapsed:.1f} s "
             f"({CASES / elapsed:.0f} cases/s); priority changes in "
             f"{totals['priority_changed']}, deadlines move in {totals['deadlines_moved']}, "
             f"on target {kpis['before']['on_target']}% now, "
             f"{kpis['after']['on_target']}% predicted; nothing written but the job row"]
    return lines, {"replay_1000_cases_s" if CASES == 1000 else f"replay_{CASES}_cases_s":
                   round(elapsed, 2), "replay_wrote_nothing": unchanged,
                   "replay_report_bytes": len(json.dumps(report))}
