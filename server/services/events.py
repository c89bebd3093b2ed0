"""Case events for other systems: what webhooks deliver and the events feed lists.

Every event is read from one row of a case's history (case_event), so there is one event
log, and a webhook and the feed say the same thing with the same id: `evt_<history row
id>_<n>`, the n-th event of that row. A row gives:

* `case.created`: the case's first step (a complaint received, a corrective action opened);
* `task.completed`: a person completed a task (the row of a `task.completed` step);
* `deadline.reminder` / `deadline.breached`: a boundary timer on a task fired in the step:
  a reminder when the diagram marks it `reminder`, else its deadline passed;
* `case.closed` / `case.reopened`: the step closed or reopened the case (its `is_open`);
* `incident.opened`: the case stopped on an incident;
* `task.ready`: a task became ready in the step, one event per task.

Personal data (the complainant's name, e-mail and phone, the description, form values and
error texts that may quote them) is in an event only when `personal` is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select

from ..extensions import db
from ..models import Case, CaseEvent

CASE_CREATED, TASK_READY, TASK_COMPLETED = "case.created", "task.ready", "task.completed"
REMINDER, BREACHED = "deadline.reminder", "deadline.breached"
CASE_CLOSED, CASE_REOPENED, INCIDENT_OPENED = "case.closed", "case.reopened", "incident.opened"
EVENT_TYPES = (CASE_CREATED, TASK_READY, TASK_COMPLETED, REMINDER, BREACHED, CASE_CLOSED,
               CASE_REOPENED, INCIDENT_OPENED)
CREATING = frozenset({"case.received", "action.opened"})  # history kinds of a first step
FEED_BATCH = 200
FEED_MAX_LIMIT = 500
FEED_MAX_SCAN = 5000  # history rows read per call at most, events or not
# The case row's fields an event may carry; the personal ones only when allowed.
CASE_FIELDS = ("reference", "kind", "channel", "status_label", "priority", "category",
               "is_open", "received_at")
PERSONAL_FIELDS = ("complainant_name", "complainant_email", "complainant_phone",
                   "preferred_language", "product_service", "description", "remedy_sought",
                   "representative_name", "representative_relationship",
                   "representative_email", "representative_phone")


def event_id(row_id: int, index: int) -> str:
    """The stable id of the index-th event of a history row (the webhook-id header)."""
    return f"evt_{row_id}_{index}"


def _iso(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC text ("...Z"), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _case_data(case: Any, changes: Mapping[str, Any], actor: str,
               personal: bool) -> dict[str, Any]:
    """What every event says about its case, as it stands after the step."""
    def after(field: str) -> Any:
        change = changes.get(field)
        return change[1] if isinstance(change, list) and len(change) == 2 \
            else getattr(case, field)

    data: dict[str, Any] = {
        "reference": case.reference, "case_kind": case.kind, "channel": case.channel,
        "status": after("status_label"), "priority": after("priority"),
        "category": after("category"), "open": bool(after("is_open")), "actor": actor}
    if personal:
        data["complainant"] = {"name": case.complainant_name or None,
                               "email": case.complainant_email,
                               "phone": case.complainant_phone,
                               "language": case.preferred_language}
        data["description"] = case.description
    return data


def of_history(row_id: int, kind: str, at: datetime, actor: str, data: Mapping[str, Any],
               case: Any, personal: bool) -> list[dict[str, Any]]:
    """The events one history row gives, in order, each {id, type, timestamp, data}.

    `case` has the case row's fields (a CaseRecord or a row of the case table); `data`
    is the history row's data. The same row always gives the same ids and types.
    """
    found_changes = data.get("changes")
    changes: Mapping[str, Any] = found_changes if isinstance(found_changes, dict) else {}
    base = _case_data(case, changes, actor, personal)
    found: list[tuple[str, dict[str, Any]]] = []
    if kind in CREATING:
        extra: dict[str, Any] = {"received_at": _iso(case.received_at)}
        if personal:
            extra.update({name: getattr(case, name) for name in PERSONAL_FIELDS[4:]})
            if isinstance(data.get("values"), dict):
                extra["values"] = data["values"]
        found.append((CASE_CREATED, extra))
    if kind == "task.completed":
        task = {"id": data.get("task_id"), "element": data.get("task"),
                "title": data.get("title"), "role": data.get("role")}
        done: dict[str, Any] = {"task": task}
        if personal and isinstance(data.get("values"), dict):
            done["values"] = data["values"]
        found.append((TASK_COMPLETED, done))
    for deadline in data.get("deadlines") or ():
        found.append((REMINDER if deadline.get("kind") == "reminder" else BREACHED, {
            "deadline": {"element": deadline.get("element"), "title": deadline.get("title"),
                         "due": deadline.get("due")},
            "task": {"id": deadline.get("task_id"), "title": deadline.get("task_title"),
                     "role": deadline.get("role")}}))
    opened = changes.get("is_open")
    if isinstance(opened, list) and len(opened) == 2 and opened[0] != opened[1]:
        found.append((CASE_REOPENED if opened[1] else CASE_CLOSED, {}))
    if kind == "incident.opened":
        incident: dict[str, Any] = {"id": data.get("incident"), "element": data.get("element")}
        if personal:  # an error text may quote the case's data
            incident["error"] = data.get("error")
        found.append((INCIDENT_OPENED, {"incident": incident}))
    for task in data.get("ready") or ():
        found.append((TASK_READY, {"task": {"id": task.get("id"), "title": task.get("title"),
                                            "role": task.get("role"),
                                            "due": task.get("due")}}))
    stamp = _iso(at)
    return [{"id": event_id(row_id, index), "type": kind_, "timestamp": stamp,
             "data": {**base, **extra_}} for index, (kind_, extra_) in enumerate(found)]


def ready_entries(ready: list[Any], before: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The history's note of the tasks that became ready in a step (not in `before`)."""
    return [{"id": t.task_id, "title": t.title, "role": t.role, "due": _iso(t.due_at)}
            for t in ready if t.task_id not in before]


def deadline_entries(deadlines: list[Any]) -> list[dict[str, Any]]:
    """The history's note of the boundary timers on tasks that fired in a step."""
    return [{"kind": d.kind, "element": d.element, "title": d.title, "task_id": d.task_id,
             "task_title": d.task_title, "role": d.role, "due": _iso(d.due_at)}
            for d in deadlines]


_EVENTS = CaseEvent.__table__
_CASES = Case.__table__
_FEED = (select(_EVENTS.c.id, _EVENTS.c.kind.label("event_kind"), _EVENTS.c.at,
                _EVENTS.c.actor, _EVENTS.c.data,
                *(_CASES.c[name] for name in CASE_FIELDS + PERSONAL_FIELDS))
         .join(_CASES, _CASES.c.id == _EVENTS.c.case_id)
         .where(_EVENTS.c.id > bindparam("after")).order_by(_EVENTS.c.id)
         .limit(bindparam("batch")))


def feed(after: int | None, limit: int, personal: bool,
         limits: Sequence[ColumnElement[bool]] = ()) -> tuple[list[dict[str, Any]], int | None]:
    """Events after the cursor `after`, oldest first, and the cursor to ask from next.

    The cursor is a history row id; one step's events are never split between calls, so
    a step with more events than `limit` comes whole. With no new events the cursor
    stays `after`. Case fields other than what the history row records (status,
    priority, category, open) are the case's as it is now.
    """
    limit = max(1, min(limit, FEED_MAX_LIMIT))
    cursor = after or 0
    found: list[dict[str, Any]] = []
    scanned = 0
    connection = db.session.connection()
    statement = _FEED.where(*limits) if limits else _FEED
    while scanned < FEED_MAX_SCAN:
        rows = connection.execute(statement, {"after": cursor, "batch": FEED_BATCH}).all()
        for row in rows:
            events = of_history(row.id, row.event_kind, row.at, row.actor, json.loads(row.data),
                                row, personal)
            if found and len(found) + len(events) > limit:
                return found, cursor
            found.extend(events)
            cursor = row.id
            if len(found) >= limit:
                return found, cursor
        scanned += len(rows)
        if len(rows) < FEED_BATCH:
            break
    return found, cursor or after
