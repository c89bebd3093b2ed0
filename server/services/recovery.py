"""A lost tracking link asked for again: the reference and the e-mail on file, a new link by e-mail.

Whoever asks gets the same answer whether the pair matched or not, so the form tells
nobody which references exist or which address a case holds. Only when both match is
a new token made: its hash replaces the case's, which revokes the old link and every
signed link sent before (services/links.py), and the new link goes through the outbox
to the e-mail on file, never to an address typed in the form. The request is written to
the case's history.

Asking is paced per address and per reference, counted before the pair is checked and
under the bucket's row lock (the write lock on SQLite), so parallel requests cannot race
past the limit. The buckets live in the sign-in throttle table under names no account can
have ("~link" for an address, "~link:<reference>" for a reference).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..database import begin_write
from ..engine import Notice
from ..errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from ..extensions import db
from ..models import Case, SignInThrottle, utcnow
from . import links, notifications
from .actors import Actor
from .recording import load_case, record_event

TEMPLATE = "tracking_link"
ADDRESS_BUCKET = "~link"  # usernames start with a letter or digit: no account shares these
REFERENCE_BUCKET = "~link:"
ANY_ADDRESS = "*"
MAX_REFERENCE = 64 - len(REFERENCE_BUCKET)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """At most `limit` requests of one bucket in `span`."""

    limit: int
    span: timedelta


PER_ADDRESS = Window(10, timedelta(hours=1))
PER_REFERENCE = Window(3, timedelta(hours=1))


def request_new_link(reference: str, email: str, address: str) -> None:
    """Send a new tracking link to the e-mail on file when reference and e-mail match.

    Returns the same (nothing) either way; raises InvalidInput for an empty field and
    TooManyAttempts when the address or the reference asked too often.
    """
    reference = " ".join((reference or "").split()).upper()[:MAX_REFERENCE]
    email = (email or "").strip().lower()[:254]
    errors: dict[str, list[str]] = {}
    if not reference:
        errors["reference"] = [_("Enter the reference of your complaint, e.g. CMP-2026-000123.")]
    if not email or "@" not in email:
        errors["email"] = [_("Enter the e-mail address you gave with your complaint.")]
    if errors:
        raise InvalidInput(_("Check the reference and the e-mail address."), errors)
    _take_turn(reference, (address or "unknown")[:64])
    for attempt in range(2):
        try:
            _renew(reference, email)
            return
        except Conflict:  # the case moved on at that moment: once more, then quietly give up
            db.session.rollback()
            if attempt:
                log.warning("a new tracking link for %s lost a race twice", reference)


def _matches(on_file: str | None, given: str) -> bool:
    """Compare e-mail addresses in constant time (digests, so lengths do not tell)."""
    stored = hashlib.sha256((on_file or "").strip().lower().encode("utf-8")).digest()
    typed = hashlib.sha256(given.encode("utf-8")).digest()
    return hmac.compare_digest(stored, typed) and bool(on_file)


def _renew(reference: str, email: str) -> None:
    """Replace the token and e-mail the new link, if the pair matches; else change nothing."""
    begin_write()
    try:
        case = load_case(reference)
    except NotFound:
        case = None
    if case is None or not _matches(case.complainant_email, email):
        db.session.rollback()
        log.info("a new tracking link was asked for with a reference and e-mail that do "
                 "not match")
        return
    now = utcnow()
    seed = links.new_seed()
    db.session.execute(update(Case).where(Case.id == case.id).values(
        tracking_token_hash=links.token_hash(links.token_for(seed))))
    notifications.enqueue(case, [Notice(
        template=TEMPLATE, recipient="complainant", element="tracking_link",
        title="New tracking link", task_id="", role=None, data={})], now, seed)
    record_event(case, Actor.complainant(), "tracking.renewed",
                 "New tracking link sent to the e-mail on file; the old link no longer works",
                 {}, now)


def _take_turn(reference: str, address: str) -> None:
    """Count this request in its address's and its reference's buckets, or refuse it."""
    begin_write()
    now = utcnow()
    buckets = _locked_buckets(reference, address, now)
    for bucket, window in buckets:
        if bucket.last_attempt_at < now - window.span:
            bucket.failures = 0
    if any(bucket.failures >= window.limit for bucket, window in buckets):
        db.session.rollback()
        log.info("new tracking links refused for now: too many requests")
        raise TooManyAttempts(_("Too many requests for a new link. Try again in an hour, or "
                                "contact us with your case reference."))
    for bucket, _window in buckets:
        bucket.failures += 1
        bucket.last_attempt_at = now
    db.session.execute(delete(SignInThrottle).where(
        SignInThrottle.username.startswith(ADDRESS_BUCKET),
        SignInThrottle.last_attempt_at < now - max(PER_ADDRESS.span, PER_REFERENCE.span)))
    db.session.commit()


def _locked_buckets(reference: str, address: str,
                    now: datetime) -> list[tuple[SignInThrottle, Window]]:
    """The address's and the reference's buckets, made if new, locked in one order."""
    keys = [(ADDRESS_BUCKET, address), (REFERENCE_BUCKET + reference, ANY_ADDRESS)]
    rows = [{"username": name, "address": where, "failures": 0, "last_attempt_at": now}
            for name, where in keys]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(SignInThrottle).values(rows).on_conflict_do_nothing())
    found = []
    for name, where in keys:
        bucket = db.session.scalar(
            select(SignInThrottle).where(SignInThrottle.username == name,
                                         SignInThrottle.address == where)
            .with_for_update().execution_options(populate_existing=True))
        assert bucket is not None  # inserted just above, inside this transaction
        found.append((bucket, PER_ADDRESS if name == ADDRESS_BUCKET else PER_REFERENCE))
    return found
