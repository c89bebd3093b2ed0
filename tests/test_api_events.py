"""Other systems over the API: a subscription made by a client, the signed event it gets
when another client files a complaint, and the events feed that says the same thing."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import WebhookDelivery
from server.services import webhook_delivery
from tests.support.api import api_token, bearer
from tests.support.data import PDF
from tests.support.webhook_receiver import Receiver, webhook_receiver

FIELDS = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
          "description": "I was charged twice for one transfer.", "consent": True}


@pytest.fixture
def receiver() -> Receiver:
    """A receiver on loopback that verifies what it gets."""
    with webhook_receiver() as found:
        yield found


def subscribe(client: FlaskClient, token: str, url: str, **more: object) -> dict:
    answer = client.post("/api/v1/webhooks", headers=bearer(token), json={
        "name": "CRM", "url": url, "event_types": ["case.created"], **more})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def file_with_document(client: FlaskClient, token: str) -> str:
    sent = client.post("/api/v1/complaints", headers=bearer(token), data={
        "fields": json.dumps(FIELDS), "documents": (io.BytesIO(PDF), "statement.pdf")},
        content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    return sent.get_json()["reference"]


def test_a_complaint_filed_over_the_api_reaches_a_subscribed_receiver_signed_and_the_feed(
        app: Flask, client: FlaskClient, receiver: Receiver) -> None:
    app.config["PLAINT_HTTP_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)  # the receiver's address
    hooks = api_token(app, "crm-hooks", "webhooks")
    made = subscribe(client, hooks, receiver.url)
    receiver.secret = made["secret"]
    assert made["secret"].startswith("whsec_") and made["active"]
    listed = client.get("/api/v1/webhooks", headers=bearer(hooks)).get_json()["items"]
    assert [s["id"] for s in listed] == [made["id"]] and listed[0]["secret"] is None
    reference = file_with_document(client, api_token(app, "website", "intake"))
    with app.app_context():
        assert webhook_delivery.deliver_due().delivered == 1
    [got] = receiver.received
    assert got.error is None  # standardwebhooks' Webhook.verify accepted it
    assert got.payload["type"] == "case.created"
    assert got.payload["data"]["reference"] == reference
    assert b"layla@example.com" not in got.body  # no personal data: not asked for
    # The events feed tells the same event, with the same id, to a client that reads.
    reader = api_token(app, "warehouse", "read")
    page = client.get("/api/v1/events", headers=bearer(reader)).get_json()
    created = [e for e in page["items"] if e["type"] == "case.created"]
    assert [e["id"] for e in created] == [got.payload["id"]]
    again = client.get(f"/api/v1/events?cursor={page['next_cursor']}", headers=bearer(reader))
    assert again.status_code == 200 and again.get_json()["items"] == []


def test_an_api_client_cannot_make_the_server_post_into_its_own_network(
        app: Flask, client: FlaskClient, receiver: Receiver) -> None:
    hooks = api_token(app, "crm-hooks", "webhooks")
    subscribe(client, hooks, receiver.url)
    file_with_document(client, api_token(app, "website", "intake"))
    with app.app_context():
        result = webhook_delivery.deliver_due()
    assert result.delivered == 0 and receiver.received == []
    with app.app_context():
        [refused] = db.session.scalars(select(WebhookDelivery)).all()
        assert refused.status == "failed"  # not retried: the address will not change
        assert "127.0.0.1" in (refused.last_error or "") and "not public" in refused.last_error


def test_personal_data_needs_the_read_scope_and_others_subscriptions_stay_hidden(
        app: Flask, client: FlaskClient) -> None:
    hooks = api_token(app, "crm-hooks", "webhooks")
    refused = client.post("/api/v1/webhooks", headers=bearer(hooks), json={
        "name": "CRM", "url": "https://crm.example.com/h", "event_types": ["case.created"],
        "personal_data": True})
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    reader_hooks = api_token(app, "crm-full", "webhooks", "read")
    made = subscribe(client, reader_hooks, "https://crm.example.com/h", personal_data=True)
    assert made["personal_data"] is True
    # Another client neither sees nor switches off this subscription.
    assert client.get("/api/v1/webhooks", headers=bearer(hooks)).get_json()["items"] == []
    assert client.delete(f"/api/v1/webhooks/{made['id']}",
                         headers=bearer(hooks)).status_code == 404
    off = client.delete(f"/api/v1/webhooks/{made['id']}", headers=bearer(reader_hooks))
    assert off.status_code == 200 and off.get_json()["active"] is False


def test_bad_subscriptions_and_cursors_answer_problems_that_say_what_to_fix(
        app: Flask, client: FlaskClient) -> None:
    hooks = api_token(app, "crm-hooks", "webhooks", "read")
    bad = client.post("/api/v1/webhooks", headers=bearer(hooks), json={
        "name": "CRM", "url": "ftp://x", "event_types": ["case.exploded"]})
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert "url" in errors and "event_types" in errors
    wrong = client.get("/api/v1/events?cursor=nonsense", headers=bearer(hooks))
    assert wrong.status_code == 422 and "cursor" in wrong.get_json()["errors"]
    assert client.get("/api/v1/events", headers=bearer(
        api_token(app, "intake-only", "intake"))).status_code == 403
