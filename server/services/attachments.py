"""Documents on a case: what may be uploaded, staging for unfinished intake forms, adding,
listing and handing them out.

What type a file is comes from filetypes: its content decides, never what the browser
claims; the name's extension must agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import IO, Any, Protocol
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import undefer

from ..database import begin_write
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Attachment, utcnow
from .actors import Actor
from .filetypes import ACCEPT, BY_TYPE, KINDS, Kind, allowed_types, sniff
from .recording import load_case, load_case_by_id, record_event
from .records import CaseRecord

FIELD = "documents"  # the name of the file field on every upload form
MAX_NAME = 150  # characters of a stored file name, extension included
# Bidirectional overrides can make "txt.exe" read as "exe.txt"; they never belong in a name.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE = re.compile(r'[<>:"/\\|?*]')


class Incoming(Protocol):
    """An uploaded file as the web layer hands it over (werkzeug's FileStorage fits)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def stream(self) -> IO[bytes]: ...


@dataclass(frozen=True)
class Limits:
    """How much may be uploaded, from the PLAINT_* settings."""

    file_bytes: int
    per_upload: int
    case_bytes: int
    staging_hours: float
    accept: str = ACCEPT

    @classmethod
    def current(cls) -> Limits:
        """The limits of the running app."""
        config = current_app.config
        return cls(config["PLAINT_MAX_ATTACHMENT_BYTES"],
                   config["PLAINT_MAX_ATTACHMENTS_PER_UPLOAD"],
                   config["PLAINT_MAX_CASE_ATTACHMENT_BYTES"],
                   config["PLAINT_STAGED_ATTACHMENT_HOURS"])


@dataclass(frozen=True)
class Document:
    """What pages show of an attachment (never its bytes)."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    added_by: str
    source: str
    added_at: datetime
    internal: bool

    @property
    def kind_label(self) -> str:
        """A name for the type a person recognises, such as 'Word document'."""
        kind = BY_TYPE.get(self.content_type)
        return _(kind.label) if kind else self.content_type


@dataclass
class Staging:
    """The documents waiting with an unfinished intake form, and what was refused."""

    token: str = ""
    key: str = ""
    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Added:
    """The documents an upload added to a case, and what was refused."""

    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Checked:
    filename: str
    kind: Kind
    data: bytes


_DOCUMENT_COLUMNS = tuple(getattr(Attachment, name) for name in Document.__dataclass_fields__)


def human_size(size: int) -> str:
    """A byte count as people read it: 512 bytes, 84 KB, 2.5 MB."""
    if size < 1024:
        return _("%(num)d bytes", num=size)
    if size < 1024 * 1024:
        return _("%(num)s KB", num=f"{size / 1024:.0f}")
    return _("%(num)s MB", num=f"{size / (1024 * 1024):.1f}".removesuffix(".0"))


def clean_filename(raw: str | None) -> str:
    """A file name safe to store and show: no folders, control characters or overrides."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if ch not in _BIDI
                   and unicodedata.category(ch) not in ("Cc", "Cs"))
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[:MAX_NAME - len(suffix)].rstrip(" .") or "document"
    return stem + suffix


def _check(upload: Incoming, limits: Limits) -> _Checked | str:
    """One upload read and checked; a message naming the file when it is refused."""
    name = clean_filename(upload.filename)
    data = upload.stream.read(limits.file_bytes + 1)
    if len(data) > limits.file_bytes:
        return _("%(name)s is larger than %(limit)s, the most we accept for one document.",
                 name=name, limit=human_size(limits.file_bytes))
    if not data:
        return _("%(name)s is empty.", name=name)
    found = sniff(data)
    if found is None:
        return _("%(name)s is not a type of document we accept.", name=name) + " " + \
            allowed_types()
    kind = KINDS[found]
    if not name.lower().endswith(kind.extensions):
        return _("By its content %(name)s is of the type %(kind)s, so its name must end in "
                 "%(ext)s. Rename it and choose it again.", name=name, kind=_(kind.label),
                 ext=", ".join(kind.extensions))
    return _Checked(name, kind, data)


def _check_all(uploads: Iterable[Incoming], limits: Limits, already: int,
               room: int | None) -> tuple[list[_Checked], list[str]]:
    """The uploads that pass, and a message for each one that does not."""
    chosen = [u for u in uploads if u.filename]
    if already + len(chosen) > limits.per_upload:
        return [], [_("Send at most %(num)d documents at a time (you chose %(chosen)d).",
                      num=limits.per_upload, chosen=already + len(chosen))]
    passed: list[_Checked] = []
    errors: list[str] = []
    for upload in chosen:
        result = _check(upload, limits)
        if isinstance(result, str):
            errors.append(result)
        elif room is not None and len(result.data) > room:
            errors.append(_too_full(result.filename, limits, room))
        else:
            passed.append(result)
            room = None if room is None else room - len(result.data)
    return passed, errors


def _too_full(name: str, limits: Limits, room: int) -> str:
    return _("%(name)s does not fit: the documents of one complaint can add up to %(limit)s, "
             "and %(left)s is left.", name=name, limit=human_size(limits.case_bytes),
             left=human_size(max(room, 0)))


def _new_row(item: _Checked, actor: Actor, source: str, internal: bool,
             **where: Any) -> Attachment:
    return Attachment(filename=item.filename, content_type=item.kind.content_type,
                      size=len(item.data), sha256=hashlib.sha256(item.data).hexdigest(),
                      added_by=actor.name, source=source, added_at=utcnow(),
                      internal=internal, data=item.data, **where)


# -- staging: documents that wait while an intake form is corrected -----------------------

def _staging_key(owner: str, token: str) -> str:
    """What is stored of a staging token: keyed by the submitter's session secret."""
    return hmac.new(owner.encode(), token.encode(), hashlib.sha256).hexdigest()


def _staged(key: str, limits: Limits) -> list[Document]:
    cutoff = utcnow() - timedelta(hours=limits.staging_hours)
    rows = db.session.execute(select(*_DOCUMENT_COLUMNS).where(
        Attachment.staging_token_hash == key, Attachment.case_id.is_(None),
        Attachment.staged_at >= cutoff).order_by(Attachment.id))
    return [Document(**row._mapping) for row in rows]


def stage(owner: str, token: str, uploads: Iterable[Incoming], remove: Iterable[str],
          actor: Actor, source: str) -> Staging:
    """Keep the documents of an intake form that passed the checks until it goes through.

    `owner` is a secret of the submitter's session and `token` the form's staging token:
    a token sent from another session finds nothing. Documents ticked in `remove` go.
    """
    limits = Limits.current()
    token = token if 0 < len(token) <= 100 else ""
    key = _staging_key(owner, token) if token else ""
    dropped = {int(r) for r in remove if r.isdigit()}
    kept = [d for d in _staged(key, limits) if d.id not in dropped] if key else []
    room = limits.case_bytes - sum(d.size for d in kept)
    passed, errors = _check_all(uploads, limits, len(kept), room)
    if not passed and not dropped:
        return Staging(token if kept else "", key if kept else "", kept, errors)
    begin_write()
    now = utcnow()
    _delete_expired(now, limits)
    if dropped and key:
        db.session.execute(delete(Attachment).where(
            Attachment.id.in_(dropped), Attachment.staging_token_hash == key,
            Attachment.case_id.is_(None)))
    if passed and not kept:  # a fresh token: none yet, or one this session does not own
        token = secrets.token_urlsafe(32)
        key = _staging_key(owner, token)
    db.session.add_all(_new_row(item, actor, source, False, staging_token_hash=key,
                                staged_at=now) for item in passed)
    db.session.commit()
    documents = _staged(key, limits) if key else []
    return Staging(token if documents else "", key if documents else "", documents, errors)


def _delete_expired(now: datetime, limits: Limits) -> int:
    cutoff = now - timedelta(hours=limits.staging_hours)
    result = db.session.execute(delete(Attachment).where(
        Attachment.case_id.is_(None), Attachment.staged_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_expired_staging() -> int:
    """Delete staged documents whose intake form never went through; commit; return how many."""
    begin_write()
    count = _delete_expired(utcnow(), Limits.current())
    db.session.commit()
    return count


def attach_staged(case: CaseRecord, staging: Staging, actor: Actor) -> None:
    """Move the documents staged with an intake form onto its new case, each with its history."""
    for document in staging.documents:
        try:
            _retrying(partial(_claim, case.id, document, staging.key, actor))
        except Conflict:
            # The complaint is in; the document stays staged until it expires.
            current_app.logger.warning("staged document %s not attached to %s",
                                       document.id, case.reference)


def _claim(case_id: int, document: Document, key: str, actor: Actor) -> None:
    """Move one staged document onto its new case, with its history entry; commit."""
    begin_write()
    case = load_case_by_id(case_id)
    moved = db.session.execute(update(Attachment).where(
        Attachment.id == document.id, Attachment.staging_token_hash == key,
        Attachment.case_id.is_(None)).values(
        case_id=case_id, staging_token_hash=None, staged_at=None, added_at=utcnow()))
    if case is None or not getattr(moved, "rowcount", 0):
        db.session.rollback()  # taken by a double submit, or expired and deleted
        return
    _record(case, document, actor)


def _record(case: CaseRecord, document: Document, actor: Actor) -> None:
    """The history entry of an added document (commits the transaction)."""
    summary = f"Document added: {document.filename}" + (" (internal)" if document.internal
                                                       else "")
    record_event(case, actor, "attachment.added", summary, {
        "attachment": document.id, "filename": document.filename,
        "content_type": document.content_type, "size": document.size,
        "sha256": document.sha256, "source": document.source,
        "internal": document.internal}, utcnow())


def _retrying(work: Callable[[], Any], attempts: int = 3) -> Any:
    """Run a write again when another writer changed the case at the same moment."""
    for attempt in range(attempts):
        try:
            return work()
        except Conflict:
            if attempt == attempts - 1:
                raise
    return None


# -- documents on a case -----------------------------------------------------------------

def add_documents(reference: str, uploads: Iterable[Incoming], actor: Actor, source: str,
                  internal: bool = False) -> Added:
    """Check uploads and add those that pass to a case, each with its history entry.

    The complainant can add documents only while the case is open; their documents are
    never internal.
    """
    limits = Limits.current()
    complainant = actor.kind == "complainant"
    internal = internal and not complainant
    if complainant and not load_case(reference).is_open:
        raise Conflict(_closed(reference))
    passed, errors = _check_all(uploads, limits, 0, None)
    if not passed and not errors:
        errors = [_("Choose a document first.")]
    added: list[Document] = []
    for item in passed:
        outcome = _retrying(partial(_add_one, reference, item, actor, source, internal, limits))
        if isinstance(outcome, Document):
            added.append(outcome)
        else:
            errors.append(outcome)
    return Added(added, errors)


def _add_one(reference: str, item: _Checked, actor: Actor, source: str, internal: bool,
             limits: Limits) -> Document | str:
    """Add one checked document to the case, within the case's total; commit."""
    begin_write()
    case = load_case(reference)
    if actor.kind == "complainant" and not case.is_open:  # closed since the check above
        db.session.rollback()
        return _closed(reference)
    used = db.session.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                             .where(Attachment.case_id == case.id)) or 0
    room = limits.case_bytes - int(used)
    if len(item.data) > room:
        db.session.rollback()
        return _too_full(item.filename, limits, room)
    row = _new_row(item, actor, source, internal, case_id=case.id)
    db.session.add(row)
    db.session.flush()
    document = Document(**{name: getattr(row, name) for name in Document.__dataclass_fields__})
    _record(case, document, actor)
    return document


def _closed(reference: str) -> str:
    return _("Complaint %(reference)s is closed, so documents can no longer be added here. "
             "If you have something new, contact us quoting the reference.",
             reference=reference)


def for_case(case_id: int, include_internal: bool) -> list[Document]:
    """A case's documents, oldest first; internal ones only for staff."""
    query = select(*_DOCUMENT_COLUMNS).where(Attachment.case_id == case_id)
    if not include_internal:
        query = query.where(Attachment.internal.is_(False))
    return [Document(**row._mapping)
            for row in db.session.execute(query.order_by(Attachment.added_at, Attachment.id))]


def for_download(case_id: int, attachment_id: int, include_internal: bool) -> Attachment:
    """One document of one case with its bytes; NotFound for any other case's or hidden one."""
    query = select(Attachment).options(undefer(Attachment.data)).where(
        Attachment.id == attachment_id, Attachment.case_id == case_id)
    if not include_internal:
        query = query.where(Attachment.internal.is_(False))
    found = db.session.scalar(query)
    if found is None:
        raise NotFound(_("There is no such document on this case."))
    return found


def download_headers(document: Attachment) -> dict[str, str]:
    """Headers that make a browser save the file, never open or run it in our pages."""
    content_type = document.content_type
    if content_type == "text/plain":
        content_type += "; charset=utf-8"
    return {"Content-Type": content_type,
            "Content-Disposition": _disposition(document.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store"}


def _disposition(filename: str) -> str:
    """Content-Disposition with an ASCII name for old clients and RFC 5987 filename*."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem, dot, ext = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = stem.strip(" ._")
    fallback = (stem if re.search(r"[A-Za-z0-9]", stem) else "document") + (
        f".{ext}" if ext else "")
    if fallback == filename:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
