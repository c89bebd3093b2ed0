"""Posting webhook deliveries: claimed like the outbox, signed, retried with back-off.

A run claims due deliveries (services/claims.py: SKIP LOCKED on PostgreSQL, the write
lock on SQLite), posts each outside any transaction, signed as Standard Webhooks says
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
"id.timestamp.body"), and marks it. A 2xx answer delivers it; anything else (another
status, no answer in PLAINT_WEBHOOK_TIMEOUT, an answer over the size limit, a redirect,
which is never followed) is tried again after PLAINT_WEBHOOK_RETRY_SECONDS, each wait
five times longer, until PLAINT_WEBHOOK_MAX_ATTEMPTS; then it is failed and waits for an
administrator's retry. At least once, with the same webhook-id on every attempt: a
receiver drops an id it has seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from ..database import begin_write
from ..extensions import db
from ..models import WebhookDelivery, WebhookSubscription, utcnow
from ..models.webhook import DELIVERED, FAILED
from . import claims
from .http_request import AddressRefused, CallFailed, fetch, public_address
from .webhooks import secret_for

log = logging.getLogger(__name__)
BATCH = 20
USER_AGENT = "Plaint-Webhooks/1"


@dataclass
class DeliveryResult:
    """What one delivery run did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _lease() -> timedelta:
    # Long enough for a whole batch to wait out its time-outs, with room to spare.
    return timedelta(seconds=current_app.config["PLAINT_WEBHOOK_TIMEOUT"] * (BATCH + 2))


def claim_due(now: datetime, worker: str, limit: int) -> list[int]:
    """Claim up to `limit` due deliveries for this worker; their ids, oldest first."""
    claimed = claims.claim(WebhookDelivery, WebhookDelivery.next_attempt_at,
                           (WebhookDelivery.next_attempt_at, WebhookDelivery.id),
                           (WebhookDelivery.id,), now, worker, _lease(), limit)
    return sorted(row.id for row in claimed)


def deliver_due(limit: int | None = None, now: datetime | None = None,
                worker: str | None = None) -> DeliveryResult:
    """Post every delivery due now, batch by batch."""
    result = DeliveryResult()
    def post_batch(ids: list[int], by: str, _at: datetime) -> bool:
        _post_batch(ids, by, result)
        return True

    result.claimed = claims.drain(WebhookDelivery, _lease(), limit or BATCH, now, worker,
                                  post_batch)
    return result


def _post_batch(ids: list[int], worker: str, result: DeliveryResult) -> None:
    """Post claimed deliveries one by one, outside any transaction."""
    rows = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.event_id, WebhookDelivery.payload,
               WebhookDelivery.attempts, WebhookSubscription.url,
               WebhookSubscription.secret_seed, WebhookSubscription.active,
               WebhookSubscription.created_by)
        .join(WebhookSubscription)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_by == worker)
        .order_by(WebhookDelivery.id)).all()
    db.session.rollback()
    for row in rows:
        if not row.active:  # switched off: its endpoint may be gone; a retry re-queues it
            _mark(row.id, worker, status=FAILED, next_attempt_at=None, last_status=None,
                  last_error="The subscription is switched off.")
            result.failed += 1
            continue
        try:
            # An API client chose this address: it may not make the server post into its
            # own network (server-side request forgery); an administrator's may.
            check = public_address if row.created_by.startswith("api:") else None
            status = post(row.url, secret_for(row.secret_seed), row.event_id, row.payload,
                          check)
        except CallFailed as exc:  # one that will not pass on a retry (a refused address) ends
            _failed(row, worker, None, str(exc), result, final=isinstance(exc, AddressRefused))
            continue
        if 200 <= status < 300:
            _mark(row.id, worker, status=DELIVERED, delivered_at=utcnow(),
                  next_attempt_at=None, last_status=status, last_error=None)
            result.delivered += 1
        else:
            _failed(row, worker, status, f"The receiver answered HTTP {status}.", result)


def post(url: str, secret: str, event_id: str, payload: str,
         check: Callable[[str, list[str]], str] | None = None) -> int:
    """POST one signed event; the HTTP status of the answer. Raises CallFailed."""
    config = current_app.config
    body = payload.encode("utf-8")
    stamp = utcnow()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "webhook-id": event_id, "webhook-timestamp": str(int(stamp.timestamp())),
               "webhook-signature": Webhook(secret).sign(event_id, stamp, body)}
    status, _type, _body = fetch("POST", url, body, headers,
                                 config["PLAINT_WEBHOOK_TIMEOUT"],
                                 config["PLAINT_WEBHOOK_MAX_RESPONSE_BYTES"], check)
    return status


def _failed(row: Any, worker: str, status: int | None, reason: str,
            result: DeliveryResult, final: bool = False) -> None:
    """Schedule the next attempt with back-off, or give up when out of tries (or `final`)."""
    config = current_app.config
    if final or row.attempts >= config["PLAINT_WEBHOOK_MAX_ATTEMPTS"]:
        _mark(row.id, worker, status=FAILED, next_attempt_at=None, last_status=status,
              last_error=reason[:2000])
        result.failed += 1
        log.warning("webhook delivery %s failed for good: %s", row.id, reason)
        return
    _mark(row.id, worker, next_attempt_at=utcnow() + retry_delay(row.attempts),
          last_status=status, last_error=reason[:2000])
    result.retrying += 1


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempt numbered `attempts` failed."""
    first = current_app.config["PLAINT_WEBHOOK_RETRY_SECONDS"]
    return claims.backoff(timedelta(seconds=first), attempts)


def _mark(delivery_id: int, worker: str, **values: Any) -> None:
    """Change a claimed delivery and release the claim, if this worker still holds it."""
    begin_write()
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()


def next_due() -> datetime | None:
    """When the next pending delivery may be tried, or None."""
    due = db.session.scalar(select(WebhookDelivery.next_attempt_at)
                            .where(WebhookDelivery.next_attempt_at.is_not(None))
                            .order_by(WebhookDelivery.next_attempt_at).limit(1))
    db.session.rollback()
    return due
