"""The Mailbox page's work: the e-mails kept for a person, and what staff make of them.

A kept e-mail can become a case through the staff intake form (prefilled from it; its
files follow the case), be added to a case (as the complainant's information when the
case takes it now, else as an internal note), or be discarded with a reason, which the
system log keeps.
"""

from __future__ import annotations

import math
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..database import begin_write
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..models import Case, InboundMail, MailboxLease, utcnow
from ..models.inbound_mail import ADDED, CASE, DISCARDED, HELD, OUTCOMES
from . import cases, inbound_mail, portal, system_log
from .actors import Actor
from .forms import validate
from .mail_text import ParsedMail, Unreadable, parse

PAGE_SIZE = 50
MAX_ID = 2**31 - 1
MAX_REASON = 1000


def counts() -> dict[str, int]:
    """How many e-mails have each outcome."""
    found = {str(outcome): int(number) for outcome, number in db.session.execute(
        select(InboundMail.outcome, func.count()).group_by(InboundMail.outcome))}
    return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}


def reader() -> MailboxLease | None:
    """When the mailbox was last read, and the error of that reading, if any."""
    return db.session.get(MailboxLease, "mailbox")


def listing(outcome: str, page: int) -> tuple[list[InboundMail], int]:
    """One page of the e-mails with an outcome, newest first, and the number of pages."""
    if outcome not in OUTCOMES:
        outcome = HELD
    total = counts()[outcome]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = list(db.session.scalars(
        select(InboundMail).where(InboundMail.outcome == outcome)
        .order_by(InboundMail.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return rows, pages


def get(mail_id: int) -> InboundMail:
    """One recorded e-mail; NotFound with its number otherwise."""
    mail = db.session.get(InboundMail, mail_id) if 0 < mail_id <= MAX_ID else None
    if mail is None:
        raise NotFound(_("There is no e-mail %(number)s in the mailbox.", number=mail_id))
    return mail


def reading(mail: InboundMail) -> ParsedMail | None:
    """The e-mail as read (text, files); None when it cannot be read or was too large."""
    if not mail.raw:
        return None
    try:
        return parse(mail.raw)
    except Unreadable:
        return None


def case_reference(mail: InboundMail) -> str | None:
    """The reference of the case the e-mail became or was added to."""
    if mail.case_id is None:
        return None
    return db.session.scalar(select(Case.reference).where(Case.id == mail.case_id))


def _held(mail_id: int) -> InboundMail:
    mail = get(mail_id)
    if mail.outcome != HELD:
        raise Conflict(_("E-mail %(number)s is no longer waiting for a person: reload the "
                         "page to see what became of it.", number=mail_id))
    return mail


def intake_prefill(mail_id: int) -> dict[str, Any]:
    """The staff intake form's values from a kept e-mail (the consent is left to staff)."""
    mail = _held(mail_id)
    parsed = reading(mail)
    if parsed is None:
        return {"complainant_email": mail.sender or "", "complainant_name":
                mail.sender_name or mail.sender or "", "description": mail.subject or ""}
    schema, _ui = cases.intake_form()
    return inbound_mail.intake_values(parsed, schema, {})


def link_case(mail_id: int, case_id: int, actor: Actor) -> None:
    """In the transaction of the case staff intake makes from a kept e-mail: note it.

    A kept e-mail made a case already (by someone else meanwhile) stops the second case.
    """
    try:
        _handled(mail_id, CASE, case_id, actor)
    except Conflict:
        db.session.rollback()
        raise


def attach_files(mail_id: int, reference: str, actor: Actor) -> list[str]:
    """Add a filed e-mail's files to its case; return a message per file refused."""
    parsed = reading(get(mail_id))
    return inbound_mail.attach(reference, parsed.files, actor) if parsed else []


def add_to_case(mail_id: int, reference: str, actor: Actor) -> list[str]:
    """Add a kept e-mail to a case; return a message per file the case could not take.

    As the complainant's information when the case takes it now, else as an internal note.
    """
    reference = (reference or "").strip().upper()[:100]
    if not reference:
        raise InvalidInput(_("Give the reference of the case to add the e-mail to."),
                           {"reference": [_("Give a case reference, e.g. CMP-2026-000123.")]})
    mail = _held(mail_id)
    case = cases.get_case(reference)
    parsed = reading(mail)
    text = inbound_mail.without_quote(parsed.text) if parsed else \
        (mail.raw or b"").decode("utf-8", "replace")[:cases.MAX_NOTE - 500]
    text = text or _("(no text)")
    asked = [q for q in portal.questions(case) if q.get("mail_field")]
    asked.sort(key=lambda q: not q["asked"])
    if asked:
        question = asked[0]
        values = validate(question["schema"], {question["mail_field"]: text})

        def handled() -> None:
            _handled(mail_id, ADDED, case.id, actor)

        cases.send_message(reference, question["message"], values, actor, also=handled)
    else:
        note = f"E-mail {mail_id} from {mail.sender or '?'}: {mail.subject or ''}\n\n{text}"
        cases.add_note(reference, note[:cases.MAX_NOTE], actor)
        begin_write()
        _handled(mail_id, ADDED, case.id, actor)
        db.session.commit()
    return inbound_mail.attach(reference, parsed.files, actor) if parsed else []


def discard(mail_id: int, reason: str, actor: Actor) -> None:
    """Set a kept e-mail aside with a reason; the system log keeps who and why."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(_("Say why the e-mail is discarded."),
                           {"reason": [_("Say why the e-mail is discarded.")]})
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Shorten the reason to %(count)s characters.", count=MAX_REASON),
                           {"reason": [_("Shorten the reason to %(count)s characters.",
                                         count=MAX_REASON)]})
    mail = _held(mail_id)
    begin_write()
    row = _handled(mail_id, DISCARDED, None, actor)
    row.reason = f"{mail.reason or ''}\nDiscarded: {reason}".strip()
    system_log.record(actor, "mail.discarded", f"E-mail {mail_id} discarded: {reason}",
                      {"mail": mail_id, "sender": mail.sender, "subject": mail.subject,
                       "reason": reason})
    db.session.commit()


def _handled(mail_id: int, outcome: str, case_id: int | None, actor: Actor) -> InboundMail:
    """Write what a person made of a kept e-mail, in the caller's transaction."""
    row = db.session.get(InboundMail, mail_id)
    if row is None or row.outcome != HELD:
        raise Conflict(_("E-mail %(number)s is no longer waiting for a person: reload the "
                         "page to see what became of it.", number=mail_id))
    row.outcome, row.case_id = outcome, case_id
    row.handled_by, row.handled_at = actor.name, utcnow()
    db.session.flush()
    return row
