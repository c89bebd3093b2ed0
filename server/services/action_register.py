"""The corrective-action register: what the actions are, where they stand, whether they work.

Read from the projections (the case row, its ready tasks' due times, the complaints'
reporting facts), never from workflow state. An action's effectiveness is its
recurrence: the complaints with the same cause received since it was implemented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import ActionComplaint, Case, CaseReport, CorrectiveAction, HumanTask, User, utcnow
from . import code_lists, process_texts, tasks
from .actors import Actor
from .tables import Column, Table

STATES = ("open", "overdue", "closed", "all")
RECURRENCE_SHOWN = 50

_complaint = aliased(Case)
_DUE = (select(func.min(HumanTask.due_at)).where(HumanTask.case_id == Case.id)
        .correlate(Case).scalar_subquery())
_LINKED = (select(func.count()).select_from(ActionComplaint)
           .where(ActionComplaint.action_id == Case.id).correlate(Case).scalar_subquery())
_RECURRED = (select(func.count()).select_from(CaseReport)
             .join(_complaint, _complaint.id == CaseReport.case_id)
             .where(_complaint.kind == "complaint",
                    CaseReport.cause == CorrectiveAction.cause,
                    CorrectiveAction.implemented_at.is_not(None),
                    _complaint.received_at > CorrectiveAction.implemented_at)
             .correlate(CorrectiveAction).scalar_subquery())


@dataclass(frozen=True)
class RegisterFilter:
    """Which actions the register lists."""

    state: str = "open"
    cause: str = ""

    @classmethod
    def from_args(cls, args: Any) -> RegisterFilter:
        """The filter from a query string; an unknown state or cause is refused."""
        state = str(args.get("state") or "open")
        cause = str(args.get("cause") or "")
        if state not in STATES:
            raise InvalidInput(_("Choose open, overdue, closed or all."),
                               {"state": [_("Choose open, overdue, closed or all.")]})
        if cause and cause not in code_lists.titles("causes"):
            raise InvalidInput(_("Choose the cause from the list."),
                               {"cause": [_("Choose the cause from the list.")]})
        return cls(state, cause)


def _query() -> Select[Any]:
    """Every action with its own row, owner, next due time, links and recurrence."""
    return (select(Case, CorrectiveAction, User.display_name, _DUE.label("due"),
                   _LINKED.label("linked"), _RECURRED.label("recurred"))
            .join(CorrectiveAction, CorrectiveAction.case_id == Case.id)
            .outerjoin(User, User.id == Case.owner_id)
            .where(Case.kind == "action"))


def rows(chosen: RegisterFilter, now: datetime | None = None,
         locale: str | None = None) -> list[dict[str, Any]]:
    """The register's rows for a filter, newest action first; cause labels and status
    labels in `locale` (else the reader's language)."""
    now = now or utcnow()
    query = _query()
    if chosen.state in ("open", "overdue"):
        query = query.where(Case.is_open)
    elif chosen.state == "closed":
        query = query.where(Case.is_open.is_(False))
    if chosen.state == "overdue":
        query = query.where(_DUE.is_not(None), _DUE < now)  # noqa: SIM300
    if chosen.cause:
        query = query.where(CorrectiveAction.cause == chosen.cause)
    labels = code_lists.titles("causes", locale)
    reader = locale or process_texts.reading()
    found = []
    for case, action, owner, due, linked, recurred in db.session.execute(
            query.order_by(Case.received_at.desc(), Case.id.desc())):
        found.append({
            "reference": case.reference, "title": action.title, "cause": action.cause,
            "cause_label": labels.get(action.cause, action.cause), "owner": owner,
            "status": process_texts.text(case.process_version_id, case.status_label, reader),
            "is_open": case.is_open, "due": due,
            "overdue": bool(case.is_open and due is not None and due < now),
            "linked": int(linked), "implemented_at": action.implemented_at,
            "recurrence": int(recurred) if action.implemented_at else None,
            "opened_at": action.opened_at, "origin": action.origin})
    return found


def table(chosen: RegisterFilter) -> Table:
    """The register as a table: the screen, the CSV and the XLSX come from it."""
    columns = (Column("reference", _("Reference")), Column("title", _("Title")),
               Column("cause", _("Cause code")), Column("cause_label", _("Cause")),
               Column("owner", _("Owner")), Column("status", _("Status")),
               Column("due", _("Due"), "date"), Column("overdue", _("Overdue")),
               Column("linked", _("Linked complaints"), "int"),
               Column("implemented_at", _("Implemented"), "date"),
               Column("recurrence", _("Complaints with the cause since"), "int"))
    return Table(_("Corrective actions"), columns, rows(chosen),
                 _("Recurrence counts complaints with the action's cause received after it "
                   "was implemented."))


def open_and_overdue(now: datetime | None = None,
                     locale: str | None = None) -> list[dict[str, Any]]:
    """The open actions, overdue first (the management-review pack's table)."""
    now = now or utcnow()
    return sorted(rows(RegisterFilter("open"), now, locale),
                  key=lambda row: (not row["overdue"], row["due"] is None, row["due"] or now))


def get(reference: str) -> tuple[Case, CorrectiveAction]:
    """An action's case row and its own row; NotFound for anything but an action."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    action = db.session.get(CorrectiveAction, case.id) if case is not None else None
    if case is None or action is None:
        raise NotFound(_("There is no corrective action %(ref)s.", ref=reference))
    return case, action


def is_action(reference: str) -> bool:
    """Whether a reference is a corrective action's (the case page sends those on)."""
    return db.session.scalar(select(Case.kind).where(Case.reference == reference)) == "action"


def works_on_action(actor: Actor, reference: str, **_: Any) -> bool:
    """Whether this is an action with a ready task for one of the actor's roles (its owner)."""
    return is_action(reference) and tasks.works_on(actor, reference)


def linked_complaints(action_id: int) -> list[Case]:
    """The complaints linked to an action, oldest link first."""
    return list(db.session.scalars(
        select(Case).join(ActionComplaint, ActionComplaint.complaint_id == Case.id)
        .where(ActionComplaint.action_id == action_id)
        .order_by(ActionComplaint.linked_at, Case.reference)))


def linked_actions(complaint_id: int) -> list[Case]:
    """The corrective actions a complaint is linked to, oldest first."""
    return list(db.session.scalars(
        select(Case).join(ActionComplaint, ActionComplaint.action_id == Case.id)
        .where(ActionComplaint.complaint_id == complaint_id)
        .order_by(Case.received_at, Case.reference)))


@dataclass(frozen=True)
class Recurrence:
    """The complaints with an action's cause received since it was implemented."""

    implemented_at: datetime | None
    count: int
    complaints: list[tuple[str, datetime]]  # (reference, received), newest first, capped


def recurrence(action: CorrectiveAction) -> Recurrence:
    """How often the action's cause came back after it was implemented."""
    if action.implemented_at is None:
        return Recurrence(None, 0, [])
    where = (Case.kind == "complaint", CaseReport.cause == action.cause,
             Case.received_at > action.implemented_at)
    count = db.session.scalar(select(func.count()).select_from(CaseReport)
                              .join(Case, Case.id == CaseReport.case_id).where(*where)) or 0
    listed = db.session.execute(
        select(Case.reference, Case.received_at).join(CaseReport, CaseReport.case_id == Case.id)
        .where(*where).order_by(Case.received_at.desc()).limit(RECURRENCE_SHOWN)).all()
    return Recurrence(action.implemented_at, int(count),
                      [(reference, received) for reference, received in listed])
