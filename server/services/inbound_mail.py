"""What an e-mail from the complaints mailbox becomes: a case, information on a case, nothing
(an auto-reply, a bounce, a loop) or a message kept for a person.

Every message read is recorded once, keyed by its folder, UIDVALIDITY and UID, with its raw
bytes (within PLAINT_MAILBOX_MAX_BYTES). The record commits in the same transaction as the
case or the step it caused (`also` of cases.start_case and cases.send_message), so a
message read again after a crash is seen as recorded and never makes a second case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import PlaintError
from ..extensions import db
from ..models import Case, InboundMail, OutboxMessage, utcnow
from ..models.inbound_mail import ADDED, CASE, HELD, IGNORED
from . import attachments, cases, portal
from .actors import Actor
from .forms import validate
from .mail_text import MailFile, ParsedMail, Unreadable, parse
from .records import CaseRecord

FROM_MAIL = Actor("complainant (e-mail)", None, frozenset(), "complainant")
SOURCE = "email"  # the attachments' source
CUT_NOTE = "\n\n[The e-mail is longer; all of it is kept with the e-mail on the Mailbox page.]"
_QUOTE_INTRO = re.compile(r"^(On .{1,200} wrote:|-{2,} ?Original Message ?-{2,})\s*$", re.I)
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Fetched:
    """One message as the mailbox gave it: where it sits and its bytes."""

    folder: str
    uidvalidity: int
    uid: int
    size: int
    raw: bytes  # the whole message, or only its header when it is over the size limit
    whole: bool = True


def recorded(folder: str, uidvalidity: int, uid: int) -> InboundMail | None:
    """The record of a message already read, if any."""
    return db.session.scalar(select(InboundMail).where(
        InboundMail.folder == folder, InboundMail.uidvalidity == uidvalidity,
        InboundMail.uid == uid))


def take(fetched: Fetched) -> InboundMail:
    """Record one message and do what it asks; a message recorded before is left as it was."""
    done = recorded(fetched.folder, fetched.uidvalidity, fetched.uid)
    if done is not None:
        return done
    db.session.rollback()
    if not fetched.whole:
        limit = current_app.config["PLAINT_MAILBOX_MAX_BYTES"]
        return _keep(fetched, _headers(fetched), HELD,
                     f"The message is {fetched.size:,} bytes, over the limit of {limit:,}: "
                     "only its header is kept here; it stays in the mailbox.")
    try:
        mail = parse(fetched.raw)
    except Unreadable as exc:
        return _keep(fetched, None, HELD, str(exc))
    why = _ignored_because(mail)
    if why:
        return _keep(fetched, mail, IGNORED, why)
    if mail.sender is None:
        return _keep(fetched, mail, HELD, "The message has no sender address to answer.")
    case, how = _case_replied_to(mail)
    if case is not None:
        return _add_to_case(fetched, mail, case, how)
    if how:  # it names a reference we do not know
        return _keep(fetched, mail, HELD, how)
    return _new_case(fetched, mail)


def keep_for_person(fetched: Fetched, reason: str) -> InboundMail:
    """Record a message that could not be dealt with, for a person to look at."""
    return _keep(fetched, _headers(fetched), HELD, reason)


def _headers(fetched: Fetched) -> ParsedMail | None:
    """The sender and subject of a message, if they can be read (for the Mailbox page)."""
    try:
        return parse(fetched.raw)
    except Unreadable:
        return None


def _ignored_because(mail: ParsedMail) -> str | None:
    """Why a message needs no answer: machine-sent, or our own mail come back."""
    config = current_app.config
    own = {config["PLAINT_MAIL_SENDER"].strip().lower(),
           str(config.get("PLAINT_MAILBOX_USER", "")).strip().lower()}
    if mail.message_id and db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.message_id == mail.message_id).limit(1)):
        return "A message Plaint sent came back (its own Message-ID)."
    if mail.sender and mail.sender in own:
        return f"A message from our own address ({mail.sender})."
    if mail.automatic:
        return f"Sent automatically: {mail.automatic}."
    if mail.message_id:
        earlier = db.session.scalar(select(InboundMail.id).where(
            InboundMail.message_id == mail.message_id[:255]).limit(1))
        if earlier:
            return f"A copy of e-mail {earlier}, read before (same Message-ID)."
    return None


def _case_replied_to(mail: ParsedMail) -> tuple[Case | None, str]:
    """The case a reply is about (by the reference in its subject, or our Message-IDs)."""
    prefix = current_app.config["PLAINT_REFERENCE_PREFIX"]
    found = re.search(rf"(?<![\w-]){re.escape(prefix)}-\d{{4}}-\d{{6}}(?!\w)", mail.subject,
                      re.I)
    if found:  # written as the reference is, whatever case the mail program gave it
        reference = prefix + found.group(0)[len(prefix):]
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        if case is None:
            return None, f"The subject names case {reference}, which does not exist."
        return case, f"the reference {reference} in the subject"
    if mail.refers_to:
        case_id = db.session.scalar(select(OutboxMessage.case_id).where(
            OutboxMessage.message_id.in_(mail.refers_to),
            OutboxMessage.case_id.is_not(None)).limit(1))
        case = db.session.get(Case, case_id) if case_id else None
        if case is not None:
            return case, f"a reply to our e-mail about {case.reference}"
    return None, ""


def _add_to_case(fetched: Fetched, mail: ParsedMail, case: Case, how: str) -> InboundMail:
    """Add a reply to its case as the complainant's information, if the complainant sent it."""
    reference = case.reference
    if (case.complainant_email or "").strip().lower() != mail.sender:
        return _keep(fetched, mail, HELD, f"It is about {reference} ({how}), but the sender "
                     "is not the complainant's address on that case.")
    text = without_quote(mail.text)
    if not text and not mail.files:
        return _keep(fetched, mail, HELD, f"A reply about {reference} with no text of its own.")
    asked = [q for q in portal.questions(case) if q.get("mail_field")]
    asked.sort(key=lambda q: not q["asked"])  # the question the process waits for first
    if not asked:
        return _keep(fetched, mail, HELD, f"It is about {reference} ({how}), but the case "
                     "does not take information from the complainant now.")
    question = asked[0]
    row = _row(fetched, mail, ADDED, None, case.id)
    try:
        values = validate(question["schema"], {question["mail_field"]: _fit(
            text or "(documents attached)", question["schema"], question["mail_field"])})
        cases.send_message(reference, question["message"], values, FROM_MAIL,
                           also=lambda: _insert(row))
    except PlaintError as exc:
        db.session.rollback()
        return _keep(fetched, mail, HELD, f"It is about {reference} ({how}), but it could not "
                     f"be added: {exc.message}")
    refused = _attach(reference, mail.files)
    return _noted(row, refused)


def _new_case(fetched: Fetched, mail: ParsedMail) -> InboundMail:
    """File a new complaint from the message, through the intake form, as the web form does."""
    schema, _ui = cases.intake_form()
    values = intake_values(mail, schema, current_app.config["PLAINT_MAILBOX_INTAKE_DEFAULTS"])
    row = _row(fetched, mail, CASE, None, None)

    def link(case: CaseRecord) -> None:
        row.case_id = case.id
        _insert(row)

    try:
        started = cases.start_case(values, "email", FROM_MAIL, also=link)
    except PlaintError as exc:
        db.session.rollback()
        problems = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in
                             getattr(exc, "field_errors", {}).items())
        return _keep(fetched, mail, HELD, "The intake form refused it: " + exc.message +
                     (f" ({problems})" if problems else ""))
    refused = _attach(started.case.reference, mail.files)
    return _noted(row, refused)


def intake_values(mail: ParsedMail, schema: dict[str, Any],
                  defaults: dict[str, Any]) -> dict[str, Any]:
    """The intake form's values an e-mail gives: sender, subject and text, and `defaults`.

    Required fields it cannot fill take `defaults` (PLAINT_MAILBOX_INTAKE_DEFAULTS), then
    the default the form declares; only fields the form has are given.
    """
    fields = schema.get("properties", {})
    values: dict[str, Any] = dict(defaults)
    for name in schema.get("required", []):  # defaults the form itself declares
        if name not in values and isinstance(fields.get(name), dict) and \
                "default" in fields[name]:
            values[name] = fields[name]["default"]
    description = "\n\n".join(part for part in (mail.subject, mail.text) if part)
    values.update({"complainant_name": mail.sender_name or mail.sender or "",
                   "complainant_email": mail.sender or "",
                   "description": _fit(description, schema, "description")})
    language = fields.get("preferred_language", {})
    if "ar" in language.get("enum", []) and _mostly_arabic(description):
        values["preferred_language"] = "ar"
    return {name: value for name, value in values.items() if name in fields}


def attach(reference: str, files: list[MailFile], actor: Actor = FROM_MAIL) -> list[str]:
    """Add an e-mail's files to a case under the usual limits; a message per refused file."""
    return _attach(reference, files, actor)


def _attach(reference: str, files: list[MailFile], actor: Actor = FROM_MAIL) -> list[str]:
    """Add the message's files to the case under the usual limits; what was refused."""
    refused: list[str] = []
    for item in files:
        upload = _Upload(item.filename, BytesIO(item.data))
        try:
            added = attachments.add_documents(reference, [upload], actor, SOURCE)
        except PlaintError as exc:
            refused.append(exc.message)
            continue
        refused.extend(added.errors)
    return refused


@dataclass
class _Upload:
    """A file of an e-mail, shaped like an upload for services/attachments.py."""

    filename: str
    stream: BytesIO


def _noted(row: InboundMail, refused: list[str]) -> InboundMail:
    """Note on the record the documents that were not kept (they stay in the raw e-mail)."""
    if refused:
        saved = db.session.get(InboundMail, row.id)
        if saved is not None:
            saved.reason = "Documents not kept (they stay in the e-mail): " + " ".join(refused)
            db.session.commit()
            return saved
    return row


def _keep(fetched: Fetched, mail: ParsedMail | None, outcome: str, reason: str) -> InboundMail:
    """Record a message that changed no case (ignored, or kept for a person)."""
    row = _row(fetched, mail, outcome, reason, None)
    try:
        _insert(row)
        db.session.commit()
    except IntegrityError:  # recorded meanwhile by another reader
        db.session.rollback()
        return recorded(fetched.folder, fetched.uidvalidity, fetched.uid) or row
    return row


def _row(fetched: Fetched, mail: ParsedMail | None, outcome: str, reason: str | None,
         case_id: int | None) -> InboundMail:
    return InboundMail(
        folder=fetched.folder[:255], uidvalidity=fetched.uidvalidity, uid=fetched.uid,
        message_id=(mail.message_id or "")[:255] or None if mail else None,
        sender=mail.sender if mail else None,
        sender_name=(mail.sender_name or None) if mail else None,
        subject=(mail.subject or None) if mail else None, size=fetched.size,
        raw=fetched.raw, outcome=outcome, reason=reason, case_id=case_id, read_at=utcnow())


def _insert(row: InboundMail) -> None:
    db.session.add(row)
    db.session.flush()


def _fit(text: str, schema: dict[str, Any], field: str) -> str:
    """The text cut to the field's maxLength, saying so (the whole e-mail is kept)."""
    limit = schema.get("properties", {}).get(field, {}).get("maxLength")
    if isinstance(limit, int) and len(text) > limit:
        return text[:max(limit - len(CUT_NOTE), 0)].rstrip() + CUT_NOTE
    return text


def without_quote(text: str) -> str:
    """A reply's own words: the quoted message below it left out."""
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if _QUOTE_INTRO.match(line.strip()):
            lines = lines[:number]
            break
    return "\n".join(line for line in lines if not line.startswith(">")).strip()


def _mostly_arabic(text: str) -> bool:
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_ARABIC.findall(text)) * 2 > letters
