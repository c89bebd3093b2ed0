"""The case bundle: one case's whole record and documents in a ZIP, for referral to external
dispute resolution (ISO 10003) and for audit.

The ZIP holds record.pdf (the record for people), record.json (the same as data, with the
hash-chained history so anyone can check it), documents/ (the documents' bytes) and
manifest.json (name, size and SHA-256 of every other file). It is built in a temporary
file that stays in memory only while small, reading one document at a time, so a case at
the documents limit never sits in memory whole. Every export is recorded in the case's
history with the ZIP's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from ..database import begin_write
from ..errors import Conflict
from ..extensions import db
from ..models import Attachment, Case, CaseEvent, utcnow
from . import attachments, audit, cases
from .actors import Actor
from .letters import Printer
from .recording import load_case, record_event

FORMAT = "plaint-case-bundle/1"
SPOOL_BYTES = 8 * 1024 * 1024  # a bigger bundle is built on disk, not in memory
CHUNK = 1024 * 1024
# How each history entry's hash is made, for whoever checks record.json without Plaint.
HASH_RECIPE = ("sha256 of the UTF-8 text: reference, seq, at, actor, kind, summary, data, "
               "prev_hash joined by U+001F; the first entry's prev_hash is 64 zeros and "
               "each next entry's prev_hash is the hash before it. An entry whose personal "
               "values were erased keeps its hash (made from what it held before), so the "
               "chain still links; a later entry of kind 'case.erased' lists it under "
               "data.redacted[seq] with that hash and the sha256 of its data and of its "
               "summary as they are now: check those instead of recomputing its hash")
CASE_FIELDS = (
    ("reference", "Reference"), ("received_at", "Received"), ("channel", "Channel"),
    ("status_label", "Status"), ("is_open", "Open"), ("priority", "Priority"),
    ("category", "Category"), ("acknowledged_at", "Acknowledged"),
    ("resolved_at", "Resolved"), ("closed_at", "Closed"), ("updated_at", "Last changed"))
COMPLAINANT_FIELDS = (
    ("complainant_name", "Name"), ("complainant_email", "E-mail"),
    ("complainant_phone", "Phone"), ("preferred_language", "Preferred language"))
COMPLAINT_TEXT = (("product_service", "Product or service"), ("description", "Description"),
                  ("remedy_sought", "Remedy sought"))
DECISION_FIELDS = (
    ("outcome", "Outcome"), ("response", "Response, with the reasons"),
    ("remedy_offered", "Remedy offered"), ("compensation_amount", "Compensation paid"),
    ("review_outcome", "Review outcome"), ("review_note", "Review reasons"),
    ("revised_response", "Revised response"), ("revised_remedy", "Revised remedy"),
    ("revised_compensation_amount", "Revised compensation"),
    ("referral_body", "Referred to"), ("referral_reference", "Referral reference"),
    ("referral_note", "Referral note"), ("closure_reason", "Reason for closure"),
    ("final_outcome", "Final outcome"), ("root_cause", "Root cause"),
    ("corrective_action", "Corrective action"))
_SHOWN = {name for name, _label in (*CASE_FIELDS, *COMPLAINANT_FIELDS, *COMPLAINT_TEXT,
                                     *DECISION_FIELDS)}
_DECISION_KEYS = ("outcome", "review_outcome", "referral_body", "closure_reason")
_ALREADY_COMPRESSED = ("image/", "application/pdf", "application/vnd.")


@dataclass
class Bundle:
    """A finished case bundle: the ZIP (a file positioned at its start) and its facts."""

    file: IO[bytes]
    filename: str
    size: int
    sha256: str
    files: list[dict[str, Any]] = field(default_factory=list)

    def chunks(self) -> Iterator[bytes]:
        """The ZIP's bytes in pieces, closing the file at the end."""
        try:
            while piece := self.file.read(CHUNK):
                yield piece
        finally:
            self.file.close()


@dataclass(frozen=True)
class _Context:
    """What every part of the bundle is made from, read once."""

    case: Case
    data: dict[str, Any]
    history: list[CaseEvent]
    problems: list[str]
    actor: Actor
    at: datetime
    include_internal: bool
    organisation: str


def build_bundle(reference: str, actor: Actor, include_internal: bool = False) -> Bundle:
    """Build the bundle of a case and record the export in its history (commits).

    Internal documents are included only when asked; whoever may read the case may ask
    (the case page shows them internal documents too).
    """
    case = cases.get_case(reference)
    context = _Context(case, cases.case_data(case), audit.history(case), audit.verify_case(case),
                       actor, utcnow(), include_internal,
                       current_app.config["PLAINT_ORGANISATION_NAME"])
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned)
    try:
        files = _write_zip(spool, context)
        size, digest = _measure(spool)
    except BaseException:
        spool.close()
        raise
    bundle = Bundle(spool, f"{case.reference}-bundle.zip", size, digest, files)
    try:
        record_export(case.reference, actor, bundle, include_internal)
    except BaseException:
        spool.close()
        raise
    return bundle


def record_export(reference: str, actor: Actor, bundle: Bundle, include_internal: bool) -> None:
    """Append 'case bundle exported' to the case's history: who, which files, the ZIP's hash."""
    summary = (f"Case bundle exported ({len(bundle.files) + 1} files"
               + (", internal documents included)" if include_internal else ")"))
    data = {"bundle": bundle.filename, "sha256": bundle.sha256, "size": bundle.size,
            "internal_documents": include_internal,
            "files": [entry["name"] for entry in bundle.files] + ["manifest.json"]}
    for attempt in range(3):
        begin_write()
        try:
            record_event(load_case(reference), actor, "case.exported", summary, data, utcnow())
            return
        except Conflict:  # someone wrote to the case at the same moment: append after them
            if attempt == 2:
                raise


def _measure(spool: IO[bytes]) -> tuple[int, str]:
    """The file's size and SHA-256; leaves it positioned at the start."""
    spool.seek(0)
    digest, size = hashlib.sha256(), 0
    while piece := spool.read(CHUNK):
        digest.update(piece)
        size += len(piece)
    spool.seek(0)
    return size, digest.hexdigest()


def _write_zip(spool: IO[bytes], context: _Context) -> list[dict[str, Any]]:
    """Write every part of the bundle into `spool`; return the manifest's entries."""
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        documents = _write_documents(archive, context, entries)
        record = record_data(context, documents)
        _add(archive, entries, "record.json",
             json.dumps(record, ensure_ascii=False, indent=2, default=str).encode(), context.at)
        _add(archive, entries, "record.pdf", record_pdf(context, documents), context.at)
        manifest = {"format": FORMAT, "reference": context.case.reference,
                    "created_at": context.at.isoformat(), "created_by": context.actor.name,
                    "files": entries}
        _add(archive, [], "manifest.json",
             json.dumps(manifest, ensure_ascii=False, indent=2).encode(), context.at)
    return entries


def _add(archive: zipfile.ZipFile, entries: list[dict[str, Any]], name: str, data: bytes,
         at: datetime, compress: bool = True) -> str:
    """Put one file in the ZIP and its name, size and SHA-256 in the manifest entries."""
    info = zipfile.ZipInfo(name, date_time=at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # readable once unpacked
    archive.writestr(info, data)
    digest = hashlib.sha256(data).hexdigest()
    entries.append({"name": name, "size": len(data), "sha256": digest})
    return digest


def _write_documents(archive: zipfile.ZipFile, context: _Context,
                     entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy the case's documents into documents/, one in memory at a time."""
    listed: list[dict[str, Any]] = []
    for number, document in enumerate(
            attachments.for_case(context.case.id, context.include_internal), start=1):
        data = db.session.scalar(select(Attachment.data).where(Attachment.id == document.id))
        data = data or b""
        name = f"documents/{number:03d}-{attachments.clean_filename(document.filename)}"
        digest = _add(archive, entries, name, data, document.added_at,
                      compress=not document.content_type.startswith(_ALREADY_COMPRESSED))
        del data  # only one document's bytes are held at a time
        listed.append({
            "file": name, "filename": document.filename, "content_type": document.content_type,
            "size": document.size, "sha256": document.sha256,
            "sha256_matches": digest == document.sha256, "added_by": document.added_by,
            "source": document.source, "added_at": document.added_at.isoformat(),
            "internal": document.internal})
    return listed


def record_data(context: _Context, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """record.json: the case's fields, its workflow data, history with hashes, documents."""
    case = context.case
    names = [name for name, _label in (*CASE_FIELDS, *COMPLAINANT_FIELDS, *COMPLAINT_TEXT)]
    return {
        "format": FORMAT, "organisation": context.organisation,
        "exported_at": context.at.isoformat(), "exported_by": context.actor.name,
        "internal_documents_included": context.include_internal,
        "case": {name: _plain(getattr(case, name)) for name in names},
        "process_version_id": case.process_version_id,  # the diagram version it runs on
        "workflow_data": context.data,
        "open_tasks": [{"title": task.title, "role": task.role,
                        "due_at": _plain(task.due_at)} for task in cases.ready_tasks(case)],
        "history": [{"seq": event.seq, "at": event.at.isoformat(), "actor": event.actor,
                     "kind": event.kind, "summary": event.summary, "data": event.data,
                     "prev_hash": event.prev_hash, "hash": event.hash}
                    for event in context.history],
        "history_verification": {"intact": not context.problems, "problems": context.problems,
                                 "events": len(context.history), "head": case.audit_head,
                                 "recipe": HASH_RECIPE},
        "documents": documents,
    }


def _plain(value: Any) -> Any:
    """A value as JSON holds it (datetimes as ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else value


def _shown(value: Any) -> str:
    """A value as the printed record shows it."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _label(name: str) -> str:
    """A data key as a label: root_cause -> Root cause."""
    return name.replace("_", " ").capitalize()


def record_pdf(context: _Context, documents: list[dict[str, Any]]) -> bytes:
    """record.pdf: the whole case record, readable by people, Arabic text shaped."""
    case, data = context.case, context.data
    printer = Printer(f"Case record {case.reference}", "en", context.organisation)
    printer.paragraph(context.organisation, size=10, bold=True)
    printer.heading(f"Case record {case.reference}", 16)
    printer.paragraph(f"Exported {_shown(context.at)} by {context.actor.name}. Internal "
                      f"documents included: {_shown(context.include_internal)}.", size=8.5)
    printer.heading("The case")
    for name, label in CASE_FIELDS:
        printer.field(label, _shown(getattr(case, name)))
    printer.heading("Complainant")
    for name, label in COMPLAINANT_FIELDS:
        printer.field(label, _shown(getattr(case, name)))
    printer.heading("Open tasks and deadlines")
    tasks = cases.ready_tasks(case)
    for task in tasks:
        printer.paragraph(f"{task.title}: due {_shown(task.due_at)} "
                          f"({_label(task.role or 'no role')})", size=9, space=0.5)
    if not tasks:
        printer.paragraph("None.", size=9)
    for name, label in COMPLAINT_TEXT:
        printer.heading(label, 11)
        printer.paragraph(_shown(getattr(case, name)), size=9.5)
    printer.heading("Decision and review")
    # The process may set defaults (compensation 0) long before anyone decides anything.
    started = any(data.get(name) for name in _DECISION_KEYS)
    decided = [(name, label) for name, label in DECISION_FIELDS
               if started and data.get(name) not in (None, "")]
    for name, label in decided:
        printer.field(label, _shown(data[name]))
    if not decided:
        printer.paragraph("No decision yet.", size=9)
    other = sorted(name for name, value in data.items() if name not in _SHOWN
                   and value not in (None, "", [], {}))
    if other:
        printer.heading("Other case data", 11)
        for name in other:
            printer.field(_label(name), _shown(data[name]))
    _print_history(printer, context)
    printer.heading("Documents")
    for document in documents:
        printer.paragraph(
            f"{document['file']} — {document['content_type']}, {document['size']:,} bytes, "
            f"added {document['added_at'][:16].replace('T', ' ')} UTC by "
            f"{document['added_by']} ({document['source']})"
            + (", internal" if document["internal"] else ""), size=8.5, space=0.3)
        printer.paragraph(f"SHA-256 {document['sha256']}"
                          + ("" if document["sha256_matches"] else
                             " — DOES NOT MATCH the bytes in this bundle"), size=7.5)
    if not documents:
        printer.paragraph("None in this bundle.", size=9)
    return printer.output()


def _print_history(printer: Printer, context: _Context) -> None:
    """The history entries, then whether their hash chain is intact."""
    printer.heading("History")
    for event in context.history:
        printer.paragraph(f"{event.seq}. {_shown(event.at)} · {event.actor} · {event.summary}",
                          size=8.5, space=0.5)
        note = json.loads(event.data).get("note") if event.kind == "note.added" else None
        if note:
            printer.paragraph(str(note), size=8, space=0.8)
    if context.problems:
        printer.heading("History check: the chain is BROKEN", 11)
        for problem in context.problems:
            printer.paragraph(problem, size=9)
    else:
        printer.heading("History check: intact", 11)
        printer.paragraph(f"All {len(context.history)} entries follow each other and none was "
                          f"altered after it was written. Newest hash: "
                          f"{context.case.audit_head or '—'}.", size=8.5)
