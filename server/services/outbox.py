"""Delivering the outbox: due messages claimed atomically, sent over SMTP, retried with back-off.

Claims work like timer claims (services/timers.py): one conditional UPDATE takes a batch
of due rows for this deliverer (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on
SQLite), so concurrent deliverers take disjoint rows, and a claim left by a crashed one
expires after its lease. A message is marked sent only by the deliverer that claimed it.
If a deliverer dies between the SMTP server's "250 OK" and that mark, the message goes
out again after the lease: at least once, with the same Message-ID, never lost.

A message may carry files (outbox_attachment rows, e.g. the management-review pack),
made when it is written like its bodies and sent with every attempt; `attachment_problem`
says when files are too large for one e-mail, so the writer holds the message instead.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Case, OutboxAttachment, OutboxMessage, utcnow
from ..models.outbox import FAILED, HELD, PENDING, SENT, STATUSES
from . import claims, links, system_log
from .actors import Actor
from .notifications import TOKEN_PLACEHOLDER

log = logging.getLogger(__name__)
BATCH = 20
PER_PAGE = 50
MAX_ID = 2**31 - 1
# Many mail servers refuse messages over 10 MB, and base64 makes files a third larger.
MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024
_SECRET_LINK = re.compile(r"(/track/)[A-Za-z0-9_-]{16,}")


@dataclass
class DeliveryResult:
    """What one delivery run did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class _Refused(Exception):
    """The SMTP server refused a message; `permanent` when it will never take it (5xx)."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def attachment_problem(files: list[tuple[str, str, bytes]]) -> str | None:
    """Why these (name, type, content) files cannot go with one e-mail, or None."""
    total = sum(len(content) for _, _, content in files)
    if total > MAX_ATTACHMENT_BYTES:
        return _("The attached files come to %(size)d KB, more than the %(limit)d KB one "
                 "e-mail may carry.", size=total // 1024, limit=MAX_ATTACHMENT_BYTES // 1024)
    return None


def attach(message: OutboxMessage, files: list[tuple[str, str, bytes]]) -> None:
    """Store files with a message being written (flushed so it has its id); no commit."""
    if attachment_problem(files):
        raise ValueError(attachment_problem(files))
    db.session.flush()
    for name, content_type, content in files:
        db.session.add(OutboxAttachment(message_id=message.id, filename=name[:255],
                                        content_type=content_type[:127], content=content,
                                        size=len(content)))


def smtp_configured() -> bool:
    """Whether an SMTP server is set: without one nothing is sent and messages wait."""
    return bool(current_app.config.get("PLAINT_SMTP_HOST"))


def _lease() -> timedelta:
    # Long enough for a whole batch to wait out its SMTP timeouts, with room to spare.
    return timedelta(seconds=current_app.config["PLAINT_SMTP_TIMEOUT"] * (BATCH + 2))


def claim_due(now: datetime, worker: str, limit: int) -> list[int]:
    """Claim up to `limit` due messages for this deliverer; return their ids, oldest first."""
    claimed = claims.claim(OutboxMessage, OutboxMessage.next_attempt_at,
                           (OutboxMessage.next_attempt_at, OutboxMessage.id),
                           (OutboxMessage.id,), now, worker, _lease(), limit)
    return sorted(row.id for row in claimed)


def deliver_due(limit: int | None = None, now: datetime | None = None,
                worker: str | None = None) -> DeliveryResult:
    """Send every message due now, batch by batch; nothing at all without an SMTP host."""
    result = DeliveryResult()
    if not smtp_configured():
        return result
    result.claimed = claims.drain(
        OutboxMessage, _lease(), limit or BATCH, now, worker,
        lambda ids, by, _at: _send_batch(ids, by, result))
    return result


def _send_batch(ids: list[int], worker: str, result: DeliveryResult) -> bool:
    """Send claimed messages over one connection; False when the run should stop here."""
    rows = db.session.execute(select(OutboxMessage.__table__).where(
        OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
        .order_by(OutboxMessage.id)).all()
    db.session.rollback()
    timeout = timedelta(seconds=current_app.config["PLAINT_SMTP_TIMEOUT"])
    smtp: smtplib.SMTP | None = None
    try:
        for index, row in enumerate(rows):
            if row.claimed_until - timeout < utcnow():
                _release([r.id for r in rows[index:]], worker)  # another may claim them now
                return False
            if smtp is None:
                try:
                    smtp = _connect()
                except (OSError, smtplib.SMTPException) as exc:
                    reason = f"Could not reach the SMTP server: {_describe(exc)}"
                    for rest in rows[index:]:
                        _failed(rest, worker, reason, permanent=False, result=result)
                    return False
            try:
                _send(smtp, row)
            except _Refused as exc:
                _failed(row, worker, str(exc), exc.permanent, result)
            except (OSError, smtplib.SMTPException) as exc:  # the connection broke: try anew
                _failed(row, worker, f"SMTP error: {_describe(exc)}", False, result)
                _quit(smtp)
                smtp = None
            else:
                _mark(row.id, worker, status=SENT, sent_at=utcnow(), next_attempt_at=None,
                      last_error=None, link_seed=None)
                result.sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return True


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(config["PLAINT_SMTP_HOST"], config["PLAINT_SMTP_PORT"],
                        timeout=config["PLAINT_SMTP_TIMEOUT"])
    try:
        if config["PLAINT_SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["PLAINT_SMTP_USERNAME"]:
            smtp.login(config["PLAINT_SMTP_USERNAME"], config["PLAINT_SMTP_PASSWORD"])
    except BaseException:
        _quit(smtp)
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _send(smtp: smtplib.SMTP, row: Any) -> None:
    """Hand one message to the SMTP server; _Refused says whether to try again."""
    try:
        message = build_message(row)
    except (ValueError, TypeError) as exc:  # e.g. an address the e-mail library refuses
        raise _Refused(f"The message could not be built: {exc}", permanent=True) from None
    try:
        smtp.send_message(message, to_addrs=[row.recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (550, b""))
        raise _Refused(f"The recipient was refused: {code} {_text(reply)}",
                       permanent=code >= 500) from None
    except smtplib.SMTPResponseException as exc:
        raise _Refused(f"The SMTP server refused the message: {exc.smtp_code} "
                       f"{_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise _Refused(f"The SMTP server cannot take this message: {exc}",
                       permanent=True) from None


def build_message(row: Any) -> EmailMessage:
    """The e-mail of an outbox row: text and HTML alternatives, the secret link filled in."""
    config = current_app.config
    token = links.token_for(row.link_seed) if row.link_seed else ""
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = formataddr((config["PLAINT_ORGANISATION_NAME"],
                                  config["PLAINT_MAIL_SENDER"]))
    message["To"] = formataddr((row.recipient_name or "", row.recipient))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = row.message_id
    message["Content-Language"] = row.language
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(row.body_text.replace(TOKEN_PLACEHOLDER, token))
    if row.body_html:
        message.add_alternative(row.body_html.replace(TOKEN_PLACEHOLDER, token), subtype="html")
    for name, content_type, content in db.session.execute(
            select(OutboxAttachment.filename, OutboxAttachment.content_type,
                   OutboxAttachment.content).where(OutboxAttachment.message_id == row.id)
            .order_by(OutboxAttachment.id)):
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=name)
    return message


def _failed(row: Any, worker: str, reason: str, permanent: bool,
            result: DeliveryResult) -> None:
    """Schedule the next attempt with back-off, or give up when permanent or out of tries."""
    config = current_app.config
    if permanent or row.attempts >= config["PLAINT_MAIL_MAX_ATTEMPTS"]:
        _mark(row.id, worker, status=FAILED, next_attempt_at=None, last_error=reason[:2000])
        result.failed += 1
        log.warning("e-mail %s failed for good: %s", row.id, reason)
        return
    _mark(row.id, worker, next_attempt_at=utcnow() + retry_delay(row.attempts),
          last_error=reason[:2000])
    result.retrying += 1


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempt numbered `attempts` failed: 1, 5, 25 min... capped."""
    first = current_app.config["PLAINT_MAIL_RETRY_SECONDS"]
    return claims.backoff(timedelta(seconds=first), attempts)


def _mark(message_id: int, worker: str, **values: Any) -> None:
    """Change a claimed message and release the claim, if this deliverer still holds it."""
    begin_write()
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _release(ids: list[int], worker: str) -> None:
    begin_write()
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def next_due() -> datetime | None:
    """When the next pending message may be tried, or None."""
    due = db.session.scalar(select(OutboxMessage.next_attempt_at)
                            .where(OutboxMessage.next_attempt_at.is_not(None))
                            .order_by(OutboxMessage.next_attempt_at).limit(1))
    db.session.rollback()
    return due


# What the admin outbox page reads and does.


def listing(status: str | None, page: int) -> tuple[list[Any], int]:
    """One page of messages (newest first) with their case references, and the total."""
    query = select(OutboxMessage, Case.reference).outerjoin(Case, Case.id == OutboxMessage.case_id)
    count = select(func.count()).select_from(OutboxMessage)
    if status in STATUSES:
        query = query.where(OutboxMessage.status == status)
        count = count.where(OutboxMessage.status == status)
    total = db.session.scalar(count) or 0
    rows = db.session.execute(query.order_by(OutboxMessage.id.desc())
                              .limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)).all()
    return list(rows), total


def counts() -> dict[str, int]:
    """How many messages there are in each status."""
    found = {status: number for status, number in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}
    return {status: found.get(status, 0) for status in STATUSES}


def _known(message_id: int) -> None:
    if not 0 < message_id <= MAX_ID:  # beyond the column's range: no such row
        raise NotFound(_("There is no e-mail %(number)s in the outbox.", number=message_id))


def get(message_id: int) -> tuple[OutboxMessage, str | None]:
    """A message and its case's reference; NotFound if there is none."""
    _known(message_id)
    row = db.session.execute(select(OutboxMessage, Case.reference)
                             .outerjoin(Case, Case.id == OutboxMessage.case_id)
                             .where(OutboxMessage.id == message_id)).first()
    if row is None:
        raise NotFound(_("There is no e-mail %(number)s in the outbox.", number=message_id))
    return row[0], row[1]


def attachments_of(message_id: int) -> list[tuple[str, int]]:
    """The names and sizes (bytes) of the files a message carries."""
    return [(name, size) for name, size in db.session.execute(
        select(OutboxAttachment.filename, OutboxAttachment.size)
        .where(OutboxAttachment.message_id == message_id).order_by(OutboxAttachment.id))]


def redact(text: str | None) -> str:
    """Text with any secret tracking link hidden: whoever reads it could open the case."""
    return _SECRET_LINK.sub(r"\1[hidden]", text or "")


def retry(message_id: int, by: Actor) -> OutboxMessage:
    """Send a failed or held message again at once, with a fresh set of attempts."""
    _known(message_id)
    begin_write()
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_("There is no e-mail %(number)s in the outbox.", number=message_id))
    if message.status not in (FAILED, HELD):
        raise InvalidInput(_("E-mail %(number)s is %(status)s: only failed or held e-mails can "
                             "be sent again.", number=message_id, status=message.status))
    if message.recipient is None and message.recipient_kind == "complainant" and \
            message.case_id is not None:
        case = db.session.get(Case, message.case_id)
        message.recipient = (case.complainant_email or None) if case is not None else None
    if message.recipient is None or not message.body_html:
        raise InvalidInput(_("E-mail %(number)s cannot be sent: %(reason)s", number=message_id,
                             reason=message.last_error or _("it has no recipient")))
    before = message.status
    message.status, message.attempts, message.next_attempt_at = PENDING, 0, utcnow()
    message.claimed_by = message.claimed_until = None
    system_log.record(by, "outbox.retry", f"E-mail {message_id} ({message.event}) to be sent "
                      "again", {"message": message_id, "status": [before, PENDING],
                                "last_error": message.last_error})
    db.session.commit()
    return message
