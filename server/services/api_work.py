"""Task work over the API, through the same services as the web: claim, complete, message.

Each call acts as the client's actor (its acting user's roles), so role, assignee and
objectivity rules answer as they do on the web; a stale case version is a conflict.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..errors import Conflict
from ..extensions import db
from . import api_reads, cases, inbox, portal
from .actors import Actor
from .forms import validate


def _stale(reference: str, expected: int | None) -> None:
    """Refuse a call made against an older version of the case."""
    if expected is not None and cases.get_case(reference).version != expected:
        raise Conflict(_("Case %(reference)s changed since version %(version)d: read it "
                         "again and send the call with its new version.",
                         reference=reference, version=expected))


def step(reference: str) -> dict[str, Any]:
    """Where the case stands now, with its ready tasks."""
    db.session.expire_all()
    case = cases.get_case(reference)
    return {"reference": case.reference, "version": case.version,
            "status": case.status_label, "open": case.is_open,
            "tasks": api_reads.task_rows(case.id)}


def claim(reference: str, task_id: str, actor: Actor, expected: int | None) -> dict[str, Any]:
    """Take an unclaimed task for the acting user."""
    api_reads.readable(reference, actor, "task")
    _stale(reference, expected)
    inbox.claim(reference, task_id, actor)
    db.session.commit()
    return step(reference)


def complete(reference: str, task_id: str, values: dict[str, Any], actor: Actor,
             expected: int | None) -> dict[str, Any]:
    """Complete a task with its form's fields, validated as on the web."""
    api_reads.readable(reference, actor, "task")
    cases.complete_task(reference, task_id, values, actor, expected_version=expected)
    return step(reference)


def send_message(reference: str, name: str, values: dict[str, Any],
                 actor: Actor) -> dict[str, Any]:
    """Send a message the case waits for; one with a form is validated against it."""
    case = api_reads.readable(reference, actor, "message")
    asked = next((q for q in portal.questions(case) if q["message"] == name), None)
    if asked is None and name not in cases.waiting_messages(case):  # type: ignore[arg-type]
        raise Conflict(_("Case %(reference)s is not waiting for '%(name)s' at this stage.",
                         reference=reference, name=name))
    cleaned = validate(asked["schema"], values) if asked is not None else values
    cases.send_message(reference, name, cleaned, actor)
    return step(reference)
