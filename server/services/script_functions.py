"""SpiffArena's script functions that make sense in Plaint, for diagram code.

* ``get_env()``: the installation's environment name (PLAINT_ENV; "production" when unset).
* ``get_frontend_url()``: the address people reach Plaint at (PLAINT_PUBLIC_URL).
* ``get_current_user()``: who is completing the step: ``{"username", "display_name",
  "email", "roles", "kind"}``; the complainant (kind "complainant") when they act
  through their link; None when the system acts (a timer).
* ``get_process_initiator_user()``: the same for whoever filed the case.
* ``get_last_user_completing_task(process_id, task_bpmn_id)``: the same for whoever
  last completed that task of this case (None if nobody did yet).
* ``get_localtime(datetime=None, timezone=None)``: that moment (now by default) in the
  organisation's calendar time zone, or in the named one.
* ``get_toplevel_process_info()``: ``{"process_instance_id", "process_model_identifier"}``,
  the case reference and the process id.

The services say who acts, and on which case, with `acting()` around an engine run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..engine.clocks import now as engine_now
from ..extensions import db
from ..models import Case, CaseEvent, User
from . import calendar
from .actors import Actor


@dataclass(frozen=True)
class Acting:
    """Who runs the engine, on which case (None while the case is being created)."""

    actor: Actor | None
    case_id: int | None


_NOBODY = Acting(None, None)
_ACTING: ContextVar[Acting] = ContextVar("plaint_acting", default=_NOBODY)


@contextmanager
def acting(actor: Actor | None, case_id: int | None) -> Iterator[None]:
    """Let diagram code that runs inside ask who acts and on which case."""
    token = _ACTING.set(Acting(actor, case_id))
    try:
        yield
    finally:
        _ACTING.reset(token)


def _user_by_name(name: str) -> dict[str, Any] | None:
    """The user dict for an event's actor name (staff username or 'complainant')."""
    if name == "complainant":
        return {"username": "complainant", "display_name": "complainant", "email": None,
                "roles": [], "kind": "complainant"}
    if name.startswith("system:"):
        return None
    if name.startswith("api:"):  # an API client (services/api_clients.py)
        return {"username": name, "display_name": name, "email": None, "roles": [],
                "kind": "api"}
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        return {"username": name, "display_name": name, "email": None, "roles": [],
                "kind": "staff"}
    return {"username": user.username, "display_name": user.display_name,
            "email": getattr(user, "email", None), "roles": sorted(user.role_names),
            "kind": "staff"}


def get_env() -> str:
    """The installation's environment name, as SpiffArena's get_env gives it."""
    return str(current_app.config.get("PLAINT_ENV") or "production")


def get_frontend_url() -> str:
    """The address people reach Plaint at, as SpiffArena's get_frontend_url gives its own."""
    return str(current_app.config["PLAINT_PUBLIC_URL"])


def get_current_user() -> dict[str, Any] | None:
    """The person completing this step (None when the system acts)."""
    actor = _ACTING.get().actor
    return _user_by_name(actor.name) if actor is not None else None


def _events(case_id: int, kind: str | None = None) -> list[CaseEvent]:
    """The case's history entries, newest first."""
    query = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if kind:
        query = query.where(CaseEvent.kind == kind)
    return list(db.session.scalars(query.order_by(CaseEvent.seq.desc())))


def get_process_initiator_user() -> dict[str, Any] | None:
    """Whoever filed the case (while it is being filed, whoever is filing it)."""
    now = _ACTING.get()
    if now.case_id is None:
        return get_current_user()
    first = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == now.case_id)
                              .order_by(CaseEvent.seq).limit(1))
    return _user_by_name(first.actor) if first is not None else None


def get_last_user_completing_task(process_id: str, task_bpmn_id: str) -> dict[str, Any] | None:
    """Whoever last completed the task with that id in this case (process_id as SpiffArena)."""
    case_id = _ACTING.get().case_id
    if case_id is None:
        return None
    for event in _events(case_id, "task.completed"):
        if json.loads(event.data).get("task") == task_bpmn_id:
            return _user_by_name(event.actor)
    return None


def get_localtime(datetime: datetime | None = None,  # SpiffArena's keyword
                  timezone: str | None = None) -> Any:
    """That moment (now by default) in the calendar's time zone or the one named."""
    moment = datetime if datetime is not None else _now()
    if isinstance(moment, str):
        moment = _parse(moment)
    zone = ZoneInfo(str(timezone)[:64]) if timezone else calendar.load().tz
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def _now() -> datetime:
    """The current time, aware (the engine's: a replay's recorded time while one runs)."""
    return engine_now()


def _parse(text: str) -> datetime:
    """An ISO 8601 timestamp."""
    from datetime import datetime as _datetime
    return _datetime.fromisoformat(text[:64])


def get_toplevel_process_info() -> dict[str, Any]:
    """The case reference and the process id, as SpiffArena's keys name them."""
    case_id = _ACTING.get().case_id
    case = db.session.get(Case, case_id) if case_id is not None else None
    process = case.process_version.process_id if case is not None else None
    return {"process_instance_id": case.reference if case is not None else None,
            "process_model_identifier": process}


HELPERS: dict[str, Callable[..., Any]] = {
    "get_env": get_env, "get_frontend_url": get_frontend_url,
    "get_current_user": get_current_user,
    "get_process_initiator_user": get_process_initiator_user,
    "get_last_user_completing_task": get_last_user_completing_task,
    "get_localtime": get_localtime, "get_toplevel_process_info": get_toplevel_process_info,
}
