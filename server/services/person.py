"""Finding everything Plaint holds about one person, by e-mail address or phone number.

A person is matched on a case as its complainant or as its representative, and on the
e-mails Plaint received from them. Addresses match whatever their case and spacing;
phone numbers match on their digits, the last nine of them when both are that long, so
"+966 50 123 4567" and "050-123-4567" are the same number (a country code or a trunk zero
in front does not make another person).

What is whose on a case: a person who is the complainant owns the case (its fields,
history, messages and documents), except what belongs to a representative acting for
them (the representative's own contact details, and e-mails to or from the
representative). A person who is only the representative owns their own details on the
case and the e-mails to or from them, and nothing of the complainant's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..errors import InvalidInput
from ..extensions import db
from ..models import Case, InboundMail, OutboxMessage
from . import attachments
from .attachments import Document

COMPLAINANT = "complainant"
REPRESENTATIVE = "representative"
PHONE_DIGITS = 9  # the digits that name a subscriber once prefixes are taken away
MIN_PHONE_DIGITS = 6
_NOT_DIGITS = re.compile(r"\D+")


def email_key(value: str | None) -> str | None:
    """An e-mail address as matched: trimmed, lower-case; None when empty."""
    text = (value or "").strip().lower()
    return text or None


def phone_key(value: str | None) -> str | None:
    """A phone number as matched: its last digits; None when it has too few to be one."""
    digits = _NOT_DIGITS.sub("", value or "")
    return digits[-PHONE_DIGITS:] if len(digits) >= MIN_PHONE_DIGITS else None


@dataclass(frozen=True)
class Person:
    """Whom to look for: an e-mail address, a phone number, or both (normalised)."""

    email: str | None
    phone: str | None

    @classmethod
    def of(cls, email: str | None, phone: str | None) -> Person:
        """The person these (typed) details name; InvalidInput when neither can match."""
        person = cls(email_key(email), phone_key(phone))
        errors: dict[str, list[str]] = {}
        if person.email is not None and "@" not in person.email:
            errors["email"] = [_("Enter an e-mail address such as name@example.com.")]
        if (phone or "").strip() and person.phone is None:
            errors["phone"] = [_("Enter a phone number with at least %(num)d digits.",
                                 num=MIN_PHONE_DIGITS)]
        if not errors and person.email is None and person.phone is None:
            errors["email"] = [_("Give the person's e-mail address or phone number.")]
        if errors:
            raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors)
        return person

    def matches(self, email: str | None, phone: str | None) -> bool:
        """Whether an address or number on a record is this person's."""
        return bool((self.email and email_key(email) == self.email)
                    or (self.phone and phone_key(phone) == self.phone))


@dataclass
class Holding:
    """One case that holds something of the person, and as whom."""

    case: Case
    role: str  # COMPLAINANT or REPRESENTATIVE
    documents: list[Document] = field(default_factory=list)  # theirs only

    @property
    def owned(self) -> bool:
        """Whether the case is the person's own (they are its complainant)."""
        return self.role == COMPLAINANT


@dataclass
class Found:
    """Everything Plaint holds about a person."""

    person: Person
    holdings: list[Holding]
    loose_mail: list[InboundMail]  # e-mails from them filed on no case


def find(person: Person) -> Found:
    """The complaints and e-mails that hold something of the person, oldest first."""
    holdings: dict[int, Holding] = {}
    for case in db.session.scalars(_candidates(person)):
        if person.matches(case.complainant_email, case.complainant_phone):
            holdings[case.id] = Holding(case, COMPLAINANT)
        elif person.matches(case.representative_email, case.representative_phone):
            holdings[case.id] = Holding(case, REPRESENTATIVE)
    mail = list(db.session.scalars(select(InboundMail).where(
        func.lower(func.trim(InboundMail.sender)) == person.email).order_by(InboundMail.id))
        if person.email else ())
    for row in mail:  # a case found only through the e-mails they sent is theirs too
        if row.case_id is not None and row.case_id not in holdings:
            case = db.session.get(Case, row.case_id)
            if case is not None and case.kind == "complaint":
                holdings[case.id] = Holding(case, _role_by_mail(person, case))
    for holding in holdings.values():
        if holding.owned:
            holding.documents = attachments.for_case(holding.case.id, include_internal=False)
    ordered = sorted(holdings.values(), key=lambda h: (h.case.received_at, h.case.id))
    return Found(person, ordered, [m for m in mail if m.case_id is None])


def _role_by_mail(person: Person, case: Case) -> str:
    """As whom someone who wrote about a case holds it: its representative if it has one."""
    return REPRESENTATIVE if case.representative_email and not person.matches(
        case.complainant_email, case.complainant_phone) else COMPLAINANT


def _candidates(person: Person) -> Any:
    """The complaints that may be the person's: by address in SQL, by number in Python.

    Phone numbers are stored as typed, so every case with a number is a candidate and
    `Person.matches` decides; an address narrows in the database.
    """
    tests = []
    if person.email:
        tests += [func.lower(func.trim(Case.complainant_email)) == person.email,
                  func.lower(func.trim(Case.representative_email)) == person.email]
    if person.phone:
        tests += [Case.complainant_phone.like(f"%{person.phone[-1]}%"),
                  Case.representative_phone.like(f"%{person.phone[-1]}%")]
    return (select(Case).where(Case.kind == "complaint", or_(*tests))
            .order_by(Case.received_at, Case.id))


def messages_of(holding: Holding, person: Person) -> list[OutboxMessage]:
    """The e-mails Plaint wrote on a case that are the person's to see.

    The complainant sees the case's e-mails except those to someone else's address (a
    representative's, staff's); a representative sees only those addressed to them.
    """
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.case_id == holding.case.id).order_by(OutboxMessage.id))
    if holding.owned:
        return [m for m in rows if m.recipient_kind == COMPLAINANT
                or (m.recipient is not None and person.matches(m.recipient, None))]
    return [m for m in rows if m.recipient is not None and person.matches(m.recipient, None)]


def mail_of(holding: Holding, person: Person) -> list[InboundMail]:
    """The e-mails received on a case that are the person's: those they sent."""
    if not person.email:
        return []
    return list(db.session.scalars(select(InboundMail).where(
        InboundMail.case_id == holding.case.id,
        func.lower(func.trim(InboundMail.sender)) == person.email).order_by(InboundMail.id)))
