"""Steps run the engine outside the write lock; a case that moves meanwhile is not refused."""

from __future__ import annotations

import threading

from sqlalchemy import select

from server.extensions import db
from server.models import CaseEvent, HumanTask
from server.services import audit, cases

from .support.data import ACK, HANDLER, INTAKE, OTHER_HANDLER
from .support.web import form_token


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


def _noted_meanwhile(app, monkeypatch, reference: str) -> list[str]:
    """While the next step's engine runs, a colleague writes a note on the case (once)."""
    from server.engine.runtime import ProcessRuntime

    original = ProcessRuntime.complete
    notes: list[str] = []

    def colleague_writes_meanwhile(self, workflow, tid, values):
        if not notes:
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
    return notes


def test_a_task_form_sent_while_a_colleague_writes_a_note_keeps_both(
        app, client, auth, app_ctx, monkeypatch) -> None:
    # The page's own read of the case is what the step starts from: the note written after
    # it must not be saved over, and the step, taken again under the lock, still goes through.
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    reference = case.reference
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    path = f"/cases/{reference}/tasks/{task_id}"
    token = form_token(client.get(path).get_data(as_text=True))
    db.session.remove()
    notes = _noted_meanwhile(app, monkeypatch, reference)
    sent = client.post(path, data={**ACK, "csrf_token": token})  # no case version sent
    assert notes == ["written"]
    assert sent.status_code == 302
    case = cases.get_case(reference)
    assert case.acknowledged_at is not None
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id).order_by(CaseEvent.seq))]
    assert kinds[-2:] == ["note.added", "task.completed"]
    assert audit.verify_case(case) == []


def test_a_task_form_of_a_version_a_note_overtook_mid_step_comes_back_with_the_input(
        app, client, auth, app_ctx, monkeypatch) -> None:
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    reference = case.reference
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    path = f"/cases/{reference}/tasks/{task_id}"
    page = client.get(path).get_data(as_text=True)
    seen = page.split('name="case_version" value="')[1].split('"')[0]
    db.session.remove()
    notes = _noted_meanwhile(app, monkeypatch, reference)
    sent = client.post(path, data={"acknowledgement_channel": "email",
                                   "acknowledgement_message": "My careful words",
                                   "case_version": seen, "csrf_token": form_token(page)})
    assert notes == ["written"]
    assert sent.status_code == 409
    body = sent.get_data(as_text=True)
    assert "changed while you were working on it" in body and "My careful words" in body
    case = cases.get_case(reference)
    assert case.acknowledged_at is None
    assert "Called the branch." in body  # the page shows the case as it is now
