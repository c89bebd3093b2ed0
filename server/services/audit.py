"""The append-only, hash-chained and keyed history of each case.

Each event's `hash` is SHA-256 over the event and the hash before it, a recipe anyone can
recompute from an exported record (services/export.py). Each event also carries `mac`:
HMAC-SHA256 under the audit key (PLAINT_AUDIT_KEY, or the file "audit_key" in the
instance folder) of its hash and of a digest of the case row's audited fields after the
step. Someone who can write the database but does not hold the key can recompute hashes
but not macs: neither rewriting an event (and the chain and head after it) nor changing
the case row without a new event passes unnoticed. Deleting the newest events or a whole
case is caught against checkpoints kept outside the database (checkpoints.py).

Events written before migration 0012 carry alg "sha256" and no mac: their chain is
checked, and they are counted apart, since anyone could have recomputed them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import config
from ..extensions import db
from ..models import Case, CaseEvent, utcnow
from .actors import Actor
from .records import CaseRecord

GENESIS = "0" * 64
KEYED = "hmac1"
LEGACY = "sha256"
# The case row's fields an event vouches for: what a complaint says and where it stands.
AUDITED = ("reference", "process_version_id", "channel", "complainant_name",
           "complainant_email", "complainant_phone", "preferred_language", "product_service",
           "category", "description", "remedy_sought", "priority", "status_label", "is_open",
           "received_at", "acknowledged_at", "resolved_at", "closed_at")
# The history entry that erases personal values of earlier ones and vouches for them.
ERASURE_KIND = "case.erased"
_MISSING_NEWEST = "the newest events are missing: the chain ends before the case's head"


def canonical(data: Any) -> str:
    """JSON with a single spelling for the same data, so its hash is stable."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain)


def _plain(value: Any) -> str:
    """Datetimes in one spelling (UTC, ISO 8601) whatever the database gave back."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return str(value)


def key() -> bytes:
    """The audit key of this application, read once from the environment or instance file."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached: bytes | None = app.extensions.get("plaint.audit_key")
    if cached is None:
        text = app.config.get("PLAINT_AUDIT_KEY") or config.instance_secret_key(
            app.instance_path, "audit_key")
        cached = app.extensions["plaint.audit_key"] = text.encode("utf-8")
    return cached


def sign(material: str) -> str:
    """HMAC-SHA256 of `material` under the audit key, in hex."""
    return hmac.new(key(), material.encode("utf-8"), hashlib.sha256).hexdigest()


def row_digest(row: Any, changes: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of a case row's audited fields (`changes` override the row's values)."""
    values = {name: (changes[name] if changes and name in changes else getattr(row, name))
              for name in AUDITED}
    return hashlib.sha256(canonical(values).encode("utf-8")).hexdigest()


def _digest(reference: str, seq: int, at: datetime, actor: str, kind: str, summary: str,
            data: str, prev: str) -> str:
    """The public chain hash (the recipe export.py publishes)."""
    material = "\x1f".join([reference, str(seq), at.isoformat(), actor, kind, summary, data, prev])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _mac(digest: str, row: str | None) -> str:
    """What only the key holder can make: the event's hash bound to the case row after it."""
    return sign(f"{KEYED}:{digest}:{row}")


def entry(case: CaseRecord, actor: Actor, kind: str, summary: str,
          data: dict[str, Any] | None = None, at: datetime | None = None,
          row: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the next history row of a case, chained to the case's current head.

    `row` holds the case row's values that the step changes; the event vouches for the
    row as it is after them.
    """
    at = at or utcnow()
    seq = case.event_count + 1
    payload = canonical(data or {})
    prev = case.audit_head or GENESIS
    summary = summary[:500]
    row_hash = row_digest(case, row)
    digest = _digest(case.reference, seq, at, actor.name, kind, summary, payload, prev)
    return {"case_id": case.id, "seq": seq, "at": at, "actor": actor.name, "kind": kind,
            "summary": summary, "data": payload, "prev_hash": prev, "hash": digest,
            "alg": KEYED, "row_digest": row_hash, "mac": _mac(digest, row_hash)}


def history(case: Case) -> list[CaseEvent]:
    """The case's events, oldest first."""
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


@dataclass
class CaseCheck:
    """What verifying one case found."""

    problems: list[str] = field(default_factory=list)
    events: int = 0
    legacy: int = 0
    last_legacy: int = 0  # the newest unkeyed event: a checkpoint must vouch for it
    redacted: int = 0  # events whose personal values an erasure event vouches for
    hashes: dict[int, str] = field(default_factory=dict)  # seq -> hash, for checkpoints


def sha256(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recomputed(case: Case, event: CaseEvent) -> str:
    return _digest(case.reference, event.seq, event.at, event.actor, event.kind,
                   event.summary, event.data, event.prev_hash)


def _vouchers(case: Case, events: list[CaseEvent]) -> dict[int, dict[str, str]]:
    """What intact, keyed erasure events vouch for: seq -> {hash, data, summary} digests.

    An erasure (services/anonymisation.py) rewrites the data and summary of earlier events
    and lists, for each, its hash as verified just before and the SHA-256 of its new data
    and summary; the newest erasure that names an event is the one that counts.
    """
    vouched: dict[int, dict[str, str]] = {}
    for event in events:
        if event.kind != ERASURE_KIND or event.alg != KEYED or \
                _recomputed(case, event) != event.hash or \
                not hmac.compare_digest(_mac(event.hash, event.row_digest), event.mac or ""):
            continue
        listed = json.loads(event.data).get("redacted") or {}
        for seq, digests in listed.items():
            if str(seq).isdigit() and int(seq) < event.seq and isinstance(digests, dict):
                vouched[int(seq)] = digests
    return vouched


def _vouched(event: CaseEvent, vouched: dict[int, dict[str, str]]) -> bool:
    """Whether a later erasure vouches for this event's hash and its data as it is now."""
    digests = vouched.get(event.seq)
    return digests is not None and digests.get("hash") == event.hash and \
        digests.get("data") == sha256(event.data) and \
        digests.get("summary") == sha256(event.summary)


def check_case(case: Case) -> CaseCheck:
    """Verify a case's chain and row; keep the hashes for the checkpoint comparison."""
    found = CaseCheck()
    prev, expected_seq, keyed_seen, newest = GENESIS, 1, False, None
    events = history(case)
    vouched = _vouchers(case, events)
    for event in events:
        found.events += 1
        if event.seq != expected_seq:
            found.problems.append(f"event {expected_seq} is missing (found {event.seq} next)")
            expected_seq = event.seq
        if event.prev_hash != prev:
            found.problems.append(f"event {event.seq} does not follow the event before it")
        digest = _recomputed(case, event)
        if digest != event.hash and _vouched(event, vouched):
            found.redacted += 1  # its personal values were erased; its hash still chains
        if digest != event.hash and not _vouched(event, vouched):
            found.problems.append(f"event {event.seq} was altered after it was written")
        elif event.alg == KEYED:
            keyed_seen = True
            found.last_legacy = 0  # its signed hash chains to the older ones: they are covered
            if not hmac.compare_digest(_mac(event.hash, event.row_digest), event.mac or ""):
                found.problems.append(f"event {event.seq} was altered after it was written "
                                      "(its signature does not match the audit key)")
        elif event.alg == LEGACY and not keyed_seen:
            found.legacy += 1
            found.last_legacy = event.seq
        else:
            found.problems.append(f"event {event.seq} is not signed with the audit key "
                                  f"(alg {event.alg!r} after signed events)")
        found.hashes[event.seq] = event.hash
        prev, newest = event.hash, event
        expected_seq += 1
    if case.event_count != expected_seq - 1 or (case.audit_head or GENESIS) != prev:
        found.problems.append(_MISSING_NEWEST)
    if newest is not None and newest.alg == KEYED and newest.row_digest != row_digest(case):
        found.problems.append("the case row (description, complainant, priority, status...) "
                              "was changed without a history entry")
    return found


def verify_case(case: Case) -> list[str]:
    """Return what is wrong with a case's chain; an empty list means it is intact."""
    return check_case(case).problems


def verify_all() -> dict[str, list[str]]:
    """Check every case's chain; return the broken ones with their problems."""
    broken: dict[str, list[str]] = {}
    for case in db.session.scalars(select(Case).order_by(Case.id)):
        problems = verify_case(case)
        if problems:
            broken[case.reference] = problems
    return broken
