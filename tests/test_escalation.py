"""Deadlines in business time through the services: the escalation chain of the reference
process in the default Riyadh calendar (Sunday to Thursday, 08:00-16:00, UTC+3), a
policy change, and the clock that stops while the case waits on the complainant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import Case, EscalationTarget, HumanTask
from server.services import audit, cases, policy, timers
from server.services.actors import Actor

from .support.data import ACK, ASK, ASSESS, HANDLER, INTAKE

SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tasks(case: Case) -> dict[str, HumanTask]:
    db.session.expire_all()
    return {t.bpmn_id: t for t in db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id))}


def complete(case: Case, bpmn_id: str, values: dict) -> None:
    cases.complete_task(case.reference, tasks(case)[bpmn_id].task_id, values, HANDLER)


def test_the_acknowledgement_chain_runs_in_business_time_across_the_weekend(app_ctx) -> None:
    # Thursday 7 May 2026, 14:00 in Riyadh: two working hours left in the week.
    with time_machine.travel(utc(2026, 5, 7, 11, 0), tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        # 1 working day: Sunday 14:00 Riyadh; reminded 4 working hours before, Sunday 10:00.
        assert tasks(case)["acknowledge"].due_at == utc(2026, 5, 10, 11, 0)
        clock.move_to(utc(2026, 5, 9, 20, 0))  # Saturday evening: the weekend does not count
        assert timers.sweep().fired == 0
        clock.move_to(utc(2026, 5, 10, 7, 0) + SECOND)
        assert timers.sweep().fired == 1
        assert tasks(case)["acknowledge"].flag == "Acknowledgement due soon"
        clock.move_to(utc(2026, 5, 10, 11, 0) + SECOND)
        assert timers.sweep().fired == 1
        escalated = tasks(case)["acknowledge_escalated"]
        assert escalated.role == "supervisor"
        assert escalated.due_at == utc(2026, 5, 11, 11, 0)  # the next level: Monday 14:00
        clock.move_to(utc(2026, 5, 11, 11, 0) + SECOND)
        assert timers.sweep().fired == 1
        assert set(tasks(case)) == {"acknowledge_manager"}
        assert tasks(case)["acknowledge_manager"].role == "complaints_manager"
    fired = [e.summary for e in audit.history(case) if e.kind == "timer.fired"]
    assert fired == ["Timer fired: Acknowledgement due soon",
                     "Timer fired: Acknowledgement overdue", "Timer fired: Still not acknowledged"]


def test_a_policy_change_applies_to_deadlines_started_after_it(app_ctx) -> None:
    with time_machine.travel(utc(2026, 5, 3, 6, 0), tick=False):  # Sunday 09:00 Riyadh
        before = cases.start_case(dict(INTAKE), "web", HANDLER).case
        row = db.session.scalar(select(EscalationTarget).where(
            EscalationTarget.kind == "acknowledge", EscalationTarget.priority == "any",
            EscalationTarget.category == "any"))
        values = {}
        for r in policy.list_targets()["acknowledge"]:
            values.update(policy.row_form(r))
        values[f"t{row.id}_amount"] = "3"
        assert policy.save_targets("acknowledge", values, Actor("ada", 1, frozenset({"admin"})))
        after = cases.start_case(dict(INTAKE), "web", HANDLER).case
    assert tasks(before)["acknowledge"].due_at == utc(2026, 5, 4, 6, 0)  # Monday 09:00
    assert tasks(after)["acknowledge"].due_at == utc(2026, 5, 6, 6, 0)  # Wednesday 09:00


def test_time_waiting_on_the_complainant_does_not_count_toward_resolution(app_ctx) -> None:
    with time_machine.travel(utc(2026, 5, 3, 6, 0), tick=False) as clock:  # Sunday 09:00
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        complete(case, "acknowledge", ACK)
        complete(case, "assess", ASSESS)  # high: resolution within 3 working days
        assert tasks(case)["investigate"].due_at == utc(2026, 5, 6, 6, 0)  # Wednesday 09:00
        clock.move_to(utc(2026, 5, 5, 12, 0))  # Tuesday 15:00: one working hour left that day
        complete(case, "investigate", ASK)
        assert db.session.get(Case, case.id).status_label == "Waiting for information from you"
        clock.move_to(utc(2026, 5, 6, 6, 0))  # Wednesday 09:00: the complainant answers
        cases.send_message(case.reference, "complainant_information",
                           {"information": "On 3 March."}, Actor.complainant())
        # Paused Tuesday 15:00-16:00 and Wednesday 08:00-09:00: two working hours later.
        assert tasks(case)["investigate"].due_at == utc(2026, 5, 6, 8, 0)
        assert timers.sweep().fired == 0  # the old deadline (Wednesday 09:00) is not a breach
