"""The system log: who changed the installation's settings, when, and from what to what."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import SystemEvent, utcnow
from .actors import Actor


def record(actor: Actor | str, kind: str, summary: str,
           data: dict[str, Any] | None = None) -> SystemEvent:
    """Add an event to the current transaction; it is saved with the change it describes."""
    event = SystemEvent(at=utcnow(), actor=actor.name if isinstance(actor, Actor) else actor,
                        kind=kind[:64], summary=summary[:500],
                        data=json.dumps(data or {}, sort_keys=True, ensure_ascii=False,
                                        default=str))
    db.session.add(event)
    return event


def recent(prefix: str = "", limit: int = 20) -> list[SystemEvent]:
    """The newest events whose kind starts with `prefix` (e.g. "calendar."), newest first."""
    query = select(SystemEvent).order_by(SystemEvent.at.desc(), SystemEvent.id.desc())
    if prefix:
        query = query.where(SystemEvent.kind.startswith(prefix, autoescape=True))
    return list(db.session.scalars(query.limit(limit)))
