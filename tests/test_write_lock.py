"""Steps run the engine outside the write lock; a case that moves meanwhile is not refused."""

from __future__ import annotations

import threading

from sqlalchemy import select

from server.extensions import db
from server.models import CaseEvent, HumanTask
from server.services import audit, cases

from .support.data import ACK, HANDLER, INTAKE, OTHER_HANDLER


def test_a_step_taken_while_a_colleague_writes_a_note_is_kept_with_the_note(
        app, app_ctx, monkeypatch) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    reference = case.reference
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    db.session.remove()
    from server.engine.runtime import ProcessRuntime

    original = ProcessRuntime.complete
    notes: list[str] = []

    def colleague_writes_meanwhile(self, workflow, tid, values):
        if not notes:  # the first run only: the colleague's note lands while it works
            def note() -> None:
                with app.app_context():
                    cases.add_note(reference, "Called the branch.", OTHER_HANDLER)
                    notes.append("written")
                    db.session.remove()
            writer = threading.Thread(target=note)
            writer.start()
            writer.join(timeout=20)
        return original(self, workflow, tid, values)

    monkeypatch.setattr(ProcessRuntime, "complete", colleague_writes_meanwhile)
    done = cases.complete_task(reference, task_id, ACK, HANDLER)
    assert notes == ["written"]  # the note did not wait for the step: no lock was held
    assert done.acknowledged_at is not None
    case = cases.get_case(reference)
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id).order_by(CaseEvent.seq))]
    assert kinds[-2:] == ["note.added", "task.completed"]
    assert audit.verify_case(case) == []
