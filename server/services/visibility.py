"""Need-to-know: the one rule that says which cases a person may read.

Those who read every case (READ_ALL_CASES: complaints managers, auditors) and the system
itself read all. Anyone else reads a case when it is not confidential and
- it has no team (an organisation without teams works as before teams existed), or
- it belongs to one of their teams, or
- they own it, hold one of its tasks, or held one before (claimed or completed it);
and a confidential case only when they are named on it (models/team.py, CaseViewer).

An API client without an acting user reads as an integration: every case that is not
confidential. The rule is a SQL condition over `case` for lists and counts (inbox,
search, exports, reports, API pages, the events feed) and a check for one case, which
refuses with a neutral 403 and sends `signals.case_read_refused`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from ..access import READ_ALL_CASES, can
from ..errors import Forbidden
from ..extensions import db
from ..models import Case, CaseEvent, CaseViewer, HumanTask
from ..models.team import team_members
from ..signals import case_read_refused
from .actors import Actor

# The history kinds by which someone took part in a case's work ("held a task").
TOOK_PART = ("task.claimed", "task.completed")


def refused_message() -> str:
    """What a refused reader is told: nothing about the case itself."""
    return _("You do not have access to this case. If you need it for your work, ask a "
             "complaints manager.")


def reads_all(actor: Actor) -> bool:
    """Whether the rule lets the actor read every case (the system, managers, auditors)."""
    return actor.kind == "system" or can(actor, READ_ALL_CASES)


def condition(actor: Actor) -> ColumnElement[bool] | None:
    """The SQL condition over `case` of the cases the actor may read; None: every case."""
    if reads_all(actor):
        return None
    if actor.user_id is None:  # an integration or the complainant's door: no confidential
        return Case.confidential.is_(False) if actor.kind == "api" else false()
    return _limited_to(actor.user_id, actor.people)


@lru_cache(maxsize=1024)
def _limited_to(uid: int, people: tuple[str, ...]) -> ColumnElement[bool]:
    """The condition for one person, built once per process: building it (aliases, exists)
    costs more than running it, and SQL expressions are immutable, so requests share it."""
    # Aliases correlated to the case alone: the lists that use the rule may select from
    # the task or history tables themselves (the inbox, the events feed).
    viewer, task, event = aliased(CaseViewer), aliased(HumanTask), aliased(CaseEvent)
    named = exists().where(viewer.case_id == Case.id, viewer.user_id == uid).correlate(Case)
    my_teams = select(team_members.c.team_id).where(team_members.c.user_id == uid)
    holds = exists().where(task.case_id == Case.id, task.assignee_id == uid).correlate(Case)
    # Equalities rather than IN: an IN list is an "expanding" parameter, and rewriting the
    # SQL for it on every execution cost more than the query (this runs on every case page).
    held = exists().where(event.case_id == Case.id,
                          or_(*(event.kind == kind for kind in TOOK_PART)),
                          or_(*(event.actor == name for name in people))).correlate(Case)
    return or_(and_(Case.confidential.is_(False),
                    or_(Case.team_id.is_(None), Case.team_id.in_(my_teams),
                        Case.owner_id == uid, holds, held)),
               and_(Case.confidential.is_(True), named))


def where(actor: Actor) -> list[ColumnElement[bool]]:
    """The condition as a list to splat into `.where(...)` (empty: every case)."""
    found = condition(actor)
    return [] if found is None else [found]


def may_read(actor: Actor, case_id: int) -> bool:
    """Whether the actor may read this one case."""
    found = condition(actor)
    if found is None:
        return True
    return db.session.scalar(select(Case.id).where(Case.id == case_id, found)) is not None


def check(actor: Actor, case_id: int, what: str = "case", detail: str = "") -> None:
    """Raise a neutral Forbidden, and send `case_read_refused`, unless the actor may read it."""
    if not may_read(actor, case_id):
        refuse(actor, case_id, what, detail)


def check_reference(actor: Actor, reference: str, what: str = "case",
                    detail: str = "") -> None:
    """`check` by reference, in one query; an unknown reference is left to the caller's
    NotFound."""
    if reads_all(actor) or actor.user_id is None:
        found = condition(actor)
        if found is None:
            return
        query = select(Case.id, case((found, True), else_=False)).where(
            Case.reference == bindparam("reference"))
    else:
        query = _one_case(actor.user_id, actor.people)
    row = db.session.execute(query, {"reference": reference}).first()
    if row is not None and not row[1]:
        refuse(actor, row[0], what, detail)


def readable(actor: Actor) -> ColumnElement[bool]:
    """The rule as a column of a query over `case`: whether the actor may read the row.

    For a page that reads its case anyway (the task page), so the check costs no query of
    its own; a false answer goes to `refuse`.
    """
    if not reads_all(actor) and actor.user_id is not None:
        return readable_by(actor.user_id, actor.people)
    found = condition(actor)
    return true() if found is None else case((found, True), else_=False)


@lru_cache(maxsize=1024)
def readable_by(uid: int, people: tuple[str, ...]) -> ColumnElement[bool]:
    """`readable` for a person who does not read every case, built once per process."""
    return case((_limited_to(uid, people), True), else_=False)


@lru_cache(maxsize=1024)
def _one_case(uid: int, people: tuple[str, ...]) -> Select[tuple[int, bool]]:
    """check_reference's query for one person, built once per process like the condition."""
    return select(Case.id, case((_limited_to(uid, people), True), else_=False)).where(
        Case.reference == bindparam("reference"))


def refuse(actor: Actor, case_id: int, what: str, detail: str) -> None:
    """Refuse the read: a neutral Forbidden, and `case_read_refused` for the access log."""
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    case_read_refused.send(app, actor=actor, case_id=case_id, what=what, detail=detail)
    raise Forbidden(refused_message())
