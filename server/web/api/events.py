"""What other systems hear of over the API: the events feed and their webhook subscriptions.

The feed (read scope) and webhooks say the same thing with the same event ids
(services/events.py). A client with the webhooks scope keeps its own subscriptions: it
sees and changes only those it made; an administrator sees them all under Admin → Webhooks.
Personal data goes to a subscription only when its client may read cases.
"""

from __future__ import annotations

from dataclasses import replace

from flask import g, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ...access import API_READ, API_WEBHOOKS, requires_scope
from ...errors import Forbidden, NotFound
from ...models import WebhookSubscription
from ...services import api_reads, events, visibility, webhooks
from ...services.actors import Actor
from ...services.api_clients import Caller
from . import bp, spec
from .models import EventList, EventQuery, WebhookIn, WebhookList, WebhookOut
from .responses import Answer, accepts, answers, json_body


@bp.get("/v1/events")
@requires_scope(API_READ)
@spec.validate(query=EventQuery, resp=answers(200, EventList, 401, 403, 422, 429),
               tags=["events"])
def event_feed() -> Answer:
    """Events after a cursor, oldest first: the same events, ids and payloads as webhooks.

    Keep `next_cursor` and ask again with it; a page with no events keeps the cursor.
    """
    asked = EventQuery.model_validate(request.args.to_dict())
    after = api_reads.decode_cursor(asked.cursor, "event")
    found, last = events.feed(after, asked.limit, personal=True,
                              limits=visibility.where(g.api_caller.actor))
    return EventList.model_validate({
        "items": found, "next_cursor": api_reads.encode_cursor({"event": last or 0})})


@bp.get("/v1/webhooks")
@requires_scope(API_WEBHOOKS)
@spec.validate(resp=answers(200, WebhookList, 401, 403, 429), tags=["webhooks"])
def list_webhooks() -> Answer:
    """The subscriptions this client made."""
    caller: Caller = g.api_caller
    owned = [s for s, _counts in webhooks.listing() if _owned(s, caller)]
    return WebhookList.model_validate({"items": [_out(s) for s in owned]})


@bp.post("/v1/webhooks")
@requires_scope(API_WEBHOOKS)
@accepts("application/json")
@spec.validate(json=WebhookIn, resp=answers(201, WebhookOut, 401, 403, 409, 415, 422, 429),
               tags=["webhooks"])
def create_webhook() -> Answer:
    """Subscribe an address to event types; the signing secret is in this answer only."""
    caller: Caller = g.api_caller
    body = WebhookIn.model_validate(json_body())
    if body.personal_data and API_READ not in caller.scopes:
        raise Forbidden(_("Only a client that may read cases may receive personal data: "
                          "ask an administrator for the read scope, or leave "
                          "personal_data false."))
    form = MultiDict([("name", body.name), ("url", body.url),
                      *(("event_types", t) for t in body.event_types)])
    values = {**webhooks.clean(form), "personal_data": body.personal_data, "active": True}
    subscription, secret = webhooks.create(values, _owner(caller))
    return WebhookOut.model_validate({**_out(subscription), "secret": secret}), 201, {}


@bp.delete("/v1/webhooks/<int:subscription_id>")
@requires_scope(API_WEBHOOKS)
@spec.validate(resp=answers(200, WebhookOut, 401, 403, 404, 429), tags=["webhooks"])
def switch_off_webhook(subscription_id: int) -> Answer:
    """Switch one of this client's subscriptions off: no new events; its log is kept."""
    caller: Caller = g.api_caller
    subscription = _own(subscription_id, caller)
    return WebhookOut.model_validate(_out(webhooks.set_active(subscription.id, False,
                                                              _owner(caller))))


def _owner(caller: Caller) -> Actor:
    """The actor a subscription is made and changed by: the client, with its id kept."""
    return replace(caller.actor, name=f"{caller.actor.name} #{caller.client_id}")


def _owned(subscription: WebhookSubscription, caller: Caller) -> bool:
    return subscription.created_by.startswith("api:") and \
        subscription.created_by.endswith(f" #{caller.client_id}")


def _own(subscription_id: int, caller: Caller) -> WebhookSubscription:
    """One of this client's subscriptions, or NotFound (others' are not said to exist)."""
    found = None
    try:
        found = webhooks.get(subscription_id)
    except NotFound:
        pass
    if found is None or not _owned(found, caller):
        raise NotFound(_("There is no webhook subscription %(number)s.",
                         number=subscription_id))
    return found


def _out(subscription: WebhookSubscription) -> dict[str, object]:
    return {"id": subscription.id, "name": subscription.name, "url": subscription.url,
            "event_types": subscription.event_types.split(),
            "personal_data": subscription.personal_data, "active": subscription.active,
            "created_at": subscription.created_at}
