"""Corrective actions (ISO 10002 8.7): opening them, and linking the complaints they answer.

An action is a case of kind "action" running the version's process that the message
`corrective_action_needed` (or whichever message a process of the version starts with)
starts. A case's step that throws such a message opens an action, or, when an action
with the same cause is still open, links the case to that one; both in the step's own
transaction (recording.py calls `take_thrown`). A complaints manager opens one by hand
from the register and links or unlinks complaints on its page.

The start message's payload carries `cause` (a code of the causes list), `description`
(the action asked for) and optionally `title`; the action's start data adds `complaint`
(the reference of the case that asked for it, if any) and `origin`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..database import begin_write
from ..engine import EngineError, Snapshot
from ..errors import InvalidInput, NotFound, ProcessFailed
from ..extensions import db
from ..models import ActionComplaint, Case, CorrectiveAction, utcnow
from . import code_lists, recording
from .actors import Actor
from .processes import active_version_id, runtime_for
from .records import CaseRecord

ACTION = "action"
COMPLAINT = "complaint"
IMPLEMENTED = "implemented"  # the milestone that stamps when the action was implemented
PREFIX = "CA"
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_LINKS = 50
_REFERENCES = re.compile(r"[\s,;]+")


@dataclass
class NewAction:
    """What the register's form sends, kept as typed when refused."""

    title: str = ""
    cause: str = ""
    description: str = ""
    complaints: str = ""

    @classmethod
    def from_values(cls, values: Any) -> NewAction:
        """The form from posted values."""
        return cls(" ".join(str(values.get("title") or "").split()),
                   str(values.get("cause") or "").strip(),
                   str(values.get("description") or "").strip().replace("\r\n", "\n"),
                   str(values.get("complaints") or "").strip())


def take_thrown(case: CaseRecord, thrown: list[tuple[str, dict[str, Any]]], actor: Actor,
                now: datetime, summary: str,
                data: dict[str, Any]) -> tuple[str, dict[str, Any], list[datetime | None]]:
    """Open or link the actions a case's step asked for, in the step's transaction.

    Return the step's summary and data saying so, and the new actions' first timers (for
    waking the scheduler after the commit).
    """
    notes: list[str] = []
    refs: list[str] = []
    timers: list[datetime | None] = []
    runtime = runtime_for(case.process_version_id)
    for message, payload in thrown:
        if runtime.starter_kinds.get(message) != ACTION:
            continue  # a case's step starts only corrective actions
        cause = str(payload.get("cause") or "").strip()[:64]
        found = _open_action(cause) if cause else None
        if found is not None:
            if _link(found, case, actor, now, note_complaint=False):
                notes.append(f"linked to corrective action {found.reference}")
                refs.append(found.reference)
            continue
        title = _title(payload)
        started, timer = _start(runtime, case.process_version_id, message, payload, cause,
                                title, "close", actor, now, origin_case=case)
        _link(started, case, actor, now, note_complaint=False)
        notes.append(f"corrective action {started.reference} opened")
        refs.append(started.reference)
        timers.append(timer)
    if not notes:
        return summary, data, timers
    return f"{summary}; {', '.join(notes)}", {**data, "actions": refs}, timers


def open_by_hand(form: NewAction, actor: Actor) -> CaseRecord:
    """Open a corrective action from the register; link the complaints given by reference."""
    errors: dict[str, list[str]] = {}
    if not form.title:
        errors["title"] = [_("Give the action a title.")]
    elif len(form.title) > MAX_TITLE:
        errors["title"] = [_("Use at most %(num)d characters.", num=MAX_TITLE)]
    if form.cause not in code_lists.titles("causes"):
        errors["cause"] = [_("Choose the cause from the list.")]
    if not form.description:
        errors["description"] = [_("Say what should be done.")]
    elif len(form.description) > MAX_DESCRIPTION:
        errors["description"] = [_("Use at most %(num)d characters.", num=MAX_DESCRIPTION)]
    complaints = _complaints(form.complaints, errors)
    if errors:
        db.session.rollback()
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors)
    begin_write()
    version_id = active_version_id()
    runtime = runtime_for(version_id)
    message = runtime.starter_of(ACTION)
    if message is None:
        raise ProcessFailed(_("The active process has no corrective-action process: a "
                              "process whose start event waits for a message."))
    now = utcnow()
    payload = {"cause": form.cause, "description": form.description, "title": form.title}
    action, timer = _start(runtime, version_id, message, payload, form.cause, form.title,
                           "register", actor, now)
    for reference in complaints:
        action = _link(action, recording.load_case(reference), actor, now) or action
    db.session.commit()
    recording.announce(timer)
    return action


def link(action_reference: str, complaints: str, actor: Actor) -> list[str]:
    """Link complaints (references separated by spaces or commas) to an action; commit."""
    errors: dict[str, list[str]] = {}
    references = _complaints(complaints, errors)
    if not references and not errors:
        errors["complaints"] = [_("Give the reference of a complaint to link.")]
    if errors:
        db.session.rollback()
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors)
    begin_write()
    action = load_action(action_reference)
    already = set(linked_references(action.id))
    twice = [r for r in references if r in already]
    if twice:
        db.session.rollback()
        message = _("Already linked to %(action)s: %(refs)s.", action=action.reference,
                    refs=", ".join(twice))
        raise InvalidInput(message, {"complaints": [message]})
    now = utcnow()
    for reference in references:
        action = _link(action, recording.load_case(reference), actor, now) or action
    db.session.commit()
    return references


def unlink(action_reference: str, complaint_reference: str, actor: Actor) -> None:
    """Take a complaint off an action; both histories say so; commit."""
    begin_write()
    action = load_action(action_reference)
    complaint = recording.load_case(complaint_reference)
    row = db.session.get(ActionComplaint, (action.id, complaint.id))
    if row is None:
        db.session.rollback()
        raise InvalidInput(_("%(ref)s is not linked to %(action)s.", ref=complaint.reference,
                             action=action.reference))
    db.session.delete(row)
    db.session.flush()
    now = utcnow()
    recording.append_event(action, actor, "action.unlinked",
                           f"Complaint {complaint.reference} unlinked",
                           {"complaint": complaint.reference}, now)
    recording.append_event(complaint, actor, "action.unlinked",
                           f"Unlinked from corrective action {action.reference}",
                           {"action": action.reference}, now)
    db.session.commit()


def after_step(action: CaseRecord, snapshot: Snapshot, now: datetime) -> None:
    """Keep an action's own row in line after its step: when it was implemented."""
    if IMPLEMENTED in snapshot.reached:
        db.session.execute(update(CorrectiveAction)
                           .where(CorrectiveAction.case_id == action.id)
                           .values(implemented_at=now)
                           .execution_options(synchronize_session=False))


def load_action(reference: str) -> CaseRecord:
    """The case row of a corrective action, for a service about to change it."""
    case = recording.load_case(reference)
    if case.kind != ACTION:
        raise NotFound(_("There is no corrective action %(ref)s.", ref=reference))
    return case


def linked_references(action_id: int) -> list[str]:
    """The references of the complaints linked to an action, oldest link first."""
    return list(db.session.scalars(
        select(Case.reference).join(ActionComplaint, ActionComplaint.complaint_id == Case.id)
        .where(ActionComplaint.action_id == action_id)
        .order_by(ActionComplaint.linked_at, Case.reference)))


def _complaints(text: str, errors: dict[str, list[str]]) -> list[str]:
    """The complaint references a form gives, each known and a complaint; notes what is not."""
    references = list(dict.fromkeys(r.strip().upper() for r in _REFERENCES.split(text or "")
                                     if r.strip()))
    if len(references) > MAX_LINKS:
        errors["complaints"] = [_("Link at most %(num)d complaints at a time.", num=MAX_LINKS)]
        return []
    if not references:
        return []
    kinds = {reference: kind for reference, kind in db.session.execute(
        select(Case.reference, Case.kind).where(Case.reference.in_(references)))}
    unknown = [r for r in references if r not in kinds]
    actions = [r for r in references if kinds.get(r) == ACTION]
    problems = []
    if unknown:
        problems.append(_("There is no complaint %(refs)s.", refs=", ".join(unknown)))
    if actions:
        problems.append(_("%(refs)s is a corrective action, not a complaint.",
                          refs=", ".join(actions)))
    if problems:
        errors["complaints"] = problems
    return references


def _open_action(cause: str) -> CaseRecord | None:
    """The open action with this cause (the oldest, if several), or None."""
    case_id = db.session.scalar(
        select(Case.id).join(CorrectiveAction, CorrectiveAction.case_id == Case.id)
        .where(Case.kind == ACTION, Case.is_open, CorrectiveAction.cause == cause)
        .order_by(Case.received_at, Case.id).limit(1))
    return recording.load_case_by_id(case_id) if case_id is not None else None


def _link(action: CaseRecord, complaint: CaseRecord, actor: Actor, now: datetime,
          note_complaint: bool = True) -> CaseRecord | None:
    """Link a complaint to an action, with an entry in each history.

    A complaint whose own step asked for the action says so in that step's entry
    (`note_complaint` False). Return the action as saved, or None when already linked.
    """
    if db.session.get(ActionComplaint, (action.id, complaint.id)) is not None:
        return None
    db.session.add(ActionComplaint(action_id=action.id, complaint_id=complaint.id,
                                   linked_at=now, linked_by=actor.name[:255]))
    db.session.flush()
    saved = recording.append_event(action, actor, "action.linked",
                                   f"Complaint {complaint.reference} linked",
                                   {"complaint": complaint.reference}, now)
    if note_complaint:
        recording.append_event(complaint, actor, "action.linked",
                               f"Linked to corrective action {action.reference}",
                               {"action": action.reference}, now)
    return saved


def _start(runtime: Any, version_id: int, message: str, payload: dict[str, Any], cause: str,
           title: str, origin: str, actor: Actor, now: datetime,
           origin_case: CaseRecord | None = None) -> tuple[CaseRecord, datetime | None]:
    """Start an action's workflow and insert its case rows; no commit."""
    process_id = runtime.starters.get(message)
    data = {"received_at": now.isoformat(), "origin": origin,
            "complaint": origin_case.reference if origin_case is not None else None}
    payload = {**payload, "cause": cause, "title": title}
    try:
        workflow, snapshot = runtime.start_process(process_id, data, message, payload)
    except EngineError as exc:
        raise ProcessFailed(_("The corrective action could not be opened: %(why)s",
                              why=str(exc))) from None
    reference = _next_reference(now)
    description = str(payload.get("description") or title)[:MAX_DESCRIPTION]
    fields = {"reference": reference, "process_version_id": version_id,
              "channel": "internal", "received_at": now, "tracking_token_hash": None,
              "complainant_name": "", "complainant_email": None, "complainant_phone": None,
              "preferred_language": None, "product_service": None,
              "description": description, "remedy_sought": None, "kind": ACTION}
    opened = (f"Corrective action opened from {origin_case.reference}" if origin_case
              else "Corrective action opened from the register")
    case, timer = recording.insert_case(
        fields, runtime.dump(workflow), snapshot, actor, opened,
        {"origin": origin, "cause": cause, "title": title, "description": description,
         "complaint": data["complaint"]}, now, kind="action.opened")
    db.session.add(CorrectiveAction(case_id=case.id, title=title[:MAX_TITLE], cause=cause,
                                    origin=origin, opened_at=now, opened_by=actor.name[:255]))
    db.session.flush()
    return case, timer


def _title(payload: dict[str, Any]) -> str:
    """The action's title: the payload's, else the first line of what is asked for."""
    text = str(payload.get("title") or payload.get("description") or "").strip()
    first = text.splitlines()[0] if text else "Corrective action"
    return first if len(first) <= MAX_TITLE else first[:MAX_TITLE - 1] + "…"


def _next_reference(now: datetime) -> str:
    """The next action reference of the year (CA-2026-00001); the unique index guards races."""
    stem = f"{PREFIX}-{now.year}-"
    last = db.session.scalar(select(func.max(Case.reference)).where(
        Case.kind == ACTION, Case.reference.like(f"{stem}%")))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{number:05d}"
