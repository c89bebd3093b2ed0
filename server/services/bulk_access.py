"""The bulk-access alert: one person opening many cases in a short time.

The rule, run after every logged read (services/access_log.py): when the person who read
(a member of staff, or an API client's acting user; a client without one counts as
itself) has opened more than PLAINT_BULK_ACCESS_CASES distinct cases within the last
PLAINT_BULK_ACCESS_MINUTES, and no alert was raised for them within those minutes, raise
one: a bulk_access_alert row the auditors see and acknowledge, an entry in the chained
system log, and an e-mail (`bulk_access` template, staff language) to every active
auditor with an e-mail address, through the outbox. One window, one alert: the reads that
follow within the window do not raise another.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, distinct, func, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import AccessLogEntry, AuditChainHead, BulkAccessAlert, utcnow
from . import staff_mail, system_log
from .actors import Actor

log = logging.getLogger(__name__)
EVENT = "bulk_access"
RECIPIENT_ROLE = "auditor"
NOTE_LIMIT = 2000
# A read of a case the same person read in this process this recently skips the count.
FRESH = timedelta(seconds=60)
RECENT_MOST = 10_000  # (person, case) pairs remembered per process
_RECENT = "plaint.bulk_access_recent"


def person(actor: Actor) -> str:
    """The name an alert gives the person who read: the acting user of an API client."""
    return actor.on_behalf or actor.name


def _theirs(actor: Actor) -> ColumnElement[bool]:
    """The reads of the same person: by user id, else (a client alone) by its name."""
    if actor.user_id is not None:
        return AccessLogEntry.user_id == actor.user_id
    return and_(AccessLogEntry.user_id.is_(None), AccessLogEntry.actor == actor.name)


def check(actor: Actor, now: datetime) -> BulkAccessAlert | None:
    """Raise an alert if `actor` has just gone over the limit; inside the caller's write."""
    return checked(actor, now)[0]


def checked(actor: Actor, now: datetime) -> tuple[BulkAccessAlert | None, bool]:
    """`check`, and whether the person was within the limit (then none was raised)."""
    config = current_app.config
    limit, minutes = int(config["PLAINT_BULK_ACCESS_CASES"]), int(
        config["PLAINT_BULK_ACCESS_MINUTES"])
    since = now - timedelta(minutes=minutes)
    count = db.session.scalar(select(func.count(distinct(AccessLogEntry.case_id))).where(
        _theirs(actor), AccessLogEntry.allowed.is_(True), AccessLogEntry.at >= since)) or 0
    if count <= limit:
        return None, True
    # Two reads at the same moment must not both raise: the system log's head row is the
    # lock every chained write takes first anyway. Read afresh: the access log keeps what
    # the page loaded before its write (database.begin_write), and a head loaded then
    # would chain the alert onto a stale hash.
    db.session.scalar(select(AuditChainHead).where(AuditChainHead.name == system_log.CHAIN)
                      .with_for_update().execution_options(populate_existing=True))
    who = person(actor)
    if db.session.scalar(select(BulkAccessAlert.id).where(
            BulkAccessAlert.person == who, BulkAccessAlert.raised_at >= since).limit(1)):
        return None, False
    alert = BulkAccessAlert(raised_at=now, person=who[:255], user_id=actor.user_id,
                            case_count=int(count), window_start=since, window_minutes=minutes)
    db.session.add(alert)
    system_log.record(Actor.system("access-log"), "access.bulk_alert",
                      f"{who} opened {count} cases within {minutes} minutes",
                      {"person": who, "client": actor.name if actor.kind == "api" else None,
                       "cases": int(count), "minutes": minutes, "limit": limit})
    _mail(who, int(count), minutes, now)
    log.warning("bulk access: %s opened %d cases within %d minutes", who, count, minutes)
    return alert, False


def _reader(actor: Actor) -> str:
    """Whose reads count together, as `_theirs` groups them."""
    return f"user:{actor.user_id}" if actor.user_id is not None else f"client:{actor.name}"


def _recent() -> dict[tuple[str, int], datetime]:
    # Per app, so tests (one app each, ids restarting at 1) never share what was read.
    recent: dict[tuple[str, int], datetime] = current_app.extensions.setdefault(_RECENT, {})
    return recent


def read_again(actor: Actor, case_ids: Sequence[int | None], now: datetime) -> bool:
    """Whether the rule may be skipped for this read: this process logged and committed,
    within the last minute (and inside the window), a read of each of these cases by the
    same person and found them within the limit then.

    Such a read adds no distinct case to the count, and any read since that did add one
    ran the rule itself, so skipping the count changes nothing: one alert per crossing.
    (One corner moves: someone still over the limit when their alert's window ends gets
    the next alert at their next new case or next counted read, at most a minute on.)
    """
    if not case_ids:
        return False
    window = timedelta(minutes=int(current_app.config["PLAINT_BULK_ACCESS_MINUTES"]))
    fresh, recent, who = min(FRESH, window), _recent(), _reader(actor)
    for case_id in case_ids:
        at = recent.get((who, case_id)) if case_id is not None else None
        if at is None or not timedelta(0) <= now - at < fresh:
            return False
    return True


def remember(actor: Actor, case_ids: Sequence[int | None], now: datetime) -> None:
    """Note committed reads found within the limit, for `read_again`."""
    recent = _recent()
    if len(recent) >= RECENT_MOST:  # stale entries are useless anyway: start afresh
        recent.clear()
    who = _reader(actor)
    for case_id in case_ids:
        if case_id is not None:
            recent[(who, case_id)] = now


def _mail(who: str, count: int, minutes: int, now: datetime) -> None:
    """One outbox message per auditor (or one held message saying why nobody)."""
    public_url = current_app.config["PLAINT_PUBLIC_URL"].rstrip("/")
    staff_mail.mail_role(EVENT, RECIPIENT_ROLE, lambda language: {
        "person": who, "count": count, "minutes": minutes,
        "log_url": f"{public_url}/audit/access?person={quote(who)}",
        "alerts_url": f"{public_url}/audit/access#alerts"}, now)


def open_alerts() -> list[BulkAccessAlert]:
    """The alerts nobody has acknowledged yet, newest first."""
    return list(db.session.scalars(select(BulkAccessAlert).where(
        BulkAccessAlert.acknowledged_at.is_(None)).order_by(BulkAccessAlert.raised_at.desc())))


def recent_alerts(limit: int = 20) -> list[BulkAccessAlert]:
    """The newest alerts, acknowledged or not."""
    return list(db.session.scalars(select(BulkAccessAlert).order_by(
        BulkAccessAlert.raised_at.desc(), BulkAccessAlert.id.desc()).limit(limit)))


def acknowledge(alert_id: int, note: str, actor: Actor) -> BulkAccessAlert:
    """An auditor marks an alert as looked into, with a note saying what they found."""
    note = note.strip()
    if not note:
        message = _("Say what you found: the note cannot be empty.")
        raise InvalidInput(message, {"note": [message]})
    if len(note) > NOTE_LIMIT:
        message = _("Keep the note under %(most)d characters.", most=NOTE_LIMIT)
        raise InvalidInput(message, {"note": [message]})
    begin_write()
    alert = db.session.get(BulkAccessAlert, alert_id)
    if alert is None:
        raise NotFound(_("There is no such alert."))
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by, alert.note = utcnow(), actor.name, note
        system_log.record(actor, "access.alert_acknowledged",
                          f"Bulk-access alert {alert.id} ({alert.person}) acknowledged",
                          {"alert": alert.id, "person": alert.person, "note": note})
    db.session.commit()
    return alert
