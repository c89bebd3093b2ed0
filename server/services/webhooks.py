"""Webhook subscriptions: who gets which events, their signing secrets, and enqueueing.

`enqueue` runs inside the step's transaction (services/recording.py, after each history
row is written) and never commits: a delivery row exists exactly when its step does
(DESIGN decision 12), its body rendered then. The active subscriptions are kept per process
under the settings stamp (services/lookups.py): with none, a step pays nothing more.

Signing secrets are never stored. A subscription holds a random seed; its secret is
HMAC-SHA256(server secret key, purpose + seed), shown to the administrator once as
`whsec_<base64>` (the Standard Webhooks form) and made again from the seed whenever an
event is signed. Someone who reads the database but not the secret key cannot sign as
Plaint; changing the secret key changes every subscription's secret (rotate each then).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import WebhookDelivery, WebhookSubscription, utcnow
from ..models.webhook import FAILED, PENDING, STATUSES
from . import api_clients, events, lookups, system_log, visibility
from .actors import Actor

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
_PURPOSE = b"plaint webhook signing secret\x00"
TEST_EVENT = "webhook.test"  # sent by "Send a test event"; never by a case
MAX_NAME, MAX_URL = 100, 2000
PER_PAGE = 50
MAX_ID = 2**31 - 1

_SUBS = WebhookSubscription.__table__
_ACTIVE = select(_SUBS.c.id, _SUBS.c.event_types, _SUBS.c.personal_data,
                 _SUBS.c.created_by).where(_SUBS.c.active)
# How an API client's own subscription is tagged (web/api/events.py): "api:<name> #<id>".
_CLIENT_OWNED = re.compile(r"^api:.* #(\d+)$")
_INSERT = WebhookDelivery.__table__.insert()


def new_seed() -> str:
    """A fresh random seed for a subscription's secret (not secret on its own)."""
    return secrets.token_hex(16)


def secret_for(seed: str) -> str:
    """The signing secret a seed stands for under this server's secret key: whsec_<base64>."""
    key = current_app.config["SECRET_KEY"]
    raw = hmac.new(key.encode("utf-8") if isinstance(key, str) else key,
                   _PURPOSE + seed.encode("ascii"), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def enqueue(case: Any, row_id: int, event: Mapping[str, Any]) -> None:
    """Write the deliveries a history row gives, for every subscription that wants them.

    In the caller's transaction; no commit. `event` is the history row as inserted.
    """
    subscriptions = _subscriptions()
    if not subscriptions:
        return
    data = json.loads(event["data"])
    rendered: dict[bool, list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    owners: dict[str, bool] = {}
    for subscription in subscriptions:
        wanted = set(subscription.event_types.split())
        personal = bool(subscription.personal_data)
        if personal not in rendered:
            rendered[personal] = events.of_history(row_id, event["kind"], event["at"],
                                                   event["actor"], data, case, personal)
        items = [item for item in rendered[personal] if item["type"] in wanted]
        # Need-to-know is asked only when the row gives this subscription something.
        if items and _owner_may_read(subscription.created_by, case.id, owners):
            rows.extend(_row(subscription.id, item, case.id, event["at"]) for item in items)
    if rows:
        db.session.connection().execute(_INSERT, rows)


def wanted() -> bool:
    """Whether any subscription is active: only then does a history row need its id at once."""
    return bool(_subscriptions())


def _subscriptions() -> tuple[Any, ...]:
    """The active subscriptions, kept per settings stamp: every history row asks."""
    return lookups.setting("webhooks.active",
                           lambda: tuple(db.session.connection().execute(_ACTIVE)))


def _owner_may_read(owner: str, case_id: int, known: dict[str, bool]) -> bool:
    """Whether a subscription's owner may read the case (need-to-know, services/visibility).

    An administrator's subscription is the organisation's and gets every case's events; an
    API client's gets only those of cases its acting user may read, and none once revoked.
    """
    if owner not in known:
        match = _CLIENT_OWNED.match(owner)
        client = int(match.group(1)) if match else None
        reader = lookups.once(("webhooks.client", client),
                              lambda: api_clients.actor_of(client)) \
            if client is not None else None
        known[owner] = match is None or (reader is not None and
                                         visibility.may_read(reader, case_id))
    return known[owner]


def _row(subscription_id: int, item: dict[str, Any], case_id: int | None,
         now: datetime) -> dict[str, Any]:
    """A pending delivery row of one event."""
    return {"subscription_id": subscription_id, "event_id": item["id"],
            "event_type": item["type"], "case_id": case_id,
            "payload": json.dumps(item, ensure_ascii=False, separators=(",", ":")),
            "status": PENDING, "attempts": 0, "next_attempt_at": now, "claimed_by": None,
            "claimed_until": None, "last_status": None, "last_error": None,
            "created_at": now, "delivered_at": None}


# Administering subscriptions (the admin pages call these).


def clean(form: Mapping[str, Any], editing: int | None = None) -> dict[str, Any]:
    """A subscription's fields from a form, or InvalidInput that says what to fix."""
    errors: dict[str, list[str]] = {}
    name = " ".join(str(form.get("name") or "").split())
    if not name:
        errors["name"] = [_("Give the subscription a name.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("Shorten the name to %(num)d characters.", num=MAX_NAME)]
    elif db.session.scalar(select(WebhookSubscription.id).where(
            WebhookSubscription.name == name, WebhookSubscription.id != (editing or 0))):
        errors["name"] = [_("Another subscription has this name: choose another.")]
    url = str(form.get("url") or "").strip()
    problem = url_problem(url)
    if problem:
        errors["url"] = [problem]
    chosen = form.getlist("event_types") if hasattr(form, "getlist") \
        else list(form.get("event_types") or ())
    types = [t for t in events.EVENT_TYPES if t in chosen]
    if not types or len(types) != len(set(chosen)):
        errors["event_types"] = [_("Tick at least one of the event types listed.")]
    if errors:
        raise InvalidInput(_("The subscription was not saved: correct the fields marked."),
                           errors)
    return {"name": name, "url": url, "event_types": " ".join(types),
            "personal_data": _ticked(form.get("personal_data")),
            "active": _ticked(form.get("active"))}


def _ticked(value: Any) -> bool:
    return value in (True, "on", "1", "true", "yes")


def url_problem(url: str) -> str | None:
    """Why a URL cannot receive webhooks, or None."""
    parts = urlsplit(url)
    if not url or parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Give a full http:// or https:// address, such as "
                 "https://crm.example.com/hooks/plaint.")
    if len(url) > MAX_URL:
        return _("Shorten the address to %(num)d characters.", num=MAX_URL)
    if parts.username or parts.password:
        return _("Put no user name or password in the address: events are signed instead.")
    if any(ch.isspace() for ch in url):
        return _("An address cannot contain spaces.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return _("The port in the address is not a number from 1 to 65535.")
    return None


def create(values: dict[str, Any], by: Actor) -> tuple[WebhookSubscription, str]:
    """Add a subscription; return it and its secret, which is shown this once."""
    begin_write()
    now = utcnow()
    subscription = WebhookSubscription(**values, secret_seed=new_seed(), created_at=now,
                                       created_by=by.name[:255], changed_at=now,
                                       changed_by=by.name[:255])
    db.session.add(subscription)
    db.session.flush()
    system_log.record(by, "webhook.created", f"Webhook subscription '{subscription.name}' "
                      "added", {"subscription": subscription.id, **_logged(values)})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    return subscription, secret_for(subscription.secret_seed)


def _logged(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in ("name", "url", "event_types", "personal_data",
                                         "active") if key in values}


def get(subscription_id: int) -> WebhookSubscription:
    """A subscription, or NotFound."""
    found = db.session.get(WebhookSubscription, subscription_id) \
        if 0 < subscription_id <= MAX_ID else None
    if found is None:
        raise NotFound(_("There is no webhook subscription %(number)s.",
                         number=subscription_id))
    return found


def update(subscription_id: int, values: dict[str, Any], by: Actor) -> WebhookSubscription:
    """Change a subscription; the system log keeps what changed."""
    begin_write()
    subscription = get(subscription_id)
    changed = {key: [getattr(subscription, key), value] for key, value in values.items()
               if getattr(subscription, key) != value}
    for key, value in values.items():
        setattr(subscription, key, value)
    subscription.changed_at, subscription.changed_by = utcnow(), by.name[:255]
    system_log.record(by, "webhook.changed", f"Webhook subscription '{subscription.name}' "
                      "changed", {"subscription": subscription.id, "changes": changed})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    return subscription


def set_active(subscription_id: int, active: bool, by: Actor) -> WebhookSubscription:
    """Switch a subscription on or off; switched off, it gets no new events."""
    begin_write()
    subscription = get(subscription_id)
    subscription.active = active
    subscription.changed_at, subscription.changed_by = utcnow(), by.name[:255]
    system_log.record(by, "webhook.activated" if active else "webhook.deactivated",
                      f"Webhook subscription '{subscription.name}' switched "
                      f"{'on' if active else 'off'}", {"subscription": subscription.id})
    db.session.commit()
    lookups.forget()  # a run that changed the settings reads them again
    return subscription


def rotate(subscription_id: int, by: Actor) -> tuple[WebhookSubscription, str]:
    """Give a subscription a new secret (shown this once); the old one stops at once."""
    begin_write()
    subscription = get(subscription_id)
    subscription.secret_seed = new_seed()
    subscription.changed_at, subscription.changed_by = utcnow(), by.name[:255]
    system_log.record(by, "webhook.secret_rotated", f"Webhook subscription "
                      f"'{subscription.name}' given a new secret",
                      {"subscription": subscription.id})
    db.session.commit()
    return subscription, secret_for(subscription.secret_seed)


def send_test(subscription_id: int, by: Actor) -> WebhookDelivery:
    """Queue a test event for a subscription, delivered like any other."""
    begin_write()
    subscription = get(subscription_id)
    now = utcnow()
    item = {"id": f"evt_test_{secrets.token_hex(8)}", "type": TEST_EVENT,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"subscription": subscription.name, "actor": by.name}}
    delivery = WebhookDelivery(**_row(subscription.id, item, None, now))
    db.session.add(delivery)
    db.session.flush()
    system_log.record(by, "webhook.test", f"Test event queued for webhook subscription "
                      f"'{subscription.name}'", {"subscription": subscription.id,
                                                 "event": item["id"]})
    db.session.commit()
    return delivery


def listing() -> list[tuple[WebhookSubscription, dict[str, int]]]:
    """Every subscription, by name, with how many of its deliveries are in each status."""
    counted: dict[int, dict[str, int]] = {}
    for sub_id, status, number in db.session.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)):
        counted.setdefault(sub_id, {})[status] = number
    subscriptions = db.session.scalars(select(WebhookSubscription)
                                       .order_by(WebhookSubscription.name))
    return [(s, {status: counted.get(s.id, {}).get(status, 0) for status in STATUSES})
            for s in subscriptions]


def deliveries(subscription_id: int, status: str | None,
               page: int) -> tuple[list[WebhookDelivery], int]:
    """One page of a subscription's deliveries, newest first, and how many there are."""
    where = [WebhookDelivery.subscription_id == subscription_id]
    if status in STATUSES:
        where.append(WebhookDelivery.status == status)
    total = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                              .where(*where)) or 0
    rows = db.session.scalars(select(WebhookDelivery).where(*where)
                              .order_by(WebhookDelivery.id.desc()).limit(PER_PAGE)
                              .offset((max(page, 1) - 1) * PER_PAGE))
    return list(rows), total


def retry(delivery_id: int, by: Actor) -> WebhookDelivery:
    """Try a failed delivery again at the next run, with a fresh set of attempts."""
    begin_write()
    delivery = db.session.get(WebhookDelivery, delivery_id) \
        if 0 < delivery_id <= MAX_ID else None
    if delivery is None:
        raise NotFound(_("There is no webhook delivery %(number)s.", number=delivery_id))
    if delivery.status != FAILED:
        raise InvalidInput(_("Delivery %(number)s has not failed: only a failed delivery can "
                             "be tried again.", number=delivery_id))
    delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, utcnow()
    delivery.claimed_by = delivery.claimed_until = None
    system_log.record(by, "webhook.retry", f"Webhook delivery {delivery_id} "
                      f"({delivery.event_type}) to be tried again",
                      {"delivery": delivery_id, "subscription": delivery.subscription_id,
                       "last_error": delivery.last_error})
    db.session.commit()
    return delivery
