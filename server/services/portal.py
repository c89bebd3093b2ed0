"""What complainants do without an account: track a case by its secret link, answer it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Case, CaseEvent, HumanTask
from . import links
from .actors import Actor
from .cases import send_message
from .forms import validate
from .processes import form_schema, runtime_for

NOT_FOUND = ("This tracking link is not valid. Check that you copied all of it. A link that "
             "worked before may have expired or been replaced by a newer one: ask for a new "
             "link with your case reference and e-mail address on the page /track.")
NOT_ASKED = ("Your case is not waiting for this answer any more. Reload the page to see "
             "where it stands.")
PUBLIC_KINDS = ("case.received", "task.completed", "message.received", "timer.fired",
                "case.reopened")


@dataclass(frozen=True)
class StatusChange:
    """A moment the public status of a case changed."""

    at: datetime
    label: str


def case_for_token(token: str) -> Case:
    """The case a tracking token opens; the same message for every kind of wrong token."""
    if not token or len(token) > 100:
        raise NotFound(_(NOT_FOUND))
    if "." in token:  # a signed link from a later e-mail (services/links.py)
        case_id = links.signed_case_id(token)
        case = db.session.get(Case, case_id) if case_id is not None else None
    else:
        case = db.session.scalar(select(Case).where(
            Case.tracking_token_hash == links.token_hash(token)))
    if case is None:
        raise NotFound(_(NOT_FOUND))
    return case


def public_history(case: Case) -> list[StatusChange]:
    """The public status labels the case went through, oldest first (never internal notes)."""
    changes: list[StatusChange] = []
    for event in db.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind.in_(PUBLIC_KINDS))
            .order_by(CaseEvent.seq)):
        change = json.loads(event.data).get("changes", {}).get("status_label")
        if change and change[1]:
            changes.append(StatusChange(event.at, change[1]))
    return changes


def next_expected(case: Case) -> datetime | None:
    """When the next step on our side is due, if the process set a deadline."""
    return db.session.scalar(select(HumanTask.due_at).where(
        HumanTask.case_id == case.id, HumanTask.due_at.is_not(None))
        .order_by(HumanTask.due_at).limit(1))


def questions(case: Case) -> list[dict[str, Any]]:
    """What the process asks the complainant now, each with its form schema."""
    runtime = runtime_for(case.process_version_id)
    asked = runtime.message_forms(runtime.load(case.workflow_state))
    for item in asked:
        item["schema"] = form_schema(case.process_version_id, item["form"])
        item["ui"] = form_schema(case.process_version_id, item["ui_form"]) \
            if item["ui_form"] else None
    return asked


def answer(case: Case, question: dict[str, Any], values: dict[str, Any]) -> None:
    """Validate the complainant's answer to a question of `questions()` and send it in.

    If the case moved on meanwhile, sending the message fails with a Conflict.
    """
    cleaned = validate(question["schema"], values)
    send_message(case.reference, question["message"], cleaned, Actor.complainant())
