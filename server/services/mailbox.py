"""Reading the complaints mailbox over IMAP: one reader at a time, nothing lost, nothing twice.

A run (`read_mailbox`, the scheduler's ``plaint-mailbox`` job and `flask read-mailbox`)
first takes the mailbox lease (one row, taken with a conditional UPDATE: free, expired or
already ours), so one process reads at a time whatever the number of schedulers, on SQLite
and PostgreSQL alike; a reader that died frees it when the lease runs out. It then reads the
new messages with BODY.PEEK (which leaves them unread), records each one
(services/inbound_mail.py) and only after that commit flags it \\Seen or moves it to
PLAINT_MAILBOX_DONE_FOLDER. A crash in between leaves the message new on the server and
recorded here: the next run finds its record by UIDVALIDITY and UID and only marks it.

`IdleWatcher` waits in IMAP IDLE on a thread of its own where the server offers it, and
wakes the job when mail arrives; the job's interval still runs as a safety net, and where
IDLE is not offered the interval is the polling.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from imapclient import IMAPClient
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..extensions import db
from ..mailbox_config import port
from ..models import InboundMail, MailboxLease, utcnow
from ..models.inbound_mail import ADDED, CASE, HELD, IGNORED
from . import inbound_mail
from .inbound_mail import Fetched

log = logging.getLogger(__name__)
LEASE = "mailbox"
SEEN = b"\\Seen"
IDLE_RENEW = timedelta(minutes=25)  # RFC 2177: re-issue IDLE before 29 minutes
IDLE_CHECK_SECONDS = 1.0  # how often a waiting watcher looks whether it must stop


@dataclass
class ReadResult:
    """What one run did."""

    read: int = 0
    cases: int = 0
    added: int = 0
    ignored: int = 0
    held: int = 0
    busy: bool = False  # another reader held the mailbox


def configured() -> bool:
    """Whether a mailbox is set up to read."""
    return bool(current_app.config.get("PLAINT_MAILBOX_HOST"))


def connect() -> IMAPClient:
    """A logged-in connection to the mailbox, encrypted unless plain IMAP on loopback."""
    config = current_app.config
    mode = config["PLAINT_MAILBOX_TLS"]
    context = ssl.create_default_context()
    client = IMAPClient(config["PLAINT_MAILBOX_HOST"], port=port(config), ssl=mode == "tls",
                        ssl_context=context if mode == "tls" else None,
                        timeout=config["PLAINT_MAILBOX_TIMEOUT"])
    try:
        if mode == "starttls":
            client.starttls(context)
        client.login(config["PLAINT_MAILBOX_USER"], config["PLAINT_MAILBOX_PASSWORD"])
    except BaseException:
        _close(client)
        raise
    return client


def read_mailbox(worker: str, limit: int | None = None) -> ReadResult:
    """Read and record the new messages once, unless another reader holds the mailbox."""
    result = ReadResult()
    if not configured():
        return result
    if not hold_lease(worker):
        result.busy = True
        return result
    error: str | None = None
    try:
        client = connect()
        try:
            _read(client, worker, limit or current_app.config["PLAINT_MAILBOX_BATCH"], result)
        finally:
            _close(client)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        raise
    finally:
        release_lease(worker, error)
    return result


def _read(client: IMAPClient, worker: str, limit: int, result: ReadResult) -> None:
    config = current_app.config
    folder = config["PLAINT_MAILBOX_FOLDER"]
    selected = client.select_folder(folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    done_folder = config["PLAINT_MAILBOX_DONE_FOLDER"]
    uids = sorted(client.search(["ALL"] if done_folder else ["UNSEEN"]))[:limit]
    if not uids:
        return
    sizes = {uid: int(data.get(b"RFC822.SIZE", 0))
             for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()}
    for uid in uids:
        if uid not in sizes:  # expunged meanwhile
            continue
        hold_lease(worker)  # renewed for each message: a long run keeps its turn
        mail = inbound_mail.recorded(folder, uidvalidity, uid)
        if mail is None:
            mail = _take(client, folder, uidvalidity, uid, sizes[uid])
            if mail is None:
                continue
            result.read += 1
            _count(result, mail.outcome)
        db.session.rollback()  # end the read transaction before talking to the server
        mark_done(client, uid, done_folder)


def _take(client: IMAPClient, folder: str, uidvalidity: int, uid: int,
          size: int) -> InboundMail | None:
    """Fetch one message (only its header when too large) and record it."""
    whole = size <= current_app.config["PLAINT_MAILBOX_MAX_BYTES"]
    part = b"BODY[]" if whole else b"BODY[HEADER]"
    fetched = client.fetch([uid], [b"BODY.PEEK[]" if whole else b"BODY.PEEK[HEADER]"])
    raw = fetched.get(uid, {}).get(part)
    if raw is None:  # gone meanwhile
        return None
    message = Fetched(folder, uidvalidity, uid, size, bytes(raw), whole)
    try:
        return inbound_mail.take(message)
    except Exception as exc:  # a message that breaks the reading is kept, never retried forever
        db.session.rollback()
        log.exception("mailbox message %s/%s could not be processed", uidvalidity, uid)
        return inbound_mail.keep_for_person(
            message, f"It could not be processed: {type(exc).__name__}: {exc}"[:2000])


def mark_done(client: IMAPClient, uid: int, done_folder: str) -> None:
    """Tell the server a recorded message is dealt with: moved, or flagged \\Seen."""
    if not done_folder:
        client.add_flags([uid], [SEEN], silent=True)
        return
    if client.has_capability("MOVE"):
        client.move([uid], done_folder)
        return
    client.copy([uid], done_folder)
    client.add_flags([uid], [b"\\Deleted", SEEN], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()


def _count(result: ReadResult, outcome: str) -> None:
    counted = {CASE: "cases", ADDED: "added", IGNORED: "ignored", HELD: "held"}.get(outcome)
    if counted:
        setattr(result, counted, getattr(result, counted) + 1)


def hold_lease(worker: str, now: datetime | None = None) -> bool:
    """Take or renew the turn to read the mailbox; False while another reader holds it."""
    now = now or utcnow()
    seconds = current_app.config["PLAINT_MAILBOX_LEASE_SECONDS"]
    begin_write()
    if db.session.get(MailboxLease, LEASE) is None:
        try:
            with db.session.begin_nested():
                db.session.add(MailboxLease(name=LEASE))
        except IntegrityError:  # another reader made the row first
            pass
    taken = db.session.execute(
        update(MailboxLease).where(MailboxLease.name == LEASE, or_(
            MailboxLease.held_until.is_(None), MailboxLease.held_until < now,
            MailboxLease.held_by == worker))
        .values(held_by=worker, held_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return getattr(taken, "rowcount", 0) == 1


def release_lease(worker: str, error: str | None) -> None:
    """Give the turn back, noting when the mailbox was read and the error, if any."""
    db.session.rollback()
    begin_write()
    db.session.execute(
        update(MailboxLease).where(MailboxLease.name == LEASE, MailboxLease.held_by == worker)
        .values(held_by=None, held_until=None, last_read_at=utcnow(), last_error=error)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:  # noqa: S110
            pass


class IdleWatcher:
    """Waits in IMAP IDLE on its own thread and calls `wake` when new mail arrives.

    It never reads or records mail (the job does, under the lease), so every process may
    run one. It stops within about a second of `stop()`; a connection that fails is tried
    again after the polling interval; a server without IDLE ends the thread (polling only).
    """

    def __init__(self, app: Flask, wake: Callable[[], None]) -> None:
        self.app = app
        self.wake = wake
        self.supported: bool | None = None  # None until the server was asked
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plaint-mailbox-idle",
                                        daemon=True)

    def start(self) -> None:
        """Start waiting for mail."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop waiting and close the connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        interval = self.app.config["PLAINT_MAILBOX_INTERVAL"]
        while not self._stop.is_set():
            try:
                if not self._watch():
                    return
            except Exception:  # a dropped connection: wait, then connect again
                log.warning("mailbox IDLE connection failed; trying again in %ss", interval,
                            exc_info=True)
                self._stop.wait(interval)

    def _watch(self) -> bool:
        """One IDLE connection until it must be renewed or stopped; False: no IDLE here."""
        with self.app.app_context():
            client = connect()
            folder = self.app.config["PLAINT_MAILBOX_FOLDER"]
        try:
            if not client.has_capability("IDLE"):
                self.supported = False
                log.info("the mailbox server does not offer IDLE: polling only")
                return False
            self.supported = True
            client.select_folder(folder, readonly=True)
            client.idle()
            renew_at = utcnow() + IDLE_RENEW
            try:
                while not self._stop.is_set() and utcnow() < renew_at:
                    responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        self.wake()
            finally:
                client.idle_done()
            return True
        finally:
            _close(client)
