"""Legal hold: a case that retention and erasure leave alone until the hold is lifted.

A complaints manager places the hold with a reason and lifts it; both are entries of the
case's history. anonymisation.py refuses a held case and says so; retention lists it as
skipped.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..access import HOLD_CASES, require
from ..database import begin_write
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..models import LegalHold, utcnow
from .actors import Actor
from .recording import load_case, record_event

FIELD = "hold_reason"
MAX_REASON = 500


def hold_of(case_id: int) -> LegalHold | None:
    """The case's legal hold, or None."""
    return db.session.get(LegalHold, case_id)


def place(reference: str, reason: str, actor: Actor) -> LegalHold:
    """Put a case on legal hold, with a reason recorded in its history; commit."""
    require(actor, HOLD_CASES)
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the case is held (a claim, an investigation, a regulator's "
                    "request).")
        raise InvalidInput(message, {FIELD: [message]})
    if len(reason) > MAX_REASON:
        message = _("Shorten the reason to %(count)s characters.", count=MAX_REASON)
        raise InvalidInput(message, {FIELD: [message]})
    begin_write()
    case = load_case(reference)
    if hold_of(case.id) is not None:
        raise Conflict(_("Case %(reference)s is already on legal hold.", reference=reference))
    hold = LegalHold(case_id=case.id, reason=reason, placed_by=actor.name[:255],
                     placed_at=utcnow())
    db.session.add(hold)
    record_event(case, actor, "case.hold_placed", f"Legal hold placed: {reason}"[:500],
                 {"reason": reason}, hold.placed_at)
    return hold


def lift(reference: str, actor: Actor) -> None:
    """Lift a case's legal hold, recorded in its history; commit."""
    require(actor, HOLD_CASES)
    begin_write()
    case = load_case(reference)
    hold = hold_of(case.id)
    if hold is None:
        raise Conflict(_("Case %(reference)s is not on legal hold.", reference=reference))
    db.session.delete(hold)
    record_event(case, actor, "case.hold_lifted", "Legal hold lifted",
                 {"was": hold.reason}, utcnow())
