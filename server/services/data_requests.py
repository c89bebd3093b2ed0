"""Data-subject requests (PDPL): recording one, finding the person's data, the copy, erasure.

A request is a case of kind "data_request" running the version's process whose start
event says `caseKind` "data_request"; its diagram carries the statutory deadline, the
reminder and the escalation. This module records the request and does what its pages
offer: show what Plaint holds about the person (services/person.py), make the ZIP copy
(services/subject_export.py), and erase the person's own cases through
`anonymisation.anonymise_case` with the request's recorded reason. Cases still open are
reported, never erased; a case under legal hold is refused by anonymisation itself. A case
where the person is only the representative is reported too: erasing it would erase the
complainant's data, which is not theirs to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import signals
from ..database import begin_write
from ..engine import EngineError
from ..errors import InvalidInput, NotFound, ProcessFailed
from ..extensions import db
from ..models import Case, DataRequest, utcnow
from ..models.data_request import REQUEST_KINDS
from . import anonymisation, recording, subject_export, system_log
from .actors import Actor
from .anonymisation import Erasure
from .person import Found, Person, find
from .processes import active_version_id, runtime_for
from .records import CaseRecord

KIND = "data_request"
PREFIX = "DSR"
MAX_NAME = 200
MAX_TEXT = 5000


@dataclass
class NewRequest:
    """What the form to record a request sends, kept as typed when refused."""

    name: str = ""
    email: str = ""
    phone: str = ""
    request_kind: str = ""
    identity_check: str = ""
    reason: str = ""

    @classmethod
    def from_values(cls, values: Any) -> NewRequest:
        """The form from posted values."""
        def text(name: str) -> str:
            return str(values.get(name) or "").strip().replace("\r\n", "\n")

        return cls(" ".join(text("name").split()), text("email"), text("phone"),
                   text("request_kind"), text("identity_check"), text("reason"))


@dataclass
class Outcome:
    """What erasing on a request did to one case."""

    reference: str
    erased: bool
    why: str  # what was erased, or why it was not


def _check(form: NewRequest) -> Person:
    """The person the form names; InvalidInput with a message per field otherwise."""
    errors: dict[str, list[str]] = {}
    person = None
    try:
        person = Person.of(form.email, form.phone)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
    if not form.name:
        errors["name"] = [_("Give the name of the person asking.")]
    elif len(form.name) > MAX_NAME:
        errors["name"] = [_("Use at most %(num)d characters.", num=MAX_NAME)]
    if form.request_kind not in REQUEST_KINDS:
        errors["request_kind"] = [_("Choose what the person asks for.")]
    if not form.identity_check:
        errors["identity_check"] = [_("Say how the person's identity was or will be checked.")]
    for name in ("identity_check", "reason"):
        if len(getattr(form, name)) > MAX_TEXT:
            errors[name] = [_("Use at most %(num)d characters.", num=MAX_TEXT)]
    if errors or person is None:
        db.session.rollback()
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors)
    return person


def open_request(form: NewRequest, actor: Actor) -> CaseRecord:
    """Record a data-subject request and start its process; commit."""
    person = _check(form)
    begin_write()
    version_id = active_version_id()
    runtime = runtime_for(version_id)
    message = runtime.starter_of(KIND)
    if message is None:
        db.session.rollback()
        raise ProcessFailed(_("The active process has no data-subject request process: a "
                              "process whose start event has the caseKind data_request."))
    now = utcnow()
    payload = {"name": form.name, "email": person.email, "phone": form.phone or None,
               "request_kind": form.request_kind, "identity_check": form.identity_check,
               "reason": form.reason or None}
    try:
        workflow, snapshot = runtime.start_process(
            runtime.starters[message], {"received_at": now.isoformat()}, message, payload)
    except EngineError as exc:
        db.session.rollback()
        raise ProcessFailed(_("The request could not be recorded: %(why)s",
                              why=str(exc))) from None
    fields = {"reference": _next_reference(now), "process_version_id": version_id,
              "channel": "internal", "received_at": now, "tracking_token_hash": None,
              "complainant_name": form.name, "complainant_email": person.email,
              "complainant_phone": form.phone or None, "preferred_language": None,
              "product_service": None, "description": form.reason or form.request_kind,
              "remedy_sought": None, "kind": KIND}
    case, timer = recording.insert_case(
        fields, runtime.dump(workflow), snapshot, actor, "Data-subject request recorded",
        payload, now, kind="data_request.opened")
    db.session.add(DataRequest(
        case_id=case.id, subject_name=form.name, subject_email=person.email,
        subject_phone=person.phone, request_kind=form.request_kind,
        identity_check=form.identity_check, reason=form.reason or None, opened_at=now,
        opened_by=actor.name[:255]))
    db.session.commit()
    recording.announce(timer)
    return case


def _next_reference(now: datetime) -> str:
    """The next request reference of the year (DSR-2026-00001); the unique index guards races."""
    stem = f"{PREFIX}-{now.year}-"
    last = db.session.scalar(select(func.max(Case.reference)).where(
        Case.kind == KIND, Case.reference.like(f"{stem}%")))
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{number:05d}"


def get(reference: str) -> tuple[Case, DataRequest]:
    """A request's case and its own row; NotFound for anything else."""
    case = db.session.scalar(select(Case).where(Case.reference == reference,
                                                Case.kind == KIND))
    row = db.session.get(DataRequest, case.id) if case is not None else None
    if case is None or row is None:
        raise NotFound(_("There is no data-subject request %(ref)s.", ref=reference))
    return case, row


def listing(limit: int = 200) -> list[tuple[Case, DataRequest]]:
    """The requests, open ones first, then the newest."""
    rows = db.session.execute(
        select(Case, DataRequest).join(DataRequest, DataRequest.case_id == Case.id)
        .order_by(Case.is_open.desc(), Case.received_at.desc(), Case.id.desc()).limit(limit))
    return [(case, row) for case, row in rows]


def person_of(row: DataRequest) -> Person:
    """Whom a request is about, as recorded."""
    return Person(row.subject_email, row.subject_phone)


def holdings(reference: str) -> Found:
    """What Plaint holds about the person a request is about."""
    return find(person_of(get(reference)[1]))


def export(reference: str, actor: Actor) -> tuple[str, bytes]:
    """The person's data as a ZIP (name, bytes); noted in the request and the system log."""
    begin_write()
    row = get(reference)[1]
    now = utcnow()
    found = find(person_of(row))
    content = subject_export.build_zip(found, reference, now)
    refs = [h.case.reference for h in found.holdings]
    row.exported_at, row.exported_by = now, actor.name[:255]
    summary = f"Copy of the person's data made ({len(refs)} cases)"
    recording.append_event(recording.load_case(reference), actor, "data_request.exported",
                           summary, {"cases": refs}, now)
    system_log.record(actor, "data_request.exported", f"{reference}: {summary}",
                      {"request": reference, "cases": refs})
    # The copy reads each case's record: the access log has a row for each.
    signals.case_read.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                           actor=actor, case_id=None, what="export",
                           cases=[(h.case.id, h.case.reference) for h in found.holdings],
                           detail=f"data-subject request {reference}")
    db.session.commit()
    return f"{reference}-data.zip", content


def erase(reference: str, actor: Actor) -> list[Outcome]:
    """Erase the person's own closed cases with the request's recorded reason; commit.

    Open cases and cases where the person is only the representative are reported, not
    erased; anonymisation refuses cases under legal hold and says why.
    """
    row = get(reference)[1]
    if row.request_kind != "erasure":
        raise InvalidInput(_("This request asks for a copy, not for erasure."))
    found = find(person_of(row))
    reason = f"Data-subject request {reference}: {row.reason or _('erasure asked for')}"
    outcomes: list[Outcome] = []
    for holding in found.holdings:
        ref = holding.case.reference
        if not holding.owned:
            outcomes.append(Outcome(ref, False, _(
                "Kept: the person is only the representative on this case; its data is "
                "the complainant's.")))
        elif holding.case.is_open:
            outcomes.append(Outcome(ref, False, _("Kept: the case is still open.")))
        else:
            outcomes.append(_outcome(ref, anonymisation.anonymise_case(
                holding.case.id, actor, reason)))
    _note_erasure(reference, actor, outcomes)
    return outcomes


def _outcome(reference: str, erasure: Erasure) -> Outcome:
    """An erasure as the request's page reports it."""
    if erasure.refused:
        return Outcome(reference, False, erasure.refused)
    return Outcome(reference, True, ", ".join(erasure.erased) or _("Personal data erased."))


def _note_erasure(reference: str, actor: Actor, outcomes: list[Outcome]) -> None:
    """Record on the request and in the system log what erasing did; commit."""
    begin_write()
    _case, row = get(reference)
    now = utcnow()
    row.erased_at, row.erased_by = now, actor.name[:255]
    erased = [o.reference for o in outcomes if o.erased]
    kept = {o.reference: o.why for o in outcomes if not o.erased}
    summary = f"Erased {len(erased)} cases, kept {len(kept)}"
    recording.append_event(recording.load_case(reference), actor, "data_request.erased",
                           summary, {"erased": erased, "kept": kept}, now)
    system_log.record(actor, "data_request.erased", f"{reference}: {summary}",
                      {"request": reference, "erased": erased, "kept": kept})
    db.session.commit()
