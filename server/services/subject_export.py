"""A person's data as one ZIP: export.json, export.pdf and their documents (PDPL access).

The JSON holds, for each case that holds something of the person (services/person.py),
what is theirs: on their own cases the fields, the values each step recorded, the e-mails
and the documents; on a case where they only represent the complainant, their own details
and the e-mails to or from them. What belongs to someone else (a representative's details
on the complainant's case) is withheld, and said so. Staff who worked a case are not
named: a step says what was recorded, not who recorded it.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import undefer

from ..extensions import db
from ..models import Attachment, Case, InboundMail, OutboxMessage
from . import audit, process_texts
from .attachments import clean_filename
from .letters import Printer
from .person import Found, Holding, Person, mail_of, messages_of

WITHHELD = "[withheld: someone else's]"
_OWN_FIELDS = ("complainant_name", "complainant_email", "complainant_phone",
               "preferred_language", "product_service", "category", "description",
               "remedy_sought", "priority", "channel")
_REPRESENTATIVE_FIELDS = ("representative_name", "representative_relationship",
                          "representative_email", "representative_phone")
# The PDF's labels; a representative's own details read as the person's own.
_LABELS = {"complainant_name": _l("Name"), "complainant_email": _l("E-mail"),
           "complainant_phone": _l("Phone"), "preferred_language": _l("Preferred language"),
           "product_service": _l("Product or service"), "category": _l("Category"),
           "description": _l("Description"), "remedy_sought": _l("Remedy sought"),
           "priority": _l("Priority"), "channel": _l("Channel"),
           "representative": _l("Representative"), "representative_name": _l("Name"),
           "representative_relationship": _l("Representative"),
           "representative_email": _l("E-mail"), "representative_phone": _l("Phone")}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _others(holding: Holding, person: Person) -> set[str]:
    """The values on an owned case that are someone else's: its representative's details."""
    case = holding.case
    if person.matches(case.representative_email, case.representative_phone):
        return set()
    return {str(v).strip().lower() for v in (
        case.representative_name, case.representative_email, case.representative_phone) if v}


def _scrub(value: Any, others: set[str]) -> Any:
    """Recorded values without someone else's details (representative fields, their values)."""
    if isinstance(value, dict):
        return {k: (WITHHELD if k.startswith("representative_") and v else _scrub(v, others))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, others) for v in value]
    if isinstance(value, str) and value.strip().lower() in others:
        return WITHHELD
    return value


def _document_path(case: Case, document_id: int, filename: str) -> str:
    return f"documents/{case.reference}/{document_id}-{clean_filename(filename)}"


def _case_entry(holding: Holding, person: Person, language: str) -> dict[str, Any]:
    """What the export says about one case: all of it if theirs, their part if not."""
    case = holding.case
    entry: dict[str, Any] = {
        "reference": case.reference, "as": holding.role,
        "received_at": _when(case.received_at), "closed_at": _when(case.closed_at),
        "open": case.is_open,
        "status": process_texts.text(case.process_version_id, case.status_label, language)}
    if holding.owned:
        others = _others(holding, person)
        entry["fields"] = {name: getattr(case, name) for name in _OWN_FIELDS}
        if others:
            entry["fields"]["representative"] = WITHHELD
        else:
            entry["fields"].update({n: getattr(case, n) for n in _REPRESENTATIVE_FIELDS})
        entry["history"] = [{"at": _when(e.at), "kind": e.kind,
                             "values": _scrub(json.loads(e.data or "{}"), others)}
                            for e in audit.history(case)]
        entry["documents"] = [{"name": d.filename, "type": d.content_type, "size": d.size,
                               "sha256": d.sha256, "added_at": _when(d.added_at),
                               "file": _document_path(case, d.id, d.filename)}
                              for d in holding.documents]
    else:
        entry["fields"] = {n: getattr(case, n) for n in _REPRESENTATIVE_FIELDS}
    entry["messages"] = ([_sent(m) for m in messages_of(holding, person)]
                         + [_received(m) for m in mail_of(holding, person)])
    return entry


def _sent(message: OutboxMessage) -> dict[str, Any]:
    return {"direction": "to_you", "at": _when(message.sent_at or message.created_at),
            "to": message.recipient, "subject": message.subject, "text": message.body_text}


def _received(mail: InboundMail) -> dict[str, Any]:
    return {"direction": "from_you", "at": _when(mail.read_at), "from": mail.sender,
            "subject": mail.subject, "file": f"mail/{mail.id}.eml" if mail.raw else None}


def contents(found: Found, request_reference: str, now: datetime) -> dict[str, Any]:
    """The export's JSON: every case that holds something of the person, and loose e-mails."""
    language = str(get_locale() or "en")
    return {"request": request_reference, "made_at": _when(now),
            "person": {"email": found.person.email, "phone": found.person.phone},
            "cases": [_case_entry(h, found.person, language) for h in found.holdings],
            "other_messages": [_received(m) for m in found.loose_mail]}


def _pdf(data: dict[str, Any]) -> bytes:
    """The same contents as a PDF a person can read (Arabic shaped, in the page's language)."""
    language = str(get_locale() or "en")
    printer = Printer(_("Your data held by us"), language)
    printer.heading(_("Your data held by us"), 15)
    printer.field(_("Request"), data["request"])
    printer.field(_("Made"), data["made_at"])
    for case in data["cases"]:
        printer.heading(case["reference"])
        printer.field(_("Status"), case["status"])
        printer.field(_("Received"), case["received_at"])
        for name, value in case["fields"].items():
            printer.field(str(_LABELS.get(name, name)), value)
        for document in case.get("documents", []):
            printer.field(_("Document"), f"{document['name']} ({document['file']})")
        for message in case["messages"]:
            printer.field(_("E-mail"), f"{message['at']}: {message['subject'] or ''}")
        if case.get("history"):
            printer.paragraph(_("What each step recorded is in export.json."), size=9)
    return printer.output()


def build_zip(found: Found, request_reference: str, now: datetime) -> bytes:
    """The ZIP a person gets: export.json, export.pdf, their documents and e-mails."""
    data = contents(found, request_reference, now)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("export.pdf", _pdf(data))
        for holding in found.holdings:
            if not holding.documents:
                continue
            ids = [d.id for d in holding.documents]
            for row in db.session.scalars(select(Attachment).options(
                    undefer(Attachment.data)).where(Attachment.id.in_(ids))):
                archive.writestr(_document_path(holding.case, row.id, row.filename), row.data)
        mails = [m for h in found.holdings for m in mail_of(h, found.person)] + found.loose_mail
        for mail in mails:
            if mail.raw:
                archive.writestr(f"mail/{mail.id}.eml", mail.raw)
    return buffer.getvalue()
