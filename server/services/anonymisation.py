"""Erasing a case's personal data while its statistics and its audit chain stay intact.

Retention rules (services/retention.py) and data-subject requests (services/data_requests.py)
both erase through `anonymise_case`; this module is the one place that knows where a
case's personal data lives (with erasure_stores.py for the stores beside the case).

What stays: dates, channel, category, priority, status, outcome, amounts, the reporting
facts, and in the history every number, boolean, date, closed choice and structural key
(services/redaction.py). The history stays verifiable: each rewritten event is first
listed in case_event_redaction (what lets the database's trigger accept the change), and
a new keyed event, "personal data erased", lists for each one its hash as verified just
before and the SHA-256 of its new data and summary; verify-audit accepts a changed event
only when such an event vouches for exactly what it now holds (services/audit.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ..database import begin_write
from ..engine import erase_state
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Case, CaseErasure, CaseEvent, CaseEventRedaction, LegalHold, utcnow
from . import audit, erasure_stores
from .actors import Actor
from .processes.versions import form_schema
from .recording import EVENTS, load_case_by_id
from .records import CaseRecord
from .redaction import ERASED, redact_event

# The case row's personal fields, and what each becomes (the two required ones keep a mark).
PERSONAL_FIELDS: dict[str, str | None] = {
    "complainant_name": ERASED, "complainant_email": None, "complainant_phone": None,
    "description": ERASED, "remedy_sought": None, "representative_name": None,
    "representative_relationship": None, "representative_email": None,
    "representative_phone": None, "tracking_token_hash": None}
MIN_INSIDE = 6  # as engine/erasure.py: shorter values are erased only where whole
_CASES = Case.__table__


@dataclass
class Erasure:
    """What erasing a case did, or would do in a dry run."""

    reference: str
    erased: list[str] = field(default_factory=list)  # what was erased, in people's words
    documents: int = 0       # documents deleted
    events: int = 0          # history entries whose personal values were erased
    refused: str | None = None  # why nothing was erased (legal hold, broken chain...)


@dataclass
class _Plan:
    """The rewritten events and the values being erased, worked out before writing."""

    rewritten: dict[int, tuple[CaseEvent, str, str]] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)


def anonymise_case(case_id: int, actor: Actor, reason: str, *, documents_only: bool = False,
                   dry_run: bool = False, rule_id: int | None = None,
                   scrub: bool = True) -> Erasure:
    """Erase the personal data of one case (or only its documents), recording `reason`.

    `scrub` False leaves the database file's clean-up (erasure_stores.scrub) to the caller,
    who erases many cases and scrubs once.
    """
    if not dry_run:
        begin_write()
    case = load_case_by_id(case_id)
    if case is None:
        raise NotFound(_("There is no such case."))
    result = Erasure(case.reference)
    result.refused = refusal(case)
    if result.refused:
        db.session.rollback()  # let go of the write lock taken above
        return result
    result.documents = erasure_stores.documents(case.id)
    plan = _Plan() if documents_only else _plan(case)
    result.events = len(plan.rewritten)
    result.erased = _words(case, result, documents_only)
    if dry_run:
        return result
    erasure_stores.secure_delete()
    erasure_stores.delete_documents(case.id)
    if not documents_only:
        _rewrite_history(case, plan)
    _append_erasure(case, actor, reason, plan, documents_only, result.documents)
    if not documents_only:
        inside = sorted((v for v in plan.values if len(v) >= MIN_INSIDE), key=len, reverse=True)
        erasure_stores.erase(case.id, case.reference,
                             erasure_stores.Personal(plan.values, inside))
    db.session.add(CaseErasure(case_id=case.id, documents_only=documents_only, at=utcnow(),
                               actor=actor.name[:255], reason=reason[:500], rule_id=rule_id))
    db.session.commit()
    if scrub:
        erasure_stores.scrub()
    return result


def refusal(case: CaseRecord) -> str | None:
    """Why a case may not be erased now (None: it may)."""
    hold = db.session.get(LegalHold, case.id)
    if hold is not None:
        return _("Case %(reference)s is on legal hold (%(reason)s): lift the hold first.",
                 reference=case.reference, reason=hold.reason)
    if case.is_open:
        return _("Case %(reference)s is still open: only closed cases are erased.",
                 reference=case.reference)
    model = db.session.get(Case, case.id)
    problems = audit.verify_case(model) if model is not None else []
    if problems:
        return _("Case %(reference)s's history does not verify (%(problems)s): erasing it "
                 "would hide that. Find out why first.", reference=case.reference,
                 problems="; ".join(problems))
    return None


def _schemas(version_id: int) -> Any:
    """A form-by-name lookup for one process version (None: not a form of it)."""
    found: dict[str, dict[str, Any] | None] = {}

    def schema_of(name: str) -> dict[str, Any] | None:
        if name not in found:
            try:
                found[name] = form_schema(version_id, name)
            except NotFound:
                found[name] = None  # no schema: every open string of its answers goes
        return found[name]
    return schema_of


def _plan(case: CaseRecord) -> _Plan:
    """Work out each event's new data and summary, and every value being erased."""
    plan = _Plan()
    plan.values = {str(getattr(case, name)) for name in PERSONAL_FIELDS
                   if name != "tracking_token_hash" and getattr(case, name)
                   and getattr(case, name) != ERASED}
    schema_of = _schemas(case.process_version_id)
    events = [e for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
        if e.kind != audit.ERASURE_KIND]
    redacted = {}
    for event in events:
        redacted[event.seq] = redact_event(json.loads(event.data), schema_of, plan.values)
    plan.values.discard(ERASED)
    personal = erasure_stores.Personal(
        plan.values, sorted((v for v in plan.values if len(v) >= MIN_INSIDE), key=len,
                            reverse=True))
    for event in events:
        data = audit.canonical(redacted[event.seq])
        summary = personal.text(event.summary) or ""
        if data != event.data or summary != event.summary:
            plan.rewritten[event.seq] = (event, data, summary)
    return plan


def _rewrite_history(case: CaseRecord, plan: _Plan) -> None:
    """List the events in the redactions table, then rewrite their data and summary."""
    now = utcnow()
    for event, _data, _summary in plan.rewritten.values():
        db.session.add(CaseEventRedaction(case_id=case.id, event_id=event.id, at=now))
    db.session.flush()  # the case_event trigger looks for these rows
    for event, data, summary in plan.rewritten.values():
        db.session.execute(EVENTS.update().where(EVENTS.c.id == event.id).values(
            data=data, summary=summary))


def _append_erasure(case: CaseRecord, actor: Actor, reason: str, plan: _Plan,
                    documents_only: bool, documents: int) -> None:
    """The keyed history entry that records the erasure and vouches for each rewrite."""
    changes: dict[str, Any] = {} if documents_only else dict(PERSONAL_FIELDS)
    vouched = {str(seq): {"hash": event.hash, "data": audit.sha256(data),
                          "summary": audit.sha256(summary)}
               for seq, (event, data, summary) in sorted(plan.rewritten.items())}
    now = utcnow()
    summary = ("Documents deleted" if documents_only else "Personal data erased") + \
        f" ({reason})"
    event = audit.entry(case, actor, audit.ERASURE_KIND, summary,
                        {"reason": reason[:500], "documents_only": documents_only,
                         "documents": documents, "redacted": vouched}, at=now, row=changes)
    values: dict[str, Any] = {**changes, "updated_at": now, "event_count": event["seq"],
                              "audit_head": event["hash"], "version": case.version + 1}
    if not documents_only:
        values["workflow_state"] = erase_state(case.workflow_state, plan.values,
                                               tuple(PERSONAL_FIELDS), ERASED)
    saved = db.session.connection().execute(_CASES.update().where(
        _CASES.c.id == case.id, _CASES.c.version == case.version).values(**values)).rowcount
    if saved != 1:
        raise Conflict(_("Case %(reference)s changed while it was being erased: try again.",
                         reference=case.reference))
    db.session.execute(EVENTS.insert().values(**event))


def _words(case: CaseRecord, result: Erasure, documents_only: bool) -> list[str]:
    """What an erasure removes, as people read it."""
    words = [ngettext("%(num)d document", "%(num)d documents", result.documents)
             ] if result.documents else []
    if documents_only:
        return words
    return [_("the complainant's and representative's contact details"),
            _("the description and the remedy sought"),
            ngettext("personal values in %(num)d history entry",
                     "personal values in %(num)d history entries", result.events),
            *words, _("copies in e-mails, webhook deliveries and the case's saved state")]
