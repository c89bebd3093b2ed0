"""A case's life through the services, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from server.errors import Conflict, Forbidden, InvalidInput
from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, Timer
from server.services import audit, cases
from server.services.actors import Actor

from .support.data import (
    ACK,
    ASSESS,
    CLOSE,
    HANDLER,
    INTAKE,
    INVESTIGATE,
    OTHER_HANDLER,
    RESPOND,
    REVIEW,
    SUPERVISOR,
)


def ready(case: Case) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)))


def complete(case: Case, values: dict, actor=HANDLER) -> Case:
    [task] = ready(case)
    return cases.complete_task(case.reference, task.task_id, values, actor)


def test_a_complaint_is_registered_with_a_reference_and_a_first_task(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    assert case.reference.startswith("CMP-") and case.reference.endswith("-000001")
    assert case.complainant_name == "Layla Haddad" and case.channel == "web"
    assert case.status_label == "Received" and case.is_open
    [task] = ready(case)
    assert (task.title, task.role, task.form) == ("Acknowledge complaint", "handler",
                                                  "acknowledge-schema.json")
    assert task.due_at is not None
    timers = {t.bpmn_id: t.due_at for t in
              db.session.scalars(select(Timer).where(Timer.case_id == case.id))}
    assert timers["acknowledgement_overdue"] == task.due_at
    assert timers["acknowledgement_reminder"] < task.due_at
    second = cases.start_case(dict(INTAKE), "phone", HANDLER).case
    assert second.reference.endswith("-000002")


def test_a_case_runs_to_the_end_and_leaves_an_intact_history(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    case = complete(case, ACK)
    assert case.acknowledged_at is not None
    case = complete(case, ASSESS)
    assert (case.priority, case.category) == ("high", "billing")
    case = complete(case, INVESTIGATE)
    case = complete(case, RESPOND)
    assert case.resolved_at is not None and ready(case) == []
    assert "complainant_response" in cases.waiting_messages(case)
    case = cases.send_message(case.reference, "complainant_response", {"accepted": False},
                              HANDLER)
    case = complete(case, REVIEW, SUPERVISOR)
    case = cases.send_message(case.reference, "complainant_response", {"accepted": True},
                              HANDLER)
    assert case.is_open and [t.bpmn_id for t in ready(case)] == ["close"]
    case = complete(case, {**CLOSE, "closure_reason": "resolved_after_review"})
    assert not case.is_open and case.closed_at is not None
    assert case.status_label == "Closed"
    # Closed, yet the complainant may still rate the handling or reopen it for a while.
    assert cases.waiting_messages(case) == ["complainant_rates", "complainant_reopens",
                                            "staff_reopens"]
    [timer] = db.session.scalars(select(Timer).where(Timer.case_id == case.id))
    assert timer.bpmn_id == "reopen_window_over"
    kinds = [e.kind for e in audit.history(case)]
    assert kinds == ["case.received", "task.completed", "task.completed", "task.completed",
                     "task.completed", "message.received", "task.completed",
                     "message.received", "task.completed"]
    assert audit.verify_case(case) == []


def test_bad_form_input_is_refused_field_by_field_and_nothing_changes(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    [task] = ready(case)
    with pytest.raises(InvalidInput) as caught:
        cases.complete_task(case.reference, task.task_id,
                            {"acknowledgement_channel": "pigeon"}, HANDLER)
    assert caught.value.field_errors == {
        "acknowledgement_message": ["This field is required."],
        "acknowledgement_channel": ["Choose one of: email, phone, letter, in_person."],
    }
    db.session.rollback()
    assert ready(db.session.get(Case, case.id))[0].task_id == task.task_id


def test_a_bad_email_at_intake_is_refused_with_a_message(app_ctx) -> None:
    with pytest.raises(InvalidInput) as caught:
        cases.start_case({**INTAKE, "complainant_email": "layla-at-example"}, "web", HANDLER)
    assert caught.value.field_errors == {
        "complainant_email": ["Enter a valid e-mail address, like name@example.com."]}
    with pytest.raises(InvalidInput) as caught:
        cases.start_case({**INTAKE, "consent": False, "description": ""}, "web", HANDLER)
    assert set(caught.value.field_errors) == {"consent", "description"}
    assert db.session.scalar(select(Case.id)) is None


def test_only_declared_fields_reach_the_workflow(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    case = complete(case, {**ACK, "is_admin": True, "typename": "BpmnWorkflow"})
    event = audit.history(case)[-1]
    assert "is_admin" not in event.data and "typename" not in event.data
    assert "is_admin" not in cases.runtime_for(case.process_version_id).load(
        case.workflow_state).get_tasks()[-1].data
    assert '"acknowledgement_channel":"email"' in event.data


def test_nested_reserved_names_are_refused(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    for values in (ACK, ASSESS, INVESTIGATE, RESPOND):
        case = complete(case, values)
    with pytest.raises(InvalidInput):
        cases.send_message(case.reference, "complainant_response",
                           {"accepted": True, "x": {"typename": "Task"}}, HANDLER)


def test_a_task_refuses_people_without_its_role(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    [task] = ready(case)
    with pytest.raises(Forbidden, match="role 'Handler'"):
        cases.complete_task(case.reference, task.task_id, ACK, SUPERVISOR)


def test_a_task_assigned_to_someone_else_is_refused(app_ctx) -> None:
    from server.models import User
    from server.services.actors import Actor
    from server.services.users import create_user

    hana, _ = create_user("hana", ["handler"])
    omar, _ = create_user("omar", ["handler"])
    hana_actor, omar_actor = Actor.for_user(hana), Actor.for_user(omar)
    case = cases.start_case(dict(INTAKE), "web", hana_actor).case
    [task] = ready(case)
    task.assignee_id = db.session.scalar(select(User.id).where(User.username == "hana"))
    db.session.commit()
    with pytest.raises(Forbidden, match="assigned to someone else"):
        cases.complete_task(case.reference, task.task_id, ACK, omar_actor)
    assert cases.complete_task(case.reference, task.task_id, ACK, hana_actor).acknowledged_at


def test_a_form_submitted_after_the_case_changed_gets_a_conflict(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    seen_version = case.version
    task_id = ready(case)[0].task_id
    # The case changes underneath: a colleague completes the task first.
    cases.complete_task(case.reference, task_id, ACK, HANDLER)
    with pytest.raises(Conflict, match="no longer open"):
        cases.complete_task(case.reference, task_id, ACK, OTHER_HANDLER,
                            expected_version=seen_version)
    case = cases.get_case(case.reference)
    [task] = ready(case)
    with pytest.raises(Conflict, match="changed while you were working"):
        cases.complete_task(case.reference, task.task_id, ASSESS, HANDLER,
                            expected_version=seen_version)


def test_two_concurrent_saves_of_one_case_one_wins_the_other_is_told(
        app, app_ctx, monkeypatch) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    reference, [task] = case.reference, ready(case)
    task_id = task.task_id
    db.session.remove()
    both_loaded = threading.Barrier(2, timeout=2)
    from server.engine.runtime import ProcessRuntime

    original = ProcessRuntime.complete

    def slow_complete(self, workflow, tid, values):
        try:  # PostgreSQL: both writers get here before either saves
            both_loaded.wait()
        except threading.BrokenBarrierError:
            pass  # SQLite: the second writer waits for the write lock instead
        return original(self, workflow, tid, values)

    monkeypatch.setattr(ProcessRuntime, "complete", slow_complete)
    outcomes: list[str] = []

    def worker(actor) -> None:
        with app.app_context():
            try:
                cases.complete_task(reference, task_id, ACK, actor)
                outcomes.append("saved")
            except Conflict as exc:
                outcomes.append(f"conflict: {exc.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(a,)) for a in (HANDLER, OTHER_HANDLER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "saved"], outcomes
    case = cases.get_case(reference)
    completed = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "task.completed")).all()
    assert len(completed) == 1
    assert audit.verify_case(case) == []


def test_the_event_log_cannot_be_updated(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE case_event SET actor = 'mallory'"))
        db.session.commit()
    db.session.rollback()
    assert audit.verify_case(cases.get_case(case.reference)) == []


def test_a_tampered_or_truncated_history_is_detected(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    complete(case, ACK)
    case = cases.get_case(case.reference)
    # DELETE is refused by a trigger (migration 0012): an attacker drops it first.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_no_delete"))
    else:
        db.session.execute(text("DROP TRIGGER case_event_no_delete"))
    db.session.execute(text("DELETE FROM case_event WHERE seq = 2"))
    db.session.commit()
    assert "the newest events are missing" in " ".join(audit.verify_case(case))


def test_a_process_version_is_parsed_once_per_process_not_per_step(app, app_ctx) -> None:
    specs = app.extensions["plaint.specs"]
    before = specs.loads
    for _ in range(3):
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        for values in (ACK, ASSESS, INVESTIGATE, RESPOND):
            case = complete(case, values)
    assert specs.loads - before <= 1  # at most the first use in this process rebuilt it


def test_a_message_with_a_reserved_name_is_refused_and_the_case_keeps_working(app_ctx) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    for payload in ({"_private": "x"}, {"typename": "x"}, {"text": "x" * 70_000}):
        with pytest.raises(InvalidInput, match="too large or uses a reserved name"):
            cases.send_message(case.reference, "complainant_information", payload,
                               Actor.complainant())
    assert complete(cases.get_case(case.reference), ACK).acknowledged_at is not None
