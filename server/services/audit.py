"""The append-only, hash-chained history of each case."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Case, CaseEvent, utcnow
from .actors import Actor
from .records import CaseRecord

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    """JSON with a single spelling for the same data, so its hash is stable."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _digest(reference: str, seq: int, at: datetime, actor: str, kind: str, summary: str,
            data: str, prev: str) -> str:
    material = "\x1f".join([reference, str(seq), at.isoformat(), actor, kind, summary, data, prev])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def entry(case: CaseRecord, actor: Actor, kind: str, summary: str,
          data: dict[str, Any] | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Build the next history row of a case, chained to the case's current head."""
    at = at or utcnow()
    seq = case.event_count + 1
    payload = canonical(data or {})
    prev = case.audit_head or GENESIS
    summary = summary[:500]
    return {"case_id": case.id, "seq": seq, "at": at, "actor": actor.name, "kind": kind,
            "summary": summary, "data": payload, "prev_hash": prev,
            "hash": _digest(case.reference, seq, at, actor.name, kind, summary, payload, prev)}


def history(case: Case) -> list[CaseEvent]:
    """The case's events, oldest first."""
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


def verify_case(case: Case) -> list[str]:
    """Return what is wrong with a case's chain; an empty list means it is intact."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    for event in history(case):
        if event.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing (found {event.seq} next)")
            expected_seq = event.seq
        if event.prev_hash != prev:
            problems.append(f"event {event.seq} does not follow the event before it")
        digest = _digest(case.reference, event.seq, event.at, event.actor, event.kind,
                         event.summary, event.data, event.prev_hash)
        if digest != event.hash:
            problems.append(f"event {event.seq} was altered after it was written")
        prev = event.hash
        expected_seq += 1
    if case.event_count != expected_seq - 1 or (case.audit_head or GENESIS) != prev:
        problems.append("the newest events are missing: the chain ends before the case's head")
    return problems


def verify_all() -> dict[str, list[str]]:
    """Check every case's chain; return the broken ones with their problems."""
    broken: dict[str, list[str]] = {}
    for case in db.session.scalars(select(Case).order_by(Case.id)):
        problems = verify_case(case)
        if problems:
            broken[case.reference] = problems
    return broken
