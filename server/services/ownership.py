"""Case owners (ISO 10002 accountability): who answers for a case, and the work that follows.

A case has no owner until a member of staff takes (claims or completes) one of its tasks
of an owning role (`access.OWN_CASES`: the handlers in the reference table); they become
its owner in the same transaction, and the history says so. From then on each new task of
an owning role is written already assigned to the owner, so it lands in their inbox
without a claim, unless the owner may not do it: objectivity bars them (the task's
`notPerformedBy`), their account was deactivated, or they no longer hold the role. Such a
task waits unclaimed as any other. Tasks of other roles (approvals, consultations) never
follow the owner. Supervisors change the owner, with a reason the history keeps; the old
owner's open tasks of owning roles move to the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from ..access import OWN_CASES, SUPERVISE, TABLE, can
from ..database import begin_write
from ..errors import Forbidden, InvalidInput
from ..extensions import db
from ..models import Case, HumanTask, User, utcnow
from ..models.user import user_roles
from . import lookups, objectivity, recording
from .actors import Actor
from .objectivity import HandledCase
from .records import CaseRecord

MAX_REASON = 2000

_TASKS = HumanTask.__table__
_CASES = Case.__table__
# Only a task nobody holds yet: a claim that won a race keeps its task.
_GIVE = (_TASKS.update()
         .where(_TASKS.c.case_id == bindparam("of_case"), _TASKS.c.task_id == bindparam("t_id"),
                _TASKS.c.assignee_id.is_(None))
         .values(assignee_id=bindparam("owner")))
_USERS = User.__table__
# Whether an account is on, its name and its roles, in one Core query, kept per process
# under the settings stamp (migration 0041 renews it when any of these change): every step
# of a case with an owner asks, and the step has read the stamp already. The step sees the
# accounts as they were at its first read of the settings, as it sees the policy.
_STAFF = (select(_USERS.c.active, _USERS.c.username, user_roles.c.role_name)
          .select_from(_USERS.outerjoin(user_roles, user_roles.c.user_id == _USERS.c.id))
          .where(_USERS.c.id == bindparam("user_id")))
_SET_OWNER = _CASES.update().where(_CASES.c.id == bindparam("case_id")).values(
    owner_id=bindparam("owner"))


class RoutedTask(Protocol):
    """What routing a new task needs: a `ReadyTask` of a snapshot."""

    @property
    def task_id(self) -> str: ...
    @property
    def bpmn_id(self) -> str: ...
    @property
    def role(self) -> str | None: ...


def owning_roles() -> frozenset[str]:
    """The roles whose tasks make and follow a case's owner."""
    return TABLE[OWN_CASES]


def takes_case(case: CaseRecord, actor: Actor, role: str | None) -> bool:
    """Whether taking a task of `role` makes the actor the owner of a case with none yet."""
    if case.owner_id is not None or role not in owning_roles() or \
            actor.kind not in ("staff", "api") or actor.user_id is None:
        return False
    staff = _staff(actor.user_id)
    return staff is not None and staff[0]


def _staff(user_id: int) -> tuple[bool, str, frozenset[str]] | None:
    """Whether the account is active, its username and role names (None: no such account)."""
    return lookups.setting(("ownership.staff", user_id), lambda: _read_staff(user_id))


def _read_staff(user_id: int) -> tuple[bool, str, frozenset[str]] | None:
    rows = db.session.connection().execute(_STAFF, {"user_id": user_id}).all()
    if not rows:
        return None
    return rows[0].active, rows[0].username, frozenset(r.role_name for r in rows if r.role_name)


def takes_by_completing(case: CaseRecord, actor: Actor, kind: str,
                        data: dict[str, Any]) -> bool:
    """Whether this step (a task completed by a person) makes its performer the owner."""
    if kind != "task.completed" or case.owner_id is not None or \
            actor.kind not in ("staff", "api"):
        return False
    # complete_task passes the role of the task row it completed; otherwise the row is
    # still there (projections are rewritten after this).
    role = data["role"] if "role" in data else db.session.scalar(select(HumanTask.role).where(
        HumanTask.case_id == case.id, HumanTask.bpmn_id == data.get("task")).limit(1))
    return takes_case(case, actor, role)


def noted(summary: str, data: dict[str, Any], actor: Actor) -> tuple[str, dict[str, Any]]:
    """A history entry's summary and data, saying that the actor now owns the case."""
    return f"{summary}; {actor.name} now owns the case", {**data, "owner": actor.name}


def make_owner(case: CaseRecord, actor: Actor) -> None:
    """Write the actor as the case's owner (in the caller's transaction)."""
    db.session.connection().execute(_SET_OWNER, {"case_id": case.id, "owner": actor.user_id})


def route(case: CaseRecord, tasks: Sequence[RoutedTask]) -> None:
    """Give the case's owner the new tasks of an owning role that they may do.

    Called by the write path after the step's history row, so a step the owner has just
    completed counts against them when a new task excludes its performer.
    """
    if case.owner_id is None:
        return
    owning = owning_roles()
    followed = [t for t in tasks if t.role in owning]
    if not followed:
        return
    owner = _staff(case.owner_id)
    if owner is None or not owner[0]:
        return
    _, username, roles = owner
    given = [t for t in followed if t.role in roles and not _barred(case, t, username)]
    if given:
        db.session.connection().execute(_GIVE, [
            {"of_case": case.id, "t_id": t.task_id, "owner": case.owner_id} for t in given])


def _barred(case: HandledCase, task: RoutedTask, username: str) -> bool:
    """Whether objectivity bars the user from the task (they handled an excluded step)."""
    return bool(objectivity.excluded_because(case.id, case.process_version_id, task.bpmn_id,
                                             username))


def candidates() -> list[User]:
    """Active users who may own cases (hold an owning role), for the change-owner list."""
    owning = owning_roles()
    return [u for u in db.session.scalars(select(User).where(User.active)
                                          .order_by(User.display_name, User.username))
            if u.role_names & owning]


def change_owner(reference: str, username: str, reason: str, actor: Actor) -> User:
    """Make another member of staff the case's owner (supervisors), with a reason.

    The old owner's open tasks of owning roles, and those nobody holds, go to the new
    owner where they may do them; the old owner's others go back to the team.
    """
    if not can(actor, SUPERVISE):
        raise Forbidden(_("Only supervisors can change who owns a case."))
    reason = (reason or "").strip().replace("\r\n", "\n")
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why the case changes owner.")]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [_("Shorten the reason to %(count)s characters.",
                               count=f"{MAX_REASON:,}")]
    user = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None or not user.active or not user.role_names & owning_roles():
        errors["owner"] = [_("Choose an active colleague who works cases.")]
    if errors or user is None:
        raise InvalidInput(next(iter(errors.values()))[0], errors)
    begin_write()
    case = recording.load_case(reference)
    if case.owner_id == user.id:
        raise InvalidInput(_("%(name)s already owns %(reference)s.", name=user.display_name,
                             reference=reference),
                           {"owner": [_("Choose someone who does not own the case yet.")]})
    before = db.session.get(User, case.owner_id) if case.owner_id is not None else None
    moved = _move_tasks(case, before, user)
    db.session.connection().execute(_SET_OWNER, {"case_id": case.id, "owner": user.id})
    recording.record_event(
        case, actor, "case.owner_changed",
        f"Owner changed from {before.username if before else 'nobody'} to {user.username} "
        f"by {actor.name}"[:500],
        {"from": before.username if before else None, "to": user.username, "note": reason,
         "moved": moved}, utcnow())
    return user


def _move_tasks(case: CaseRecord, before: User | None, after: User) -> list[str]:
    """Hand the case's owner-held and unclaimed tasks of owning roles to the new owner."""
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.role.in_(sorted(owning_roles())),
        HumanTask.assignee_id.is_(None) if before is None
        else (HumanTask.assignee_id.is_(None) | (HumanTask.assignee_id == before.id)))).all()
    moved = []
    for task in rows:
        if task.role in after.role_names and not _barred(case, task, after.username):
            task.assignee_id = after.id
            moved.append(task.title)
        else:  # not theirs: back to the team rather than with someone no longer owning
            task.assignee_id = None
    db.session.flush()
    return moved


def owner_names(owner_ids: set[int]) -> dict[int, str]:
    """Display names of owners by id, in one query (inbox rows)."""
    if not owner_ids:
        return {}
    return {row.id: row.display_name for row in db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(sorted(owner_ids))))}

