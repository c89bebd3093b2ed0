"""The stores beside the case row and its history that hold a case's personal data.

anonymisation.py decides what is personal; this module finds every copy of it: e-mails
written for the case (the outbox, with their attachments), the e-mails it came from,
webhook deliveries (rendered copies of the case), API idempotency answers, service-call
parameters, incident texts, auditors' notes, documents, and on SQLite the full-text index's pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

from ..engine import erase_text
from ..extensions import db
from ..models import (
    ApiIdempotency,
    Attachment,
    AuditCheck,
    AuditSampleCase,
    InboundMail,
    Incident,
    OutboxAttachment,
    OutboxMessage,
    ServiceCall,
    WebhookDelivery,
)
from ..models.outbox import HELD, PENDING
from .redaction import ERASED


@dataclass
class Personal:
    """The values being erased, and how to find them inside longer texts."""

    exact: set[str]
    inside: list[str]

    def text(self, value: str | None) -> str | None:
        """A text with the personal values in it replaced."""
        return erase_text(value, self.exact, self.inside, ERASED) if value else value

    def json(self, value: str) -> str:
        """A JSON text with every personal string in it replaced."""
        try:
            tree = json.loads(value)
        except ValueError:
            return self.text(value) or value
        return json.dumps(self._walk(tree), sort_keys=True, ensure_ascii=False)

    def _walk(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        if isinstance(node, dict):
            return {key: self._walk(item) for key, item in node.items()}
        return node


def documents(case_id: int) -> int:
    """How many documents a case holds."""
    return db.session.scalar(select(func.count(Attachment.id)).where(
        Attachment.case_id == case_id)) or 0


def delete_documents(case_id: int) -> int:
    """Delete a case's documents and the files sent with its e-mails; how many documents."""
    count = documents(case_id)
    db.session.execute(delete(Attachment).where(Attachment.case_id == case_id))
    mails = select(OutboxMessage.id).where(OutboxMessage.case_id == case_id)
    db.session.execute(delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(mails)))
    return count


def counts(case_id: int, reference: str) -> dict[str, int]:
    """How many rows of each other store hold the case's data (for the dry run)."""
    def count(model: Any, *where: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return {"emails": count(OutboxMessage, OutboxMessage.case_id == case_id),
            "inbound": count(InboundMail, InboundMail.case_id == case_id),
            "webhooks": count(WebhookDelivery, WebhookDelivery.case_id == case_id),
            "api": count(ApiIdempotency, ApiIdempotency.body.contains(reference))}


def erase(case_id: int, reference: str, personal: Personal) -> None:
    """Erase the case's personal data from every store beside its row and history."""
    # E-mails: the whole text and address go; a pending one is held (nobody to send to).
    db.session.execute(update(OutboxMessage).where(OutboxMessage.case_id == case_id).values(
        recipient=None, recipient_name=None, subject=ERASED, body_text=ERASED,
        body_html=ERASED, link_seed=None, last_error=None))
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.case_id == case_id, OutboxMessage.status == PENDING).values(
        status=HELD, next_attempt_at=None))
    db.session.execute(update(InboundMail).where(InboundMail.case_id == case_id).values(
        raw=None, sender=None, sender_name=None, subject=ERASED, reason=None))
    # Rendered copies of the case for other systems: the delivery log keeps no copy.
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.case_id == case_id))
    # Answers to API calls that made or read the case (kept 24 hours for replays).
    db.session.execute(delete(ApiIdempotency).where(ApiIdempotency.body.contains(reference)))
    for call in db.session.scalars(select(ServiceCall).where(ServiceCall.case_id == case_id)):
        call.params = personal.json(call.params)
        call.last_error = personal.text(call.last_error)
    sampled = select(AuditSampleCase.id).where(AuditSampleCase.case_id == case_id)
    for check in db.session.scalars(select(AuditCheck).where(
            AuditCheck.sample_case_id.in_(sampled))):
        check.note = personal.text(check.note)  # an auditor may have quoted the case
    for incident in db.session.scalars(select(Incident).where(Incident.case_id == case_id)):
        incident.error = personal.text(incident.error) or ""
        incident.resolution = personal.text(incident.resolution)
    db.session.flush()


def scrub() -> None:
    """Leave no erased bytes in the database file's free pages (SQLite).

    Called after the erasure committed, on a connection that had secure_delete on: the
    full-text index is rewritten (its old segments still held the words) and the
    write-ahead log is folded into the file and emptied.
    """
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL: VACUUM reclaims the dead row versions (see README)
    connection = db.session.connection()
    connection.exec_driver_sql("PRAGMA secure_delete=ON")
    connection.exec_driver_sql("INSERT INTO case_search(case_search) VALUES ('optimize')")
    db.session.commit()
    raw = db.engine.raw_connection()  # outside any transaction: BEGIN would block it
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def secure_delete() -> None:
    """Overwrite what this transaction deletes or rewrites, on SQLite (no-op elsewhere)."""
    if db.engine.dialect.name == "sqlite":
        db.session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
