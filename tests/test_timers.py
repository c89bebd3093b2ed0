"""Timers fire through the database: claimed atomically, fired once, recorded in the history."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, Timer
from server.services import audit, cases, timers

from .support.data import BREACH, HANDLER, INTAKE, REMINDER, SECOND, START


def events(kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.kind == kind))


def test_an_overdue_acknowledgement_escalates_once_after_time_travel(app_ctx) -> None:
    with time_machine.travel(START, tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        clock.move_to(REMINDER - SECOND)
        assert timers.sweep().fired == 0
        clock.move_to(REMINDER + SECOND)
        assert timers.sweep().fired == 1  # the reminder
        clock.move_to(BREACH + SECOND)
        result = timers.sweep()
        assert (result.fired, result.cases) == (1, 1)
        assert timers.sweep().fired == 0  # nothing fires twice
    case = db.session.get(Case, case.id)
    [task] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))
    assert (task.bpmn_id, task.role) == ("acknowledge_escalated", "supervisor")
    reminder, event = [e for e in audit.history(case) if e.kind == "timer.fired"]
    assert reminder.summary == "Timer fired: Acknowledgement due soon"
    assert event.actor == "system:timer"
    assert event.summary == "Timer fired: Acknowledgement overdue"
    assert audit.verify_case(case) == []
    [timer] = db.session.scalars(select(Timer).where(Timer.case_id == case.id))
    assert timer.bpmn_id == "acknowledgement_still_overdue"  # the next level waits


def test_a_sweep_with_nothing_due_fires_nothing(app_ctx) -> None:
    with time_machine.travel(START, tick=False):
        cases.start_case(dict(INTAKE), "web", HANDLER)
        assert timers.sweep().claimed == 0
        assert timers.next_due() == REMINDER


def test_a_claim_left_by_a_crashed_worker_is_retried_after_its_lease(app, app_ctx) -> None:
    with time_machine.travel(START, tick=False) as clock:
        cases.start_case(dict(INTAKE), "web", HANDLER)
        clock.move_to(BREACH + SECOND)
        from server.models import utcnow

        # A worker claims the timer and dies before firing it.
        assert timers.claim_due(utcnow(), "dead-worker", 10)[1] == 2  # reminder and breach
        assert timers.sweep(worker="live-worker").fired == 0
        clock.shift(timedelta(seconds=app.config["PLAINT_TIMER_LEASE_SECONDS"] + 1))
        assert timers.sweep(worker="live-worker").fired == 2  # reminder and breach at once
    assert events("timer.fired") == 1


def test_concurrent_sweepers_fire_each_due_timer_exactly_once(app, app_ctx) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(30):
            cases.start_case(dict(INTAKE), "web", HANDLER)
        clock.move_to(BREACH + SECOND)
        db.session.remove()
        totals: list[int] = []
        errors: list[BaseException] = []

        def sweeper(n: int) -> None:
            with app.app_context():
                try:
                    totals.append(timers.sweep(worker=f"w{n}", limit=4).fired)
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=sweeper, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    assert sum(totals) == 60  # each case's reminder and breach
    assert events("timer.fired") == 30
    assert db.session.scalar(select(func.count()).select_from(HumanTask)
                             .where(HumanTask.bpmn_id == "acknowledge_escalated")) == 30


def test_a_timer_that_fails_is_kept_with_its_error_and_retried_later(app_ctx, monkeypatch) -> None:
    from server.engine import EngineError
    from server.engine.runtime import ProcessRuntime

    def broken(self, workflow):
        raise EngineError("the timer expression failed")

    with time_machine.travel(START, tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        clock.move_to(BREACH + SECOND)
        monkeypatch.setattr(ProcessRuntime, "fire_timers", broken)
        assert timers.sweep().failed == 1
        errors = set(db.session.scalars(select(Timer.last_error).where(Timer.case_id == case.id)))
        assert errors == {"the timer expression failed"}
        assert timers.sweep().claimed == 0  # backed off, not spinning
        monkeypatch.undo()
        clock.shift(timers.RETRY_AFTER_ERROR + timedelta(seconds=1))
        assert timers.sweep().fired == 2


def test_a_timer_is_not_fired_while_a_handler_saves_the_same_case(app_ctx) -> None:
    with time_machine.travel(START, tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        clock.move_to(BREACH + SECOND)
        # The handler acknowledges just before the sweep: the timer is cancelled with it.
        [task] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))
        cases.complete_task(case.reference, task.task_id,
                            {"acknowledgement_channel": "phone",
                             "acknowledgement_message": "Called"}, HANDLER)
        assert timers.sweep().fired == 0
    assert events("timer.fired") == 0
    db.session.execute(update(Timer).values(due_at=Timer.due_at))  # table still usable


def test_one_sweep_fires_everything_due_even_when_cases_have_several_due_timers(app_ctx) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            cases.start_case(dict(INTAKE), "web", HANDLER)
        clock.move_to(BREACH + SECOND)
        # Batches of 4 rows hold 2 cases each: a short batch of cases is not the last one.
        result = timers.sweep(limit=4)
        assert (result.fired, result.cases) == (10, 5)
        assert timers.sweep().claimed == 0
