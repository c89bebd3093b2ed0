"""What the API reads: cases a page at a time, a case, its history, the acting user's tasks.

Pages are keyed by an opaque cursor (the last id seen, base64url JSON), so a page never
repeats or skips a case when new ones arrive between calls.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import InvalidInput
from ..extensions import db
from ..models import Case, HumanTask, User
from . import audit, cases, inbox, portal, process_texts, visibility
from .actors import Actor
from .processes import form_schema


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor for a position in a list."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, key: str) -> int | None:
    """The position a cursor names, or InvalidInput when it is not one of ours."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[key]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62:
            return value
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    message = _("This cursor is not one the API gave out: start again without it.")
    raise InvalidInput(message, {"cursor": [message]})


def case_page(is_open: bool | None, status: str | None, cursor: str | None,
              limit: int, reader: Actor) -> tuple[list[Case], str | None]:
    """A page of the cases the reader may read, oldest first, and the next page's cursor."""
    after = decode_cursor(cursor, "after")
    query = select(Case).where(*visibility.where(reader)).order_by(Case.id).limit(limit + 1)
    if after is not None:
        query = query.where(Case.id > after)
    if is_open is not None:
        query = query.where(Case.is_open.is_(is_open))
    if status:
        query = query.where(Case.status_label == status)
    found = list(db.session.scalars(query))
    more = len(found) > limit
    found = found[:limit]
    return found, encode_cursor({"after": found[-1].id}) if more and found else None


def summary(case: Case) -> dict[str, Any]:
    """What a list shows of a case."""
    return {"reference": case.reference, "kind": case.kind, "channel": case.channel,
            "status": case.status_label, "open": case.is_open, "priority": case.priority,
            "category": case.category, "received_at": case.received_at,
            "closed_at": case.closed_at, "version": case.version}


def readable(reference: str, reader: Actor, what: str = "api") -> Case:
    """The case with this reference, if need-to-know lets the reader read it."""
    case = cases.get_case(reference)
    visibility.check(reader, case.id, what, reference)
    return case


def case_detail(reference: str, reader: Actor) -> dict[str, Any]:
    """A case and its fields, its waiting messages and its ready tasks."""
    case = readable(reference, reader)
    owner = db.session.get(User, case.owner_id) if case.owner_id else None
    return {**summary(case),
            **{name: getattr(case, name) for name in (
                "complainant_name", "complainant_email", "complainant_phone",
                "preferred_language", "product_service", "description", "remedy_sought",
                "representative_name", "acknowledged_at", "resolved_at", "updated_at")},
            "owner": owner.username if owner else None,
            "waiting_for": cases.waiting_messages(case),  # type: ignore[arg-type]
            "tasks": task_rows(case.id)}


def history(reference: str, reader: Actor) -> dict[str, Any]:
    """A case's history entries, oldest first, as recorded."""
    case = readable(reference, reader)
    return {"reference": case.reference,
            "items": [{"seq": e.seq, "at": e.at, "actor": e.actor, "kind": e.kind,
                       "summary": e.summary, "data": json.loads(e.data or "{}")}
                      for e in audit.history(case)]}


def tracking(token: str) -> dict[str, Any]:
    """What the complainant's tracking page shows, by their tracking token."""
    case = portal.case_for_token(token)
    version, reader = case.process_version_id, process_texts.reading()
    return {"reference": case.reference,
            "status": process_texts.text(version, case.status_label, reader)
            if case.status_label else None,
            "open": case.is_open, "received_at": case.received_at,
            "expected_by": portal.next_expected(case) if case.is_open else None,
            "history": [{"at": c.at, "status": process_texts.text(version, c.label, reader)}
                        for c in portal.public_history(case)],
            "questions": [{"message": q["message"],
                           "title": process_texts.text(version, q["title"], reader)}
                          for q in portal.questions(case)]}


def _task(row: HumanTask, case: Case, assignee: str | None) -> dict[str, Any]:
    return {"task_id": row.task_id, "reference": case.reference,
            "title": process_texts.text(case.process_version_id, row.title,
                                        process_texts.reading()),
            "role": row.role, "assignee": assignee, "due_at": row.due_at,
            "case_version": case.version,
            "form": form_schema(case.process_version_id, row.form) if row.form else None}


def task_rows(case_id: int) -> list[dict[str, Any]]:
    """The case's ready tasks, oldest first."""
    found = db.session.execute(
        select(HumanTask, Case, User.username).join(Case, Case.id == HumanTask.case_id)
        .outerjoin(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == case_id).order_by(HumanTask.created_at, HumanTask.id))
    return [_task(row, case, name) for row, case, name in found]


def task_page(actor: Actor, view: str, cursor: str | None) -> tuple[list[dict[str, Any]],
                                                                     str | None]:
    """A page of the actor's inbox in a view, as the web inbox orders it."""
    page = decode_cursor(cursor, "page") or 1
    listed = inbox.inbox(actor, view=view, page=page)
    if page > listed.pages:
        return [], None
    wanted = {(r.reference, r.task_id) for r in listed.rows}
    rows = db.session.execute(
        select(HumanTask, Case, User.username).join(Case, Case.id == HumanTask.case_id)
        .outerjoin(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.task_id.in_(sorted(t for _r, t in wanted))))
    by_key = {(case.reference, row.task_id): _task(row, case, name) for row, case, name in rows}
    items = [by_key[(r.reference, r.task_id)] for r in listed.rows
             if (r.reference, r.task_id) in by_key]
    return items, encode_cursor({"page": page + 1}) if page < listed.pages else None
