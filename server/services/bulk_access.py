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
    config = current_app.config
    limit, minutes = int(config["PLAINT_BULK_ACCESS_CASES"]), int(
        config["PLAINT_BULK_ACCESS_MINUTES"])
    since = now - timedelta(minutes=minutes)
    count = db.session.scalar(select(func.count(distinct(AccessLogEntry.case_id))).where(
        _theirs(actor), AccessLogEntry.allowed.is_(True), AccessLogEntry.at >= since)) or 0
    if count <= limit:
        return None
    # Two reads at the same moment must not both raise: the system log's head row is the
    # lock every chained write takes first anyway.
    db.session.scalar(select(AuditChainHead).where(AuditChainHead.name == system_log.CHAIN)
                      .with_for_update())
    who = person(actor)
    if db.session.scalar(select(BulkAccessAlert.id).where(
            BulkAccessAlert.person == who, BulkAccessAlert.raised_at >= since).limit(1)):
        return None
    alert = BulkAccessAlert(raised_at=now, person=who[:255], user_id=actor.user_id,
                            case_count=int(count), window_start=since, window_minutes=minutes)
    db.session.add(alert)
    system_log.record(Actor.system("access-log"), "access.bulk_alert",
                      f"{who} opened {count} cases within {minutes} minutes",
                      {"person": who, "client": actor.name if actor.kind == "api" else None,
                       "cases": int(count), "minutes": minutes, "limit": limit})
    _mail(who, int(count), minutes, now)
    log.warning("bulk access: %s opened %d cases within %d minutes", who, count, minutes)
    return alert


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
