"""The projection rows of a case: one per ready user task, one per waiting timer.

DESIGN decision 5: after every engine run the write path (services/recording.py) brings
these rows in line with the run's snapshot, in the step's transaction; inboxes, sweeps and
reports read them and never the workflow. The case row keeps a compact summary of what the
rows hold (`Case.projection`: each id with its due time and flag), so a step compares
before and after without reading the rows, and writes only those that changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Executable, Table, bindparam

from ..engine import ReadyTask, Snapshot, WaitingTimer
from ..extensions import db
from ..models import HumanTask, Timer
from . import deferred
from .records import CaseRecord

TASKS: Table = HumanTask.__table__
TIMERS: Table = Timer.__table__
Summary = dict[str, dict[str, str | None]]  # "tasks"/"timers": id -> due time and flag


def run(statement: Executable,
        params: dict[str, Any] | list[dict[str, Any]]) -> CursorResult[Any]:
    """Execute a prebuilt statement in the session's transaction."""
    return db.session.connection().execute(statement, params)


class _Rows:
    """The statements that keep one projection table in line with snapshots."""

    def __init__(self, table: Table, moved: tuple[str, ...], insert_later: bool) -> None:
        self.moved = moved
        self.insert_later = insert_later
        of_case = table.c.case_id == bindparam("of_case")
        self.move = table.update().where(of_case, table.c.task_id == bindparam("t_id"))
        self.insert = table.insert()
        self.delete = table.delete().where(
            of_case, table.c.task_id.in_(bindparam("gone", expanding=True)))
        # One row per execution, so a sweep's batch deletes its fired timers in one go.
        self.delete_one = table.delete().where(of_case, table.c.task_id == bindparam("t_id"))
        # On PostgreSQL a batch's rows of each go in one statement (deferred.py).
        keys = {"of_case": "case_id", "t_id": "task_id"}
        deferred.combine(self.delete_one, deferred.deleting(table, keys))
        deferred.combine(self.insert, deferred.inserting(table))
        deferred.combine(self.move, deferred.updating(table, keys))


# Moves and deletes go through services/deferred.py: nothing reads them before the commit
# (notifications take a ready task's due time from the snapshot). A step's new task rows
# are written at once when routing or the unstaffed-task flag change them within the step
# (the caller says when neither does: `sync(tasks_later=True)`).
_TASK_ROWS = _Rows(TASKS, ("due_at", "flag"), insert_later=False)
# A cycle timer that moved on to its next occurrence becomes a fresh, unclaimed row.
_TIMER_ROWS = _Rows(TIMERS, ("due_at", "claimed_by", "claimed_until", "last_error", "attempts"),
                    insert_later=True)
_ROW_COLUMNS = {"tasks": ("bpmn_id", "title", "lane", "role", "form", "due_at", "flag"),
                "timers": ("bpmn_id", "title", "due_at")}
# A moved case's rows that stay (same task id) take the new version's values; the SET
# clause is the columns given with the execution.
_REWRITE = {key: table.update().where(table.c.case_id == bindparam("of_case"),
                                      table.c.task_id == bindparam("t_id"))
            for key, table in (("tasks", TASKS), ("timers", TIMERS))}


def summary_of(snapshot: Snapshot) -> Summary:
    """The task and timer ids with their due times (and task flags), as stored on the case."""
    return {"tasks": {t.task_id: _state(t) for t in snapshot.ready},
            "timers": {t.task_id: _state(t) for t in snapshot.timers}}


def stored_summary(case: CaseRecord) -> Summary:
    """What the case's projection rows hold, from the case row."""
    return json.loads(case.projection) if case.projection else {"tasks": {}, "timers": {}}


def dumped(summary: Summary) -> str:
    """The summary as the case row stores it."""
    return json.dumps(summary, separators=(",", ":"))


def sync(case: CaseRecord, before: Summary, snapshot: Snapshot, now: datetime,
         tasks_later: bool = False) -> datetime | None:
    """Bring the case's task and timer rows from `before` to the snapshot.

    Returns the earliest due time among the timers written or moved (None: no timer
    changed), which the schedulers must hear of. `tasks_later`: nothing in this step
    changes its new task rows, so a sweep's batch may insert them at its end.
    """
    after = summary_of(snapshot)
    if before["tasks"] != after["tasks"]:
        _sync(_TASK_ROWS, case, before["tasks"], snapshot.ready, now, tasks_later)
    if before["timers"] == after["timers"]:
        return None
    _sync(_TIMER_ROWS, case, before["timers"], snapshot.timers, now)
    return min((t.due_at for t in snapshot.timers
                if before["timers"].get(t.task_id) != after["timers"][t.task_id]), default=None)


def rewrite(case: CaseRecord, before: Summary, snapshot: Snapshot, now: datetime) -> None:
    """Write every row again for a case moved to another version (titles, forms, roles and
    due times may differ); a ready task keeps its id, and so its assignee."""
    for key, rows, items in (("tasks", _TASK_ROWS, snapshot.ready),
                             ("timers", _TIMER_ROWS, snapshot.timers)):
        kept = [item for item in items if item.task_id in before[key]]
        _sync(rows, case, before[key], items, now)
        if kept:
            run(_REWRITE[key], [{"of_case": case.id, "t_id": item.task_id,
                                 **{name: getattr(item, name) for name in _ROW_COLUMNS[key]},
                                 "title": item.title[:255]} for item in kept])


def _new_row(case: CaseRecord, item: ReadyTask | WaitingTimer, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"case_id": case.id, "task_id": item.task_id,
                           "bpmn_id": item.bpmn_id, "title": item.title[:255],
                           "due_at": item.due_at}
    if isinstance(item, ReadyTask):
        row.update(lane=item.lane, role=item.role, form=item.form, assignee_id=None,
                   created_at=now, flag=item.flag)
    else:
        row.update(claimed_by=None, claimed_until=None, attempts=0, last_error=None)
    return row


def _state(item: ReadyTask | WaitingTimer) -> str | None:
    """What a projection row shows that can change while it exists: due time and flag."""
    due = item.due_at.isoformat() if item.due_at is not None else None
    flag = getattr(item, "flag", None)
    return f"{due}|{flag}" if flag else due


def _sync(rows: _Rows, case: CaseRecord, before: dict[str, str | None],
          items: Sequence[ReadyTask | WaitingTimer], now: datetime,
          insert_later: bool = False) -> None:
    """Change a projection table's rows for a case from `before` to `items`."""
    wanted = {item.task_id: item for item in items}
    gone = [task_id for task_id in before if task_id not in wanted]
    if gone and deferred.active():
        deferred.write(rows.delete_one, [{"of_case": case.id, "t_id": t} for t in gone])
    elif gone:
        run(rows.delete, {"of_case": case.id, "gone": gone})
    fresh = {"claimed_by": None, "claimed_until": None, "last_error": None, "attempts": 0}
    for task_id, item in wanted.items():
        if task_id in before:
            if _state(item) != before[task_id]:
                values = {**fresh, "due_at": item.due_at, "flag": getattr(item, "flag", None)}
                deferred.write(rows.move, {"of_case": case.id, "t_id": task_id,
                                           **{name: values[name] for name in rows.moved}})
    new = [_new_row(case, item, now) for task_id, item in wanted.items()
           if task_id not in before]
    if new and (rows.insert_later or insert_later):
        deferred.write(rows.insert, new)
    elif new:
        run(rows.insert, new)
