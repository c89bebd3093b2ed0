"""Signed checkpoints of every history, tombstones of purged cases, and the full check.

A key alone cannot reveal a deletion: someone who removes a whole case, or its newest
events and moves its head back, leaves chains that verify. A checkpoint lists every
case's (reference, event count, head) and the system log's (count, head), signed with
the audit key, in a file outside the database (PLAINT_AUDIT_CHECKPOINT_DIR); a copy row
stays in the database. verify-audit compares the database with the newest file.

The only way to delete a case's history is `flask purge-case`: it first writes a signed
tombstone, whose presence is what the database's DELETE trigger on case_event allows.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import AuditCheckpoint, AuditTombstone, Case, CaseEvent, WebhookDelivery, utcnow
from . import audit, system_log
from .actors import Actor

PREFIX = "checkpoint-"


def folder() -> Path:
    """Where checkpoint files go: PLAINT_AUDIT_CHECKPOINT_DIR, outside the database."""
    return Path(current_app.config["PLAINT_AUDIT_CHECKPOINT_DIR"])


def _write(name: str, body: dict[str, Any], signature: str) -> Path:
    """Write a signed document into the checkpoint folder, atomically."""
    path = folder() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"body": body, "signature": signature}, indent=1,
                                  sort_keys=True, ensure_ascii=False))
    os.replace(partial, path)
    return path


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S%fZ")


def take() -> Path:
    """Sign the current state of every history and the system log; write it; return the file."""
    at = utcnow()
    cases = {reference: [count, head or audit.GENESIS] for reference, count, head in
             db.session.execute(select(Case.reference, Case.event_count, Case.audit_head))}
    log = system_log.verify()
    body = {"version": 1, "at": at.isoformat(), "cases": cases,
            "system": [len(log.hashes), log.hashes[-1] if log.hashes else audit.GENESIS,
                       log.unchained]}
    signature = audit.sign(audit.canonical(body))
    name = f"{PREFIX}{_stamp(at)}.json"
    path = _write(name, body, signature)
    db.session.add(AuditCheckpoint(at=at, name=name, body=audit.canonical(body),
                                   signature=signature))
    db.session.commit()
    return path


def _tombstone_material(stone: AuditTombstone) -> str:
    return audit.canonical({"case_id": stone.case_id, "reference": stone.reference,
                            "event_count": stone.event_count, "head": stone.head,
                            "actor": stone.actor, "at": stone.at, "reason": stone.reason})


def purge_case(reference: str, reason: str, actor: Actor) -> AuditTombstone:
    """Delete a case and its history for retention, leaving a signed tombstone; commit."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(_("There is no case %(reference)s.", reference=reference))
    problems = audit.verify_case(case)
    if problems:
        raise Conflict(_("Case %(reference)s's history does not verify (%(problems)s): find out "
                         "why before purging it.", reference=reference,
                         problems="; ".join(problems)))
    stone = AuditTombstone(case_id=case.id, reference=reference, event_count=case.event_count,
                           head=case.audit_head or audit.GENESIS, actor=actor.name,
                           at=utcnow(), reason=reason[:500], signature="")
    stone.signature = audit.sign(_tombstone_material(stone))
    db.session.add(stone)
    db.session.flush()  # the DELETE trigger on case_event looks for this row
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id))
    # Webhook bodies are copies of the case (personal data, if a subscription was allowed it).
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.case_id == case.id))
    db.session.execute(delete(Case.__table__).where(Case.__table__.c.id == case.id))
    system_log.record(actor, "audit.purge", f"Purged case {reference}: {reason}"[:500],
                      {"reference": reference, "events": stone.event_count,
                       "head": stone.head})
    db.session.commit()
    _write(f"tombstone-{reference}-{_stamp(stone.at)}.json",
           json.loads(_tombstone_material(stone)), stone.signature)
    return stone


@dataclass
class Report:
    """What verify-audit checked and what it found."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: int = 0
    events: int = 0
    legacy: int = 0
    redacted: int = 0
    system_events: int = 0
    checkpoint: str | None = None


def _newest_file() -> Path | None:
    if not folder().is_dir():
        return None
    files = sorted(folder().glob(f"{PREFIX}*.json"))
    return files[-1] if files else None


def verify() -> Report:
    """Check every case, the system log, the tombstones, and all against the newest file."""
    report = Report()
    hashes: dict[str, dict[int, str]] = {}
    legacy: dict[str, int] = {}
    for case in db.session.scalars(select(Case).order_by(Case.id)):
        found = audit.check_case(case)
        report.cases += 1
        report.events += found.events
        report.legacy += found.legacy
        report.redacted += found.redacted
        hashes[case.reference] = found.hashes
        if found.last_legacy:
            legacy[case.reference] = found.last_legacy
        report.problems += [f"{case.reference}: {problem}" for problem in found.problems]
    log = system_log.verify()
    report.system_events = len(log.hashes)
    report.problems += [f"system log: {problem}" for problem in log.problems]
    if log.unchained:
        report.notes.append(f"{log.unchained} system event(s) from before audit keys are "
                            "not chained: only checkpoints protect them")
    if report.legacy:
        report.notes.append(f"{report.legacy} event(s) from before audit keys were checked "
                            "with plain SHA-256: only the signed events after them and "
                            "checkpoints protect them")
    if report.redacted:
        report.notes.append(f"{report.redacted} event(s) had personal values erased; the "
                            "keyed erasure events after them vouch for what they hold now")
    stones: dict[str, AuditTombstone] = {}
    for stone in db.session.scalars(select(AuditTombstone)):
        if hmac.compare_digest(audit.sign(_tombstone_material(stone)), stone.signature):
            stones[stone.reference] = stone
        else:
            report.problems.append(f"tombstone of {stone.reference}: its signature does not "
                                   "match the audit key (forged or altered)")
    body = _against_checkpoint(report, hashes, log.hashes, stones)
    _unkeyed_vouched(report, body, legacy, log.unchained)
    return report


def _unkeyed_vouched(report: Report, body: dict[str, Any] | None, legacy: dict[str, int],
                     unchained: int) -> None:
    """Accept unkeyed (pre-0012) rows only where a signed checkpoint already counted them.

    Anyone can recompute a plain SHA-256 chain: without this, rewriting a case and marking
    its events "sha256" would pass. After upgrading, take a checkpoint once.
    """
    cases = body["cases"] if body else {}
    for reference, seq in sorted(legacy.items()):
        if reference not in cases or cases[reference][0] < seq:
            report.problems.append(f"{reference}: event {seq} is not signed with the audit "
                                   "key and no checkpoint vouches for it (after upgrading, "
                                   "run `flask audit-checkpoint` once)")
    vouched = body["system"][2] if body else 0
    if unchained > vouched:
        report.problems.append(f"system log: {unchained} events are not chained and the "
                               f"checkpoint vouches for {vouched}")


def _against_checkpoint(report: Report, hashes: dict[str, dict[int, str]],
                        system: list[str],
                        stones: dict[str, AuditTombstone]) -> dict[str, Any] | None:
    """Compare the database with the newest checkpoint file; return its signed body."""
    path = _newest_file()
    if path is None:
        copies = db.session.scalar(select(db.func.count(AuditCheckpoint.id))) or 0
        if copies:
            report.problems.append(f"the database holds {copies} checkpoint(s) but no "
                                   f"checkpoint file is in {folder()}: restore them")
        return None
    report.checkpoint = path.name
    try:
        signed = json.loads(path.read_text())
        body, signature = signed["body"], signed["signature"]
    except (OSError, ValueError, KeyError, TypeError):
        report.problems.append(f"checkpoint {path.name} cannot be read")
        return None
    if not hmac.compare_digest(audit.sign(audit.canonical(body)), str(signature)):
        report.problems.append(f"checkpoint {path.name}: its signature does not match the "
                               "audit key")
        return None
    report.checkpoint = f"{path.name} (taken {body['at']})"
    for reference, (count, head) in sorted(body["cases"].items()):
        chain = hashes.get(reference)
        if chain is None:
            stone = stones.get(reference)
            if stone is None or stone.event_count < count or (
                    stone.event_count == count and stone.head != head):
                report.problems.append(f"{reference}: the case is gone (the checkpoint had "
                                       f"{count} events) and no valid tombstone says why")
        elif len(chain) < count:
            report.problems.append(f"{reference}: {len(chain)} events, the checkpoint had "
                                   f"{count}: events were deleted")
        elif count and chain.get(count) != head:
            report.problems.append(f"{reference}: event {count} differs from the "
                                   "checkpoint: the history was rewritten")
    count, head = body["system"][:2]
    if len(system) < count:
        report.problems.append(f"system log: {len(system)} chained events, the checkpoint "
                               f"had {count}: events were deleted")
    elif count and system[count - 1] != head:
        report.problems.append(f"system log: event {count} differs from the checkpoint: "
                               "the log was rewritten")
    return dict(body)
