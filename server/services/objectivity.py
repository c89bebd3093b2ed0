"""Objectivity (ISO 10002, 4.6): who may not do a task because they handled the case before.

A task names, in its `notPerformedBy` property, the steps whose performers are excluded:
the approvals name the decision (nobody approves their own remedy), the internal review
names the handling steps and the approvals. The rule is by person, so holding several
roles does not get round it. The check reads the case's own history,
the task id and title each completion stored, so it holds for every way into the task:
claiming, being given it, completing it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol, TypeVar

from babel.lists import format_list
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import Forbidden
from ..extensions import db
from ..models import CaseEvent, Role, User
from . import process_texts
from .processes import runtime_for


class HandledCase(Protocol):
    """What the check needs of a case: a `CaseRecord` or a `Case`."""

    @property
    def id(self) -> int: ...
    @property
    def process_version_id(self) -> int: ...


class StaffedTask(Protocol):
    """A task as the check for nobody-left needs it: its element and its role."""

    @property
    def bpmn_id(self) -> str: ...
    @property
    def role(self) -> str | None: ...


T = TypeVar("T", bound=StaffedTask)


class GuardedTask(Protocol):
    """What the check needs of a task: a `TaskRecord` or a `HumanTask`."""

    @property
    def bpmn_id(self) -> str: ...
    @property
    def title(self) -> str: ...


def excluded_because(case_id: int, version_id: int, bpmn_id: str, username: str) -> list[str]:
    """The titles of earlier steps `username` completed that bar them from this task."""
    excludes = set(runtime_for(version_id).task_info(bpmn_id)["excludes"])
    steps: list[str] = []
    for _actor, step in _completed(case_id, excludes, username):
        if step not in steps:
            steps.append(step)
    return steps


def refusal(case: HandledCase, task: GuardedTask, username: str,
            you: bool = True) -> str | None:
    """Why `username` may not do the task because they handled the case (None if they may)."""
    steps = excluded_because(case.id, case.process_version_id, task.bpmn_id, username)
    if not steps:
        return None
    language = process_texts.reading()
    done = format_list([process_texts.text(case.process_version_id, step, language)
                        for step in steps], locale=language)
    title = process_texts.text(case.process_version_id, task.title, language)
    if you:
        return _("You handled this case before (%(steps)s), so you cannot do \"%(task)s\". "
                 "ISO 10002 asks for objectivity: a decision is approved, and an objective "
                 "review done, by someone who was not involved. Leave it for a colleague with "
                 "the same role, or ask a supervisor to give it to one.",
                 steps=done, task=title)
    return _("%(name)s handled this case before (%(steps)s), so they cannot do \"%(task)s\". "
             "ISO 10002 asks for objectivity: a decision is approved, and an objective review "
             "done, by someone who was not involved. Leave it for a colleague with the same "
             "role, or ask a supervisor to give it to one.",
             name=username, steps=done, task=title)


def unstaffed(case: HandledCase, tasks: Sequence[T]) -> list[T]:
    """The tasks that nobody holding their role may do: every holder handled the case.

    Only tasks that exclude someone are looked at; a role that nobody holds at all is
    the same trouble and is reported too.
    """
    runtime = runtime_for(case.process_version_id)
    stuck: list[T] = []
    for task in tasks:
        excludes = set(runtime.task_info(task.bpmn_id)["excludes"])
        if not excludes or task.role is None:
            continue
        holders = set(db.session.scalars(
            select(User.username).join(User.roles).where(User.active, Role.name == task.role)))
        if holders <= {actor for actor, _step in _completed(case.id, excludes)}:
            stuck.append(task)
    return stuck


def _completed(case_id: int, steps: set[str],
               username: str | None = None) -> list[tuple[str, str]]:
    """Who completed which of these steps on the case (by `username` only, if given).

    Each is (actor, the step's title as stored, else its id), oldest first.
    """
    if not steps:
        return []
    query = select(CaseEvent.actor, CaseEvent.data).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "task.completed")
    found: list[tuple[str, str]] = []
    for actor, data in db.session.execute(query.order_by(CaseEvent.seq)):
        done = json.loads(data)
        # A step an API client did for a member of staff counts as theirs too.
        people = {actor, done.get("on_behalf") or actor}
        if done.get("task") in steps and (username is None or username in people):
            found.extend((person, done.get("title") or done["task"]) for person in people
                         if username is None or person == username)
    return found


def check(case: HandledCase, task: GuardedTask, username: str, you: bool = True) -> None:
    """Refuse, with the reason, a task to someone who handled the case before."""
    reason = refusal(case, task, username, you)
    if reason is not None:
        raise Forbidden(reason)
