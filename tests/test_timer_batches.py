"""A sweep records a batch of fired cases in one go, and case by case when that fails."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, Incident, OutboxMessage, Timer
from server.services import audit, deferred, timers

from .support.meanwhile import note_while_engine_runs
from .test_scheduler import CHAIN, fired_per_case, overdue_cases


def _outbox_per_case(ids: list[int]) -> list[int]:
    """How many e-mails each case has in the outbox."""
    counts = dict(db.session.execute(select(OutboxMessage.case_id, func.count())
                                     .group_by(OutboxMessage.case_id)).all())
    return [counts.get(case_id, 0) for case_id in ids]


def _verifies(case_id: int) -> None:
    """The case's history chain and row check out (only the first of overdue_cases has
    its whole history: the others are copies of its row)."""
    assert audit.verify_case(db.session.get(Case, case_id)) == []


def test_a_batch_whose_shared_write_fails_is_recorded_case_by_case_each_timer_once(
        app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = overdue_cases(6)
    failures: list[str] = []
    flush = deferred.flush

    def disk_full_once() -> int:
        if not failures:
            failures.append("raised")
            raise OperationalError("INSERT INTO case_event ...", {}, Exception("disk full"))
        return flush()

    monkeypatch.setattr(deferred, "flush", disk_full_once)
    before = _outbox_per_case(ids)
    result = timers.sweep()
    assert failures == ["raised"]
    assert (result.cases, result.failed, result.conflicts) == (6, 0, 0)
    assert fired_per_case() == {case_id: CHAIN for case_id in ids}
    # One history entry and one reminder e-mail per fired step, none left from the attempt.
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.kind == "timer.fired")) == 6
    sent = [after - was for after, was in zip(_outbox_per_case(ids), before, strict=True)]
    assert sent[0] > 0 and sent == [sent[0]] * 6
    _verifies(ids[0])
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
    assert timers.sweep().claimed == 0


def test_a_case_moved_during_the_engine_run_fires_from_its_new_state_with_its_batch(
        app: Flask, app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = overdue_cases(5)
    moved = db.session.get(Case, ids[0]).reference
    before = _outbox_per_case(ids)
    db.session.remove()
    notes = note_while_engine_runs(app, monkeypatch, "fire_timers", moved, "Called them.")
    result = timers.sweep()
    assert notes == ["written"]
    assert (result.cases, result.failed) == (5, 0)
    assert fired_per_case() == {case_id: CHAIN for case_id in ids}
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(
        CaseEvent.case_id == ids[0]).order_by(CaseEvent.seq)))
    assert kinds[-2:] == ["note.added", "timer.fired"]
    _verifies(ids[0])
    sent = [after - was for after, was in zip(_outbox_per_case(ids), before, strict=True)]
    assert sent[0] > 0 and sent == [sent[0]] * 5


def test_after_a_batch_the_inbox_and_timer_rows_are_exactly_what_each_case_waits_on(
        app_ctx: None) -> None:
    ids = overdue_cases(4)
    assert timers.sweep().cases == 4
    for case_id in ids:
        case = db.session.get(Case, case_id)
        waits = json.loads(case.projection)
        tasks = dict(db.session.execute(select(HumanTask.task_id, HumanTask.bpmn_id).where(
            HumanTask.case_id == case_id)).all())
        waiting = db.session.execute(select(Timer.task_id, Timer.claimed_by).where(
            Timer.case_id == case_id)).all()
        assert set(tasks) == set(waits["tasks"])
        assert list(tasks.values()) == ["acknowledge_manager"]  # escalated twice, one task
        assert {row.task_id for row in waiting} == set(waits["timers"])
        assert all(row.claimed_by is None for row in waiting)  # fresh rows, nobody's claim


def test_a_batchs_moved_and_gone_rows_land_on_exactly_their_cases_and_tasks(
        app_ctx: None) -> None:
    # On PostgreSQL a batch writes these in one statement per table (over arrays): each
    # inbox row must still get its own case's due time and flag, and only gone rows go.
    from datetime import UTC, datetime, timedelta

    from server.models.report import CaseReport
    from server.services import projections, reporting

    ids = overdue_cases(3)
    report = {k: v for k, v in db.session.execute(select(CaseReport.__table__).where(
        CaseReport.case_id == ids[0])).one()._mapping.items()}
    db.session.execute(CaseReport.__table__.insert(),
                       [{**report, "case_id": case_id} for case_id in ids[1:]])
    tasks = db.session.execute(select(HumanTask.case_id, HumanTask.task_id, HumanTask.due_at)
                               .order_by(HumanTask.case_id)).all()
    waiting = db.session.execute(select(Timer.case_id, Timer.task_id)
                                 .order_by(Timer.case_id)).all()
    assert {row.case_id for row in tasks} == set(ids) == {row.case_id for row in waiting}
    base = datetime(2030, 1, 6, 5, 0, tzinfo=UTC)
    moved = {(row.case_id, row.task_id): (base + timedelta(hours=i), f"flag {i}" if i else None)
             for i, row in enumerate(tasks[:2])}
    with deferred.deferring():
        deferred.write(projections._TASK_ROWS.move, [
            {"of_case": case_id, "t_id": task_id, "due_at": due, "flag": flag}
            for (case_id, task_id), (due, flag) in moved.items()])
        deferred.write(projections._TIMER_ROWS.delete_one, [
            {"of_case": row.case_id, "t_id": row.task_id} for row in waiting[:2]])
        deferred.write(reporting._UPDATE, [  # two shapes of change, the first for two cases
            {"of_case": ids[0], "escalation_level": 2, "updated_at": base},
            {"of_case": ids[1], "escalation_level": 1, "updated_at": base},
            {"of_case": ids[2], "paused_hours": 1.5, "is_open": False, "updated_at": base}])
        deferred.flush()
    db.session.commit()
    after = {(row.case_id, row.task_id): (row.due_at, row.flag) for row in db.session.execute(
        select(HumanTask.case_id, HumanTask.task_id, HumanTask.due_at, HumanTask.flag))}
    for row in tasks:
        key = (row.case_id, row.task_id)
        assert after[key] == moved.get(key, (row.due_at, None))
    left = db.session.execute(select(Timer.case_id, Timer.task_id)).all()
    assert sorted(left) == sorted(waiting[2:])
    reports = {row.case_id: (row.escalation_level, row.paused_hours, row.is_open, row.updated_at)
               for row in db.session.execute(select(CaseReport.__table__))}
    level, paused = report["escalation_level"], report["paused_hours"]
    assert reports == {ids[0]: (2, paused, True, base), ids[1]: (1, paused, True, base),
                       ids[2]: (level, 1.5, False, base)}


def test_a_batch_saving_a_case_someone_saved_meanwhile_fails_its_version_check(
        app_ctx: None) -> None:
    # A batch saves its case rows at its end, several in one statement on PostgreSQL; one
    # row at a version that is gone must stop the batch (it is then recorded case by case).
    from server.services import recording

    ids = overdue_cases(3)
    versions = dict(db.session.execute(select(Case.id, Case.version)).all())
    stale = versions[ids[1]] - 1
    with deferred.deferring():
        deferred.write(recording._SAVE, [
            {"case_id": case_id, "seen": stale if case_id == ids[1] else versions[case_id],
             "version": versions[case_id] + 1, "status_label": "Saved by the batch"}
            for case_id in ids])
        with pytest.raises(deferred.Stale):
            deferred.flush()
    db.session.rollback()
    assert dict(db.session.execute(select(Case.id, Case.version)).all()) == versions


def test_a_batchs_inserted_rows_keep_every_value_as_written(app_ctx: None) -> None:
    # On PostgreSQL a batch inserts each table's rows in one statement over arrays sent in
    # binary: text that looks like array syntax, NULL, quotes and backslashes, Arabic,
    # empty text and missing values must come back exactly as they went in, row by row.
    from datetime import UTC, datetime, timedelta

    from server.services import projections

    ids = overdue_cases(2)
    base = datetime(2030, 1, 6, 5, 0, tzinfo=UTC)
    odd = ['{a,b}', 'NULL', 'say "hi" \\ back\\slash', "مرحبا، عالم", "", None, "x" * 3000]
    rows = [{"case_id": ids[i % 2], "task_id": f"t-{i}", "bpmn_id": f"b{i}",
             "title": (value or "")[:255], "due_at": base + timedelta(minutes=i),
             "claimed_by": None, "claimed_until": None if i % 3 else base,
             "attempts": i, "last_error": value} for i, value in enumerate(odd)]
    with deferred.deferring():
        deferred.write(projections._TIMER_ROWS.insert, rows)
        deferred.flush()
    db.session.commit()
    stored = {row.task_id: {name: getattr(row, name) for name in rows[0]}
              for row in db.session.execute(select(Timer.__table__).where(
                  Timer.task_id.like("t-%")))}
    assert stored == {row["task_id"]: row for row in rows}


def test_a_task_a_batch_makes_for_the_owners_role_goes_to_the_owner(
        app_ctx: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The step's new inbox rows are then written at once, not at the batch's end: routing
    # gives them to the owner within the step.
    from server.models import User
    from server.services import ownership

    from .support.web import make_user

    ids = overdue_cases(3)
    make_user("maha", "complaints_manager", email="maha@example.com")
    maha = db.session.scalar(select(User.id).where(User.username == "maha"))
    db.session.execute(Case.__table__.update().where(Case.id.in_(ids[1:])).values(owner_id=maha))
    db.session.commit()
    # The second-level task is the complaints manager's: let that role own cases.
    monkeypatch.setattr(ownership, "owning_roles",
                        lambda: frozenset({"handler", "complaints_manager"}))
    assert timers.sweep().cases == 3
    assignees = dict(db.session.execute(select(HumanTask.case_id, HumanTask.assignee_id).where(
        HumanTask.bpmn_id == "acknowledge_manager")).all())
    assert assignees == {ids[0]: None, ids[1]: maha, ids[2]: maha}
