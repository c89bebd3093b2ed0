"""The write path of a case: load its row, and save the outcome of an engine run.

Every step of every case comes through here, so it is written for speed: the case row
is read into a typed `CaseRecord` (services/records.py, not an ORM object), and each
statement is built once at import and only executed per step, through SQLAlchemy Core on
the session's connection. Measured on SQLite, a statement built per call cost 126 us and
a prebuilt one 42 us; the ORM load of a case cost 459 us and the Core select of the same
row 53 us. Pages read cases through the ORM model as usual.

The writes once skipped SQLAlchemy for the DBAPI cursor (a second data path, fastsql.py).
Measured against it in one process, alternating case by case over 3 x 300 cases of the
reference process, Core cost 0.35-0.43 ms more per step (CPU time; p50 7.13 against
6.75 ms, medians of the runs): 5-6% of a step and of cases per second, not worth a
second data path.

Saving updates the case row first, with "WHERE version = <the version read>": a
writer that lost a race stops there with a Conflict before writing anything else.
Then the projection rows are brought in line with the snapshot (services/projections.py),
the history row is appended, and the transaction commits; inside `batched()` (a timer
sweep's batch) it does not: the caller commits many cases' steps at once, and may have
the rows nothing reads before the commit written at the batch's end, one statement per
table (services/deferred.py). Such a batch saves its case rows there too, first, and
their version check is made there: a stale one fails the batch, which is then recorded
case by case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError

from ..engine import Notice, ReadyTask, Snapshot
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Case, CaseEvent
from ..signals import timers_written
from . import (
    actions,
    audit,
    deferred,
    events,
    notifications,
    objectivity,
    ownership,
    projections,
    reporting,
    service_queue,
    teams,
    wakeup,
    webhooks,
)
from .actors import Actor
from .processes import runtime_for
from .projections import TASKS, run
from .records import TASK_COLUMNS, CaseRecord, TaskRecord

PROJECTED = ("priority", "category")  # workflow variables mirrored on the case row
MILESTONES = {"acknowledged": "acknowledged_at", "resolved": "resolved_at"}
WATCHED = ("status_label", *PROJECTED, "is_open")  # changes named in the history
MUTABLE = ("status_label", "priority", "category", "acknowledged_at", "resolved_at",
           "is_open", "closed_at", "workflow_state", "updated_at", "event_count",
           "audit_head", "projection", "team_id")
ALWAYS = ("workflow_state", "updated_at", "event_count", "audit_head", "version")

CASES: Table = Case.__table__
EVENTS: Table = CaseEvent.__table__

_CASE_BY_REFERENCE = select(CASES).where(CASES.c.reference == bindparam("reference"))
_CASE_BY_ID = select(CASES).where(CASES.c.id == bindparam("case_id"))
# The SET clause is the columns given with each execution. SQLite rewrites every index
# whose column is in it, changed or not, so a save passes only the columns that changed;
# SQLAlchemy compiles each such set once and keeps it.
_SAVE = CASES.update().where(CASES.c.id == bindparam("case_id"),
                             CASES.c.version == bindparam("seen"))
deferred.checked(_SAVE)
deferred.combine(_SAVE, deferred.updating(CASES, {"case_id": "id", "seen": "version"}))
_CASE_WITH_TASK = (
    select(CASES, *(TASKS.c[name].label(f"task_{name}") for name in TASK_COLUMNS),
           TASKS.c.id.label("task_row"))
    .select_from(CASES.outerjoin(TASKS, (TASKS.c.case_id == CASES.c.id)
                                 & (TASKS.c.task_id == bindparam("task_id"))))
    .where(CASES.c.reference == bindparam("reference")))
_INSERT_EVENT = EVENTS.insert()
deferred.combine(_INSERT_EVENT, deferred.inserting(EVENTS))
_FLAG_TASK = TASKS.update().where(TASKS.c.case_id == bindparam("of_case"),
                                  TASKS.c.task_id == bindparam("t_id")).values(
    flag=bindparam("flag"))
# The inbox badge on a task that everyone holding its role is barred from.
NOBODY_ELIGIBLE = "Nobody may do this: all who hold the role handled the case"
_CONFLICT = ("Case {} was changed by someone else at the same moment. Reload it and try "
             "again; nothing of yours was saved.")


_INSERT_CASE = CASES.insert().returning(CASES.c.id)
# The due times written by the steps of the batch under way (None: no batch, commit each).
_BATCH: ContextVar[list[datetime] | None] = ContextVar("plaint_batch", default=None)


@contextmanager
def batched() -> Iterator[list[datetime]]:
    """Steps saved inside neither commit nor announce: the caller commits them together.

    Yields the due times the steps wrote; the caller tells other processes of the earliest
    (wakeup.notify) before its commit and announces it after. A Conflict leaves the
    transaction to the caller (its savepoint rolls back).
    """
    written: list[datetime] = []
    token = _BATCH.set(written)
    try:
        yield written
    finally:
        _BATCH.reset(token)


def load_case(reference: str) -> CaseRecord:
    """The case row with this reference, for a service about to change it."""
    row = db.session.connection().execute(_CASE_BY_REFERENCE, {"reference": reference}).first()
    if row is None:
        raise NotFound(_("There is no case %(reference)s.", reference=reference))
    return CaseRecord(**row._mapping)


def load_case_by_id(case_id: int) -> CaseRecord | None:
    """The case row with this id, or None."""
    row = db.session.connection().execute(_CASE_BY_ID, {"case_id": case_id}).first()
    return CaseRecord(**row._mapping) if row is not None else None


def load_case_and_task(reference: str, task_id: str) -> tuple[CaseRecord, TaskRecord | None]:
    """A case row and one of its ready tasks (None if not ready), in one query."""
    row = db.session.connection().execute(
        _CASE_WITH_TASK, {"reference": reference, "task_id": task_id}).first()
    if row is None:
        raise NotFound(_("There is no case %(reference)s.", reference=reference))
    values = dict(row._mapping)
    task = {name: values.pop(f"task_{name}") for name in TASK_COLUMNS}
    found = values.pop("task_row") is not None
    return CaseRecord(**values), TaskRecord(**task) if found else None


def record_new_case(fields: dict[str, Any], state: bytes, snapshot: Snapshot, actor: Actor,
                    summary: str, data: dict[str, Any], now: datetime,
                    link_seed: str | None = None,
                    also: Callable[[CaseRecord], None] | None = None) -> CaseRecord:
    """Insert a new case with the outcome of its first engine run, commit, return it.

    `link_seed` stands for the complainant's secret link (services/links.py): the first
    e-mails may carry the link, made from it only when they are sent. `also` writes what
    must commit with the case or not at all (the e-mail a case was made from).
    """
    # The id is the database's to give: the draft has none until its row is inserted.
    try:
        case, written = insert_case(fields, state, snapshot, actor, summary, data, now,
                                    link_seed)
        if also is not None:
            also(case)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise
    _announce(written)
    return case


def insert_case(fields: dict[str, Any], state: bytes, snapshot: Snapshot, actor: Actor,
                summary: str, data: dict[str, Any], now: datetime,
                link_seed: str | None = None,
                kind: str = "case.received") -> tuple[CaseRecord, datetime | None]:
    """Insert a new case and its first engine run's rows, without committing.

    Return the case as inserted and the earliest new timer (for `announce` after the
    commit). A corrective action is inserted so inside the step of the case that asked for
    it. Only complaints have reporting facts.
    """
    draft = CaseRecord(
        id=0, status_label=None, priority=None, category=None, acknowledged_at=None,
        resolved_at=None, closed_at=None, is_open=True, updated_at=now, audit_head=None,
        event_count=0, version=0, workflow_state=state, projection=None, **fields)
    values, event = _outcome(draft, state, snapshot, actor, kind, summary, data, now)
    case = replace(draft, id=db.session.connection().execute(
        _INSERT_CASE, {**fields, **values}).scalar_one())
    event["case_id"] = case.id
    written = _write_rest(case, snapshot, event, now, link_seed)
    if written is not None:
        wakeup.notify(written)  # delivered to other processes' schedulers at the commit
    saved = replace(case, **values)
    if saved.kind == "complaint":
        reporting.record(saved, snapshot, now)
    return saved, written


def record_step(case: CaseRecord, state: bytes, snapshot: Snapshot, actor: Actor, kind: str,
                summary: str, data: dict[str, Any], now: datetime,
                also: Callable[[], None] | None = None) -> CaseRecord:
    """Save a case after an engine run and commit; return the case as saved.

    Raise Conflict if the case changed since it was read. `also` writes what must commit
    with the step or not at all (the e-mail that brought a message).
    """
    owned = case
    if ownership.takes_by_completing(case, actor, kind, data):  # the first handler owns it
        summary, data = ownership.noted(summary, data, actor)
        owned = replace(case, owner_id=actor.user_id)
    started: list[datetime | None] = []
    if snapshot.thrown:  # corrective actions asked for: opened or linked in this transaction
        summary, data, started = actions.take_thrown(case, snapshot.thrown, actor, now,
                                                     summary, data)
    values, event = _outcome(case, state, snapshot, actor, kind, summary, data, now)
    values["owner_id"] = owned.owner_id
    changed = tuple(name for name in (*MUTABLE, "version", "owner_id")
                    if name in ALWAYS or values[name] != getattr(case, name))
    def then() -> datetime | None:
        written = _write_rest(owned, snapshot, event, now)
        if case.kind == "complaint":
            reporting.record(replace(owned, **values), snapshot, now)  # the reporting facts
        else:
            actions.after_step(case, snapshot, now)
        if also is not None:
            also()
        return min((at for at in (written, *started) if at is not None), default=None)

    return _save(case, values, changed, then)


def _save(case: CaseRecord, values: dict[str, Any], columns: tuple[str, ...],
          then: Callable[[], datetime | None]) -> CaseRecord:
    """UPDATE the case row if it is still at the version read, run `then`, commit."""
    batch = _BATCH.get()
    row = {**{name: values[name] for name in columns}, "case_id": case.id, "seen": case.version}
    try:
        if deferred.active():  # a sweep's batch: saved with the others, checked at the flush
            deferred.write(_SAVE, row)
        elif run(_SAVE, row).rowcount != 1:
            raise Conflict(_CONFLICT.format(case.reference))
        written = then()
        if batch is None:
            if written is not None:
                wakeup.notify(written)  # other processes' schedulers hear of it at the commit
            db.session.commit()
    except IntegrityError:
        if batch is None:
            db.session.rollback()
        raise Conflict(_CONFLICT.format(case.reference)) from None
    except Conflict:
        if batch is None:
            db.session.rollback()
        raise
    if batch is None:
        _announce(written)
    elif written is not None:
        batch.append(written)  # the batch's owner notifies once, before its commit
    return replace(case, **values)


def _outcome(case: CaseRecord, state: bytes, snapshot: Snapshot, actor: Actor, kind: str,
             summary: str, data: dict[str, Any],
             now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case row's new values and the history row that records the step."""
    values = {name: getattr(case, name) for name in MUTABLE}
    values.update(_changed_fields(case, snapshot, now))
    changes = {f: [getattr(case, f), values[f]] for f in WATCHED
               if values[f] != getattr(case, f)}
    # What other systems hear of (services/events.py): the tasks that became ready and
    # the deadlines that fired in this step, recorded with it.
    before = projections.stored_summary(case)["tasks"]
    noted = {"ready": events.ready_entries(snapshot.ready, before),
             "deadlines": events.deadline_entries(snapshot.deadlines)}
    event = audit.entry(case, actor, kind, summary,
                        {**data, "changes": changes,
                         "next": [t.title for t in snapshot.ready],
                         **{key: value for key, value in noted.items() if value}},
                        at=now, row=values)
    values.update(workflow_state=state, updated_at=now, event_count=event["seq"],
                  audit_head=event["hash"], version=case.version + 1,
                  projection=projections.dumped(projections.summary_of(snapshot)))
    return values, event



def _write_rest(case: CaseRecord, snapshot: Snapshot, event: dict[str, Any],
                now: datetime, link_seed: str | None = None) -> datetime | None:
    """Write the projections, the history row and the outbox; return the earliest new due."""
    before = projections.stored_summary(case)
    fresh = [t for t in snapshot.ready if t.task_id not in before["tasks"]]
    # In a sweep's batch the new task rows go in with the others at its end (one statement
    # on PostgreSQL), unless this step changes them: then they must be there now.
    later = bool(fresh) and deferred.active() and not _changes_new_tasks(case, fresh)
    written = projections.sync(case, before, snapshot, now, tasks_later=later)
    _history(case, event)
    if fresh:  # after the event: this step's performer counts
        ownership.route(case, fresh)  # the owner's role's new tasks go to the owner
        _alert_unstaffed(case, fresh, now)
    if snapshot.notices:
        # In the same transaction as the step: no e-mail without its step, nor the reverse.
        notifications.enqueue(case, snapshot.notices, now, link_seed, snapshot.ready)
    if snapshot.service_calls:  # made later by a worker, never inside this transaction
        service_queue.enqueue(case, snapshot.service_calls, now)
    return written


def _changes_new_tasks(case: CaseRecord, fresh: list[ReadyTask]) -> bool:
    """Whether routing or the unstaffed flag may change these new task rows in this step:
    routing gives the owner tasks of owning roles, the flag looks at tasks that exclude
    who handled the case (ownership.route and objectivity.unstaffed, which write them)."""
    if case.owner_id is not None and not ownership.owning_roles().isdisjoint(
            t.role for t in fresh):
        return True
    runtime = runtime_for(case.process_version_id)
    return any(t.role is not None and runtime.task_info(t.bpmn_id)["excludes"] for t in fresh)


def _history(case: CaseRecord, event: dict[str, Any]) -> None:
    """Append a history row, and the webhook deliveries it gives, in the step's transaction."""
    if deferred.active() and not webhooks.wanted():  # a sweep's batch inserts it with others
        deferred.write(_INSERT_EVENT, event)
        return
    row_id = run(_INSERT_EVENT, event).inserted_primary_key[0]  # type: ignore[index]
    webhooks.enqueue(case, row_id, event)


def _alert_unstaffed(case: CaseRecord, new: list[ReadyTask], now: datetime) -> None:
    """Flag, and tell the complaints managers of, new tasks nobody left may do.

    A task that excludes who handled the case (objectivity, separation of duties) would
    otherwise wait silently when everyone holding its role did.
    """
    for task in objectivity.unstaffed(case, new):
        run(_FLAG_TASK, {"of_case": case.id, "t_id": task.task_id,
                          "flag": NOBODY_ELIGIBLE[:255]})
        notifications.enqueue(case, [Notice(
            template="nobody_eligible", recipient="complaints_manager",
            element=task.bpmn_id, title=task.title, task_id=task.task_id, role=task.role,
            data={})], now, ready=new)


def announce(written: datetime | None) -> None:
    """Wake the schedulers for a timer written by a committed step (None: nothing new)."""
    _announce(written)


def _announce(written: datetime | None) -> None:
    # After the commit, so a scheduler woken by this finds the row.
    if written is not None:
        timers_written.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                            due_at=written)


def _changed_fields(case: CaseRecord, snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if snapshot.status_label:
        values["status_label"] = snapshot.status_label[:255]
    for name in PROJECTED:
        value = snapshot.data.get(name)
        if isinstance(value, str) and value:
            values[name] = value[:64]
    # The owning team (need-to-know): the diagram's `team` variable or the routing table.
    team = teams.projected(case.team_id, snapshot.data, values.get("category", case.category))
    if team != case.team_id:
        values["team_id"] = team
    for milestone, column in MILESTONES.items():
        if milestone in snapshot.milestones and getattr(case, column) is None:
            values[column] = now
    # A "closed" milestone closes the case while its diagram still waits (a survey, a
    # reopen window); "reopened" opens it again. The last one reached in the run wins.
    for milestone in snapshot.reached:
        if milestone == "closed":
            values["is_open"], values["closed_at"] = False, now
        elif milestone == "reopened":
            values["is_open"], values["closed_at"] = True, None
    if snapshot.completed and case.is_open and values.get("is_open", True):
        values["is_open"] = False
        values["closed_at"] = now
    return values


def record_event(case: CaseRecord, actor: Actor, kind: str, summary: str,
                 data: dict[str, Any], now: datetime) -> CaseRecord:
    """Append a history entry that is not an engine run (a claim, a note); commit."""
    event = audit.entry(case, actor, kind, summary, data, at=now)
    values = {"updated_at": now, "event_count": event["seq"], "audit_head": event["hash"],
              "version": case.version + 1}
    def append() -> None:
        _history(case, event)

    return _save(case, values, tuple(values), append)


def append_event(case: CaseRecord, actor: Actor, kind: str, summary: str,
                 data: dict[str, Any], now: datetime) -> CaseRecord:
    """Append a history entry in the caller's transaction, without committing.

    For a change that concerns two cases at once (a complaint linked to a corrective
    action): both entries commit together or not at all. Raise Conflict if the case
    changed since it was read.
    """
    event = audit.entry(case, actor, kind, summary, data, at=now)
    values = {"updated_at": now, "event_count": event["seq"], "audit_head": event["hash"],
              "version": case.version + 1}
    if run(_SAVE, {**values, "case_id": case.id, "seen": case.version}).rowcount != 1:
        raise Conflict(_CONFLICT.format(case.reference))
    _history(case, event)
    return replace(case, **values)


def record_migration(case: CaseRecord, version_id: int, state: bytes, snapshot: Snapshot,
                     actor: Actor, summary: str, data: dict[str, Any],
                     now: datetime) -> CaseRecord:
    """Save a case moved to another process version (services/processes/migration.py); commit.

    The history entry vouches for the row with its new version. Every projection row is
    written again from the new version (titles, forms, roles and due times may differ);
    a ready task keeps its id, and so its assignee and its place in the inbox.
    """
    moved = replace(case, process_version_id=version_id)
    started: list[datetime | None] = []
    if snapshot.thrown:  # a timer the move fired asked for a corrective action: as in a step
        summary, data, started = actions.take_thrown(moved, snapshot.thrown, actor, now,
                                                     summary, data)
    values, event = _outcome(moved, state, snapshot, actor, "case.migrated", summary, data, now)
    values["process_version_id"] = version_id
    changed = tuple(name for name in (*MUTABLE, "version", "process_version_id")
                    if name in ALWAYS or values[name] != getattr(case, name))

    def then() -> datetime | None:
        before = projections.stored_summary(case)
        projections.rewrite(case, before, snapshot, now)
        _history(case, event)
        fresh = [t for t in snapshot.ready if t.task_id not in before["tasks"]]
        if fresh:  # a task the new diagram adds at once (a timer it set in the past fired)
            ownership.route(case, fresh)
            _alert_unstaffed(case, fresh, now)
        if snapshot.notices:
            notifications.enqueue(case, snapshot.notices, now, ready=snapshot.ready)
        if snapshot.service_calls:
            service_queue.enqueue(case, snapshot.service_calls, now)
        if case.kind == "complaint":
            reporting.record(replace(moved, **values), snapshot, now)
        else:
            actions.after_step(moved, snapshot, now)
        return min((at for at in (*(t.due_at for t in snapshot.timers), *started)
                    if at is not None), default=None)

    return _save(case, values, changed, then)
