"""Confidential cases (staff complaints, VIPs, fraud): marked with a reason, read only by
the people named on them and those who read every case (services/visibility.py).

Marking, naming and lifting are recorded in the case's history, the reason as its note.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update

from ..access import MARK_CONFIDENTIAL, READ_CASES, can
from ..database import begin_write
from ..errors import Forbidden, InvalidInput
from ..extensions import db
from ..models import Case, CaseViewer, User, utcnow
from . import visibility
from .actors import Actor
from .recording import load_case, record_event

MAX_REASON = 2000
REASON = "confidential_reason"
PEOPLE = "confidential_people"


def named(case_id: int) -> list[User]:
    """The people named on a case, by name."""
    return list(db.session.scalars(
        select(User).join(CaseViewer, CaseViewer.user_id == User.id)
        .where(CaseViewer.case_id == case_id).order_by(User.display_name)))


def candidates() -> list[User]:
    """Active staff who read cases: whom a confidential case may name."""
    return [u for u in db.session.scalars(select(User).where(User.active)
                                          .order_by(User.display_name))
            if can(u, READ_CASES)]


def _refuse(field: str, message: str) -> InvalidInput:
    db.session.rollback()
    return InvalidInput(message, {field: [message]})


def _people(usernames: list[str], actor: Actor) -> list[User]:
    wanted = {u.strip().lower() for u in usernames if u.strip()}
    found = {u.username: u for u in candidates() if u.username in wanted}
    missing = sorted(wanted - set(found))
    if missing:
        raise _refuse(PEOPLE, _("These people cannot be named on a case: %(names)s. Choose "
                                "from the list.", names=", ".join(missing)))
    if actor.user_id is not None and actor.name not in found:  # who marks it keeps sight
        me = db.session.get(User, actor.user_id)
        if me is not None:
            found[me.username] = me
    return sorted(found.values(), key=lambda u: u.username)


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise _refuse(REASON, _("Say why the case is confidential (or why no longer)."))
    if len(text) > MAX_REASON:
        raise _refuse(REASON, _("Use at most %(count)s characters.", count=MAX_REASON))
    return text


def mark(reference: str, reason: str, usernames: list[str], actor: Actor) -> list[User]:
    """Mark a case confidential (or change who is named), with a reason; return the named."""
    if not can(actor, MARK_CONFIDENTIAL):
        raise Forbidden(_("Only supervisors and complaints managers mark cases confidential."))
    text = _reason(reason)
    begin_write()
    case = load_case(reference)
    visibility.check(actor, case.id, "confidential")
    people = _people(usernames, actor)
    db.session.execute(update(Case).where(Case.id == case.id).values(confidential=True)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(CaseViewer).where(CaseViewer.case_id == case.id))
    db.session.execute(insert(CaseViewer), [{"case_id": case.id, "user_id": u.id}
                                            for u in people])
    names = [u.username for u in people]
    record_event(case, actor, "case.confidential",
                 f"Marked confidential by {actor.name}: {', '.join(names)} may read it",
                 {"note": text, "people": names}, utcnow())
    return people


def lift(reference: str, reason: str, actor: Actor) -> None:
    """Make a confidential case readable by its team again, with a reason."""
    if not can(actor, MARK_CONFIDENTIAL):
        raise Forbidden(_("Only supervisors and complaints managers mark cases confidential."))
    text = _reason(reason)
    begin_write()
    case = load_case(reference)
    visibility.check(actor, case.id, "confidential")
    db.session.execute(update(Case).where(Case.id == case.id).values(confidential=False)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(CaseViewer).where(CaseViewer.case_id == case.id))
    record_event(case, actor, "case.not_confidential",
                 f"No longer confidential ({actor.name})", {"note": text}, utcnow())

