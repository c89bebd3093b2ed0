"""The inbox: ready tasks from the projection tables, and who works on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Executable, Integer, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import lazyload

from ..access import SUPERVISE, can
from ..database import begin_write
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..models import Case, HumanTask, Role, User, utcnow
from . import (
    choice_titles,
    labels,
    objectivity,
    ownership,
    policy,
    process_texts,
    tasks,
    visibility,
)
from .actors import Actor
from .recording import load_case, record_event
from .records import CaseRecord

VIEWS = ("mine", "unclaimed", "team")
SORTS = ("due", "received", "priority")
# Most urgent first, in the escalation policy's own scale of priorities.
PRIORITY_ORDER = {name: rank for rank, name in enumerate(reversed(policy.PRIORITIES))}
PRIORITIES = tuple(reversed(policy.PRIORITIES))  # the filter's options, most urgent first
PER_PAGE = 25
CATEGORY = "category"  # the case's projected field the category filter reads


@dataclass(frozen=True)
class InboxRow:
    """One ready task as the inbox lists it."""

    task_id: str
    reference: str
    title: str
    role: str | None
    assignee_id: int | None
    assignee: str | None
    due_at: datetime | None
    sla: str | None  # on_time, due_soon, overdue
    priority: str | None
    category: str | None
    status_label: str | None
    received_at: datetime
    flag: str | None = None  # what fired on the task (inboxFlag) or why nobody may do it
    owner: str | None = None  # who owns the case (services/ownership.py)
    category_title: str | None = None  # the category as the form that asks it names it
    version_id: int | None = None  # the case's process version, whose texts the row shows


@dataclass(frozen=True)
class InboxPage:
    """A page of the inbox with what is needed to page and filter it."""

    rows: list[InboxRow]
    total: int
    page: int
    pages: int


def sla_state(due_at: datetime | None, now: datetime) -> str | None:
    """On time, due soon (within PLAINT_DUE_SOON_HOURS) or overdue."""
    if due_at is None:
        return None
    if due_at <= now:
        return "overdue"
    soon = timedelta(hours=current_app.config.get("PLAINT_DUE_SOON_HOURS", 24))
    return "due_soon" if due_at - now <= soon else "on_time"


def inbox(actor: Actor, view: str = "mine", priority: str | None = None,
          category: str | None = None, status: str | None = None, sort: str = "due",
          page: int = 1, counted: dict[str, int] | None = None) -> InboxPage:
    """The tasks the actor may see in this view, filtered, sorted and paged.

    `counted` is `counts(actor)` if the caller has it: without a filter, the view's
    count there is the page's total, and it is not counted again.
    """
    if view not in VIEWS:
        raise InvalidInput(_("Unknown view '%(view)s': use one of %(views)s.", view=view,
                             views=", ".join(VIEWS)))
    if sort not in SORTS:
        raise InvalidInput(_("Unknown sort '%(sort)s': use one of %(sorts)s.", sort=sort,
                             sorts=", ".join(SORTS)))
    titles = choice_titles.titles(CATEGORY)
    filters = {name: value for name, value in (("priority", priority), ("category", category),
                                               ("status", status)) if value}
    listed, counted_rows = _listing(actor, view, tuple(sorted(filters)), sort)
    if counted is not None and not filters:
        total = counted[view]  # the same rows: the view's tasks on cases they may read
    else:
        total = db.session.scalar(counted_rows, filters) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    now = utcnow()
    found = db.session.execute(listed, {**filters, "skip": (page - 1) * PER_PAGE}).all()
    # The page's owners in one query, not a join over every task the view counts.
    owners = ownership.owner_names({r.owner_id for r in found if r.owner_id is not None})
    rows = [
        InboxRow(r.task_id, r.reference, r.title, r.role, r.assignee_id, r.display_name,
                 r.due_at, sla_state(r.due_at, now), r.priority, r.category, r.status_label,
                 r.received_at, r.flag, owners.get(r.owner_id),
                 titles.get(r.category) or choice_titles.humanize(r.category),
                 r.process_version_id)
        for r in found
    ]
    return InboxPage(rows, total, page, pages)


_FILTERED = {"priority": Case.priority, "category": Case.category, "status": Case.status_label}


@lru_cache(maxsize=1024)
def _listing(actor: Actor, view: str, filtered: tuple[str, ...],
             sort: str) -> tuple[Executable, Executable]:
    """The inbox's page query (the offset a parameter) and its count, for one person, view,
    set of filters (their values parameters) and sort, built once per process as `counts`."""
    query = (
        select(HumanTask.task_id, HumanTask.title, HumanTask.role, HumanTask.assignee_id,
               HumanTask.due_at, HumanTask.flag, Case.reference, Case.priority, Case.category,
               Case.status_label, Case.received_at, Case.owner_id, User.display_name,
               Case.process_version_id)
        .join(Case, Case.id == HumanTask.case_id)
        .outerjoin(User, User.id == HumanTask.assignee_id))
    query = query.where(_visible(actor, view))
    case_filters = [_FILTERED[name] == bindparam(name) for name in filtered]
    case_filters += visibility.where(actor)  # need-to-know: only cases they may read
    query = query.where(*case_filters)
    # Without a filter on the case the count reads the task rows alone (by the role and
    # assignee indexes), not a join with every case the view holds.
    counted = select(func.count()).select_from(query.subquery()) if case_filters else \
        select(func.count(HumanTask.id)).where(_visible(actor, view))
    order = {
        "due": (HumanTask.due_at.is_(None), HumanTask.due_at, Case.received_at),
        "received": (Case.received_at,),
        "priority": (case(PRIORITY_ORDER, value=Case.priority, else_=9), HumanTask.due_at),
    }[sort]
    rows = query.order_by(*order, HumanTask.id).limit(PER_PAGE).offset(
        bindparam("skip", type_=Integer))
    return rows, counted


def statuses() -> dict[str, str]:
    """The status labels of the cases with a ready task (the filter's values, as stored),
    each named in the reader's language by a version one of those cases runs on."""
    found = db.session.execute(
        select(Case.status_label, func.max(Case.process_version_id))
        .join(HumanTask, HumanTask.case_id == Case.id)
        .where(Case.status_label.is_not(None)).group_by(Case.status_label)
        .order_by(Case.status_label))
    reader = process_texts.reading()
    return {str(label): process_texts.text(version, label, reader) for label, version in found}


def counts(actor: Actor) -> dict[str, int]:
    """How many tasks each view holds for the actor, for the tabs.

    All three in one query over the rows any of them holds (by the assignee and the
    (role, assignee) indexes): every inbox page asks, and each statement costs more in
    building and sending than the counting itself.
    """
    found = db.session.execute(_counting(actor)).one()
    return {view: int(found._mapping[view] or 0) for view in VIEWS}


@lru_cache(maxsize=1024)
def _counting(actor: Actor) -> Executable:
    """counts' query for one person, built once per process (as visibility's condition is):
    building it, and the cache key of a statement built afresh, cost more than running it.
    What it holds follows from the actor alone (their id, roles and names)."""
    views = {view: _visible(actor, view) for view in VIEWS}
    query = select(*(func.count(case((where, 1))).label(view) for view, where in views.items())
                   ).select_from(HumanTask).where(or_(*views.values()))
    limits = visibility.where(actor)
    if limits:  # need-to-know: only the tasks of cases they may read
        query = query.join(Case, Case.id == HumanTask.case_id).where(*limits)
    return query


def landing(counts: dict[str, int]) -> str:
    """The view a person opens the inbox on: the first one where work waits."""
    return next((view for view in VIEWS if counts.get(view)), VIEWS[0])


def _visible(actor: Actor, view: str) -> Any:
    mine = HumanTask.assignee_id == actor.user_id
    my_roles = HumanTask.role.in_(sorted(actor.roles))
    if view == "mine":
        return mine
    if view == "unclaimed":
        return and_(HumanTask.assignee_id.is_(None), my_roles)
    return HumanTask.id.is_not(None) if can(actor, SUPERVISE) else my_roles


def _task(reference: str, task_id: str) -> tuple[CaseRecord, HumanTask]:
    case_row = load_case(reference)
    task = db.session.scalar(select(HumanTask).where(
        HumanTask.case_id == case_row.id, HumanTask.task_id == task_id))
    if task is None:
        raise Conflict(_("This task is no longer open: it was completed or the case moved on."))
    return case_row, task


def claim(reference: str, task_id: str, actor: Actor) -> None:
    """Take an unclaimed task of one's role."""
    begin_write()
    case_row, task = _task(reference, task_id)
    tasks.authorize(case_row, task, actor, claiming=True)
    if task.assignee_id == actor.user_id:
        db.session.rollback()
        return
    result: Any = db.session.execute(update(HumanTask).where(
        HumanTask.id == task.id, HumanTask.assignee_id.is_(None))
        .values(assignee_id=actor.user_id))
    taken = result.rowcount
    if taken != 1:
        title = process_texts.text(case_row.process_version_id, task.title,
                                   process_texts.reading())
        raise Conflict(_("%(task)s was taken by someone else a moment ago.", task=title))
    summary, data = f"{task.title} taken by {actor.name}", {"task": task.bpmn_id,
                                                            "assignee": actor.name}
    if ownership.takes_case(case_row, actor, task.role):  # the first handler owns the case
        ownership.make_owner(case_row, actor)
        summary, data = ownership.noted(summary, data, actor)
    record_event(case_row, actor, "task.claimed", summary, data, utcnow())


def release(reference: str, task_id: str, actor: Actor) -> None:
    """Give a task back to the team (its holder or a supervisor)."""
    begin_write()
    case_row, task = _task(reference, task_id)
    if task.assignee_id is None:
        db.session.rollback()
        return
    if task.assignee_id != actor.user_id and not can(actor, SUPERVISE):
        raise Forbidden(_("Only the person holding the task or a supervisor can release it."))
    task.assignee_id = None
    db.session.flush()
    record_event(case_row, actor, "task.released", f"{task.title} released by {actor.name}",
                 {"task": task.bpmn_id}, utcnow())


def reassign(reference: str, task_id: str, username: str, actor: Actor) -> None:
    """Give a task to a named colleague who holds its role (supervisors)."""
    if not can(actor, SUPERVISE):
        raise Forbidden(_("Only supervisors can reassign tasks."))
    begin_write()
    case_row, task = _task(reference, task_id)
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise NotFound(_("There is no active account called %(username)s.", username=username))
    if task.role is None or task.role not in user.role_names:
        raise InvalidInput(
            _("%(name)s does not hold the role '%(role)s'.", name=user.display_name,
              role=labels.role(task.role)),
            {"username": [_("Choose someone with the role '%(role)s'.",
                                    role=labels.role(task.role))]})
    objectivity.check(case_row, task, user.username, you=False)
    before = task.assignee_id
    task.assignee_id = user.id
    db.session.flush()
    record_event(case_row, actor, "task.reassigned",
                 f"{task.title} reassigned to {user.username} by {actor.name}",
                 {"task": task.bpmn_id, "from": before, "to": user.username}, utcnow())


def candidates(role: str | None) -> list[User]:
    """Active users who hold a role, for the reassign list."""
    if role is None:
        return []
    # Only the role's holders from the database, not every account and its roles.
    return list(db.session.scalars(select(User).join(User.roles).where(
        User.active, Role.name == role).order_by(User.username)
        .options(lazyload(User.roles))))  # the list shows names: roles only if asked
