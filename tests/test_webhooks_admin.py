"""The webhook admin pages: an administrator adds a subscription and sees its secret once,
reads the delivery log, tries a failed delivery again, sends a test event, rotates the
secret and switches the subscription off; each change is in the system log."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import SystemEvent, WebhookDelivery, WebhookSubscription
from server.services import webhook_delivery

from .support.web import AuthActions, file_complaint, post
from .support.webhook_receiver import Receiver, webhook_receiver

_SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on loopback."""
    with webhook_receiver() as found:
        yield found


@pytest.fixture
def admin(auth: AuthActions) -> FlaskClient:
    """A browser signed in as an administrator."""
    return auth.signed_in("root", "admin")


def add(admin: FlaskClient, receiver: Receiver, *types: str, **extra: str) -> tuple[int, str]:
    """Add a subscription on the page; its id, and the secret the answer shows."""
    answer = post(admin, "/admin/webhooks/new", {
        "name": "CRM", "url": receiver.url, "event_types": list(types or ["case.created"]),
        "active": "1", **extra})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:2000]
    found = _SECRET.search(page)
    assert found, "no secret on the page"
    receiver.secret = found.group(1)
    db.session.rollback()
    return db.session.scalar(select(WebhookSubscription.id)), found.group(1)


def logged(kind: str) -> list[SystemEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.kind == kind)))


def test_an_admin_adds_a_subscription_and_sees_its_secret_once(
        app: Flask, app_ctx: None, admin: FlaskClient, receiver: Receiver) -> None:
    subscription_id, secret = add(admin, receiver)
    assert secret.startswith("whsec_")
    listing = admin.get("/admin/webhooks/").get_data(as_text=True)
    edit = admin.get(f"/admin/webhooks/{subscription_id}").get_data(as_text=True)
    assert "CRM" in listing and receiver.url in listing
    assert secret not in listing and secret not in edit
    assert secret[6:] not in listing + edit
    assert [e.data for e in logged("webhook.created")]
    file_complaint(app.test_client())
    webhook_delivery.deliver_due()
    assert [p["type"] for p in receiver.verified] == ["case.created"]  # verified with it


def test_a_bad_subscription_says_what_to_fix_and_keeps_the_input(
        app: Flask, app_ctx: None, admin: FlaskClient) -> None:
    answer = post(admin, "/admin/webhooks/new", {"name": "Warehouse",
                                                  "url": "ftp://files.example.com/in"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Give a full http:// or https:// address" in page
    assert "Tick at least one of the event types listed." in page
    assert 'value="Warehouse"' in page and 'value="ftp://files.example.com/in"' in page
    db.session.rollback()
    assert db.session.scalar(select(WebhookSubscription.id)) is None


def test_the_delivery_log_shows_a_failure_and_an_admin_tries_it_again(
        app: Flask, app_ctx: None, admin: FlaskClient, receiver: Receiver) -> None:
    app.config["PLAINT_WEBHOOK_MAX_ATTEMPTS"] = 1
    subscription_id, _secret = add(admin, receiver)
    receiver.answers = [500]
    file_complaint(app.test_client())
    assert webhook_delivery.deliver_due().failed == 1
    page = admin.get(f"/admin/webhooks/{subscription_id}?status=failed").get_data(as_text=True)
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert f'id="delivery-{delivery.id}"' in page
    assert "HTTP 500" in page and "Failed" in page and "Try again" in page
    answer = post(admin, f"/admin/webhooks/deliveries/{delivery.id}/retry",
                  {"subscription": str(subscription_id)}, follow_redirects=True)
    assert "will be tried again" in answer.get_data(as_text=True)
    assert logged("webhook.retry")
    assert webhook_delivery.deliver_due().delivered == 1
    page = admin.get(f"/admin/webhooks/{subscription_id}").get_data(as_text=True)
    assert "Delivered" in page and "Try again" not in page
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_delivery_that_has_not_failed_cannot_be_tried_again(
        app: Flask, app_ctx: None, admin: FlaskClient, receiver: Receiver) -> None:
    subscription_id, _secret = add(admin, receiver)
    file_complaint(app.test_client())
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    answer = post(admin, f"/admin/webhooks/deliveries/{delivery.id}/retry",
                  {"subscription": str(subscription_id)}, follow_redirects=True)
    assert "only a failed delivery can be tried again" in answer.get_data(as_text=True)
    assert post(admin, "/admin/webhooks/deliveries/999999/retry").status_code == 404


def test_an_admin_sends_a_test_event_rotates_the_secret_and_switches_it_off(
        app: Flask, app_ctx: None, admin: FlaskClient, receiver: Receiver) -> None:
    subscription_id, old = add(admin, receiver)
    post(admin, f"/admin/webhooks/{subscription_id}/test")
    webhook_delivery.deliver_due()
    assert [p["type"] for p in receiver.verified] == ["webhook.test"]

    page = post(admin, f"/admin/webhooks/{subscription_id}/rotate").get_data(as_text=True)
    new = _SECRET.search(page).group(1)
    assert new != old
    post(admin, f"/admin/webhooks/{subscription_id}/test")
    webhook_delivery.deliver_due()
    assert receiver.received[-1].error  # the old secret no longer verifies
    receiver.secret = new
    post(admin, f"/admin/webhooks/{subscription_id}/test")
    webhook_delivery.deliver_due()
    assert receiver.received[-1].error is None

    post(admin, f"/admin/webhooks/{subscription_id}/active", {"active": "0"})
    listing = admin.get("/admin/webhooks/").get_data(as_text=True)
    assert "Off" in listing
    sent = len(receiver.received)
    file_complaint(app.test_client())
    webhook_delivery.deliver_due()
    assert len(receiver.received) == sent
    kinds = {"webhook.test", "webhook.secret_rotated", "webhook.deactivated"}
    assert all(logged(kind) for kind in kinds)


def test_an_admin_changes_what_a_subscription_gets(
        app: Flask, app_ctx: None, admin: FlaskClient, receiver: Receiver) -> None:
    subscription_id, _secret = add(admin, receiver)
    answer = post(admin, f"/admin/webhooks/{subscription_id}",
                  {"name": "CRM", "url": receiver.url, "event_types": ["task.ready"],
                   "personal_data": "1", "active": "1"}, follow_redirects=True)
    assert "Subscription CRM saved." in answer.get_data(as_text=True)
    [change] = logged("webhook.changed")
    assert "task.ready" in change.data and "personal_data" in change.data
    file_complaint(app.test_client())
    webhook_delivery.deliver_due()
    [ready] = receiver.verified
    assert ready["type"] == "task.ready" and "complainant" in ready["data"]


def test_only_administrators_reach_the_webhook_pages(auth: AuthActions) -> None:
    handler = auth.signed_in("hana", "handler")
    assert handler.get("/admin/webhooks/").status_code == 403
    assert handler.get("/admin/webhooks/new").status_code == 403
