"""The system log: who changed the installation's settings, when, and from what to what.

Chained like a case's history (services/audit.py): each row's hash is HMAC-SHA256 under
the audit key over the hash before it and the row. The newest hash lives in the
audit_chain_head row "system", which every writer locks first, so two changes at the same
moment are chained one after the other instead of forking the log.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import AuditChainHead, SystemEvent, utcnow
from . import audit
from .actors import Actor

CHAIN = "system"


def _digest(event: SystemEvent, prev: str) -> str:
    return audit.sign(prev + audit.canonical({"at": event.at, "actor": event.actor,
                                              "kind": event.kind, "summary": event.summary,
                                              "data": event.data}))


def _head() -> AuditChainHead:
    """The system log's head row, locked for this transaction (created if missing)."""
    head = db.session.scalar(select(AuditChainHead).where(AuditChainHead.name == CHAIN)
                             .with_for_update())
    if head is None:
        head = AuditChainHead(name=CHAIN, count=0, hash=audit.GENESIS)
        db.session.add(head)
    return head


def record(actor: Actor | str, kind: str, summary: str,
           data: dict[str, Any] | None = None) -> SystemEvent:
    """Add an event to the current transaction; it is saved with the change it describes."""
    head = _head()
    event = SystemEvent(at=utcnow(), actor=actor.name if isinstance(actor, Actor) else actor,
                        kind=kind[:64], summary=summary[:500],
                        data=json.dumps(data or {}, sort_keys=True, ensure_ascii=False,
                                        default=str))
    event.prev_hash = head.hash
    event.hash = _digest(event, head.hash)
    head.hash, head.count = event.hash, head.count + 1
    db.session.add(event)
    return event


def recent(prefix: str = "", limit: int = 20) -> list[SystemEvent]:
    """The newest events whose kind starts with `prefix` (e.g. "calendar."), newest first."""
    query = select(SystemEvent).order_by(SystemEvent.at.desc(), SystemEvent.id.desc())
    if prefix:
        query = query.where(SystemEvent.kind.startswith(prefix, autoescape=True))
    return list(db.session.scalars(query.limit(limit)))


@dataclass
class LogCheck:
    """What verifying the system log found: chained rows in order, and unchained ones."""

    problems: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    unchained: int = 0


def verify() -> LogCheck:
    """Check the system log's chain against its head row."""
    found = LogCheck()
    prev = audit.GENESIS
    for event in db.session.scalars(select(SystemEvent).order_by(SystemEvent.id)):
        if event.hash is None:
            if found.hashes:
                found.problems.append(f"system event {event.id} ({event.kind}) is not "
                                      "chained, after chained events")
            else:  # written before migration 0012
                found.unchained += 1
            continue
        if event.prev_hash != prev:
            found.problems.append(f"system event {event.id} ({event.kind}) does not follow "
                                  "the event before it")
        if not hmac.compare_digest(_digest(event, event.prev_hash or ""), event.hash):
            found.problems.append(f"system event {event.id} ({event.kind}) was altered "
                                  "after it was written")
        found.hashes.append(event.hash)
        prev = event.hash
    head = db.session.scalar(select(AuditChainHead).where(AuditChainHead.name == CHAIN))
    if head is not None and (head.count, head.hash) != (len(found.hashes), prev):
        found.problems.append("the newest system events are missing: the log ends before "
                              "its head")
    return found
