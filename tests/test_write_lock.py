"""Steps run the engine outside the write lock; a case that moves meanwhile is not refused."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import CaseEvent, HumanTask
from server.services import audit, cases

from .support.data import ACK, HANDLER, INTAKE
from .support.meanwhile import note_while_engine_runs
from .support.web import form_token


def test_a_step_taken_while_a_colleague_writes_a_note_is_kept_with_the_note(
        app, app_ctx, monkeypatch) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    reference = case.reference
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    db.session.remove()
    notes = note_while_engine_runs(app, monkeypatch, "complete", reference)
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
    return note_while_engine_runs(app, monkeypatch, "complete", reference)


def _first_task_page(client, auth) -> tuple[str, str, str]:
    """A handler signed in, a new case, and its first task's page: reference, path, HTML."""
    auth.login("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    path = f"/cases/{case.reference}/tasks/{task_id}"
    page = client.get(path).get_data(as_text=True)
    db.session.remove()
    return case.reference, path, page


def test_a_task_form_sent_while_a_colleague_writes_a_note_keeps_both(
        app, client, auth, app_ctx, monkeypatch) -> None:
    # The page's own read of the case is what the step starts from: the note written after
    # it must not be saved over, and the step, taken again under the lock, still goes through.
    reference, path, page = _first_task_page(client, auth)
    token = form_token(page)
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
    reference, path, page = _first_task_page(client, auth)
    seen = page.split('name="case_version" value="')[1].split('"')[0]
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
