"""Webhooks delivered to a receiver on loopback that verifies them as a subscriber would.

A filed complaint reaches the receiver as a signed `case.created`; a receiver that fails
gets the same event again, with the same webhook-id, until it answers 2xx; personal data
goes only to a subscription allowed it. Runs on SQLite and PostgreSQL (the claim).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from server.extensions import db
from server.models import WebhookDelivery, WebhookSubscription, utcnow
from server.services import events, webhook_delivery, webhooks
from server.services.actors import Actor

from .support.data import PUBLIC_FORM
from .support.web import file_complaint
from .support.webhook_receiver import Receiver, webhook_receiver

ADMIN = Actor("ada.admin", 1, frozenset({"admin"}))
LATER = timedelta(hours=7)  # past any retry wait


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on loopback."""
    with webhook_receiver() as found:
        yield found


def subscribe(receiver: Receiver, types: tuple[str, ...] = events.EVENT_TYPES,
              personal: bool = False, name: str = "CRM") -> WebhookSubscription:
    """A subscription of the receiver, which learns its secret (shown once)."""
    subscription, secret = webhooks.create(
        {"name": name, "url": receiver.url, "event_types": " ".join(types),
         "personal_data": personal, "active": True}, ADMIN)
    receiver.secret = secret
    return subscription


def deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_filed_complaint_reaches_the_receiver_as_a_signed_case_created_event(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED,))
    reference, _link = file_complaint(app.test_client())
    result = webhook_delivery.deliver_due()
    assert result.delivered == 1
    [got] = receiver.received
    assert got.error is None  # Webhook.verify accepted the signature
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["webhook-id"] == got.payload["id"]
    assert got.payload["type"] == "case.created"
    assert got.payload["data"]["reference"] == reference
    assert got.payload["data"]["status"]
    assert [d.status for d in deliveries()] == ["delivered"]


def test_a_receiver_that_fails_gets_the_same_event_again_until_it_answers_2xx(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED,))
    receiver.answers = [500]
    file_complaint(app.test_client())
    assert webhook_delivery.deliver_due().retrying == 1
    [waiting] = deliveries()
    assert (waiting.status, waiting.last_status, waiting.attempts) == ("pending", 500, 1)
    assert waiting.next_attempt_at > utcnow()
    assert webhook_delivery.deliver_due().claimed == 0  # not before its back-off
    with time_machine.travel(utcnow() + LATER, tick=False):
        assert webhook_delivery.deliver_due().delivered == 1
        first, second = receiver.received
        assert first.error is None and second.error is None
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.body == second.body
    [done] = deliveries()
    assert (done.status, done.last_status, done.attempts) == ("delivered", 200, 2)


def test_a_receiver_that_never_answers_2xx_ends_failed_after_the_last_try(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    app.config["PLAINT_WEBHOOK_MAX_ATTEMPTS"] = 2
    subscribe(receiver, (events.CASE_CREATED,))
    receiver.answers = [503, 503, 503]
    file_complaint(app.test_client())
    webhook_delivery.deliver_due()
    with time_machine.travel(utcnow() + LATER, tick=False):
        assert webhook_delivery.deliver_due().failed == 1
    [failed] = deliveries()
    assert (failed.status, failed.last_status, failed.next_attempt_at) == ("failed", 503, None)
    assert "503" in (failed.last_error or "")
    assert len(receiver.received) == 2


def test_an_unreachable_receiver_is_retried_with_the_reason_kept(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscription = subscribe(receiver, (events.CASE_CREATED,))
    subscription.url = "http://127.0.0.1:9/nothing-listens"  # the discard port
    db.session.commit()
    file_complaint(app.test_client())
    assert webhook_delivery.deliver_due().retrying == 1
    [waiting] = deliveries()
    assert waiting.last_status is None and "could not be reached" in (waiting.last_error or "")


def test_no_personal_data_goes_to_a_subscription_not_allowed_it(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    with webhook_receiver() as trusted:
        subscribe(receiver, name="Analytics")
        subscribe(trusted, personal=True, name="CRM")
        file_complaint(app.test_client())
        webhook_delivery.deliver_due()
        plain = b"".join(r.body for r in receiver.received)
        personal = b"".join(r.body for r in trusted.received)
    assert receiver.verified and trusted.verified
    for private in (PUBLIC_FORM["complainant_name"], PUBLIC_FORM["complainant_email"],
                    PUBLIC_FORM["description"]):
        assert private.encode() not in plain
        assert private.encode() in personal
    created = next(p for p in trusted.verified if p["type"] == "case.created")
    assert created["data"]["complainant"]["email"] == PUBLIC_FORM["complainant_email"]


def test_a_secret_does_not_verify_another_subscriptions_events(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED,))
    with webhook_receiver() as other:
        subscribe(other, (events.CASE_CREATED,), name="Other")
        receiver.secret = other.secret  # the wrong secret
        file_complaint(app.test_client())
        webhook_delivery.deliver_due()
    assert receiver.received and all(r.error for r in receiver.received)
    assert other.verified


def test_the_secret_is_not_stored_and_rotating_it_changes_it(app: Flask, app_ctx: None,
                                                             receiver: Receiver) -> None:
    subscription = subscribe(receiver)
    first = receiver.secret
    assert first.startswith("whsec_")
    stored = db.session.execute(select(WebhookSubscription.__table__)).one()
    assert first not in str(tuple(stored)) and first[6:] not in str(tuple(stored))
    _same, second = webhooks.rotate(subscription.id, ADMIN)
    assert second.startswith("whsec_") and second != first


def test_a_switched_off_subscription_gets_nothing(app: Flask, app_ctx: None,
                                                 receiver: Receiver) -> None:
    subscription = subscribe(receiver)
    webhooks.set_active(subscription.id, False, ADMIN)
    file_complaint(app.test_client())
    assert deliveries() == []


def test_without_subscriptions_a_step_writes_no_delivery(app: Flask, app_ctx: None) -> None:
    file_complaint(app.test_client())
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_the_deliver_webhooks_command_posts_what_is_due(
        app: Flask, app_ctx: None, runner: FlaskCliRunner, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED, events.TASK_READY))
    file_complaint(app.test_client())
    result = runner.invoke(args=["deliver-webhooks"])
    assert result.exit_code == 0, result.output
    assert "Delivered 2 webhook event(s)" in result.output
    assert sorted(p["type"] for p in receiver.verified) == ["case.created", "task.ready"]


def test_a_scheduler_run_posts_the_due_deliveries(
        app: Flask, app_ctx: None, runner: FlaskCliRunner, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED,))
    reference, _link = file_complaint(app.test_client())
    result = runner.invoke(args=["scheduler", "--until-idle"])
    assert result.exit_code == 0, result.output
    [created] = receiver.verified
    assert created["data"]["reference"] == reference


def test_concurrent_delivery_runs_post_each_event_once(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED, events.TASK_READY))
    client = app.test_client()
    for _case in range(4):
        file_complaint(client)
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                webhook_delivery.deliver_due(limit=2)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=run) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    posted = [r.headers["webhook-id"] for r in receiver.received]
    assert len(posted) == 8 and len(set(posted)) == 8  # each of the 8 events once
    assert {d.status for d in deliveries()} == {"delivered"}


def test_a_redirect_is_not_followed_and_an_oversized_answer_counts_as_a_failure(
        app: Flask, app_ctx: None, receiver: Receiver) -> None:
    subscribe(receiver, (events.CASE_CREATED,))
    receiver.answers = [302]
    file_complaint(app.test_client())
    assert webhook_delivery.deliver_due().retrying == 1
    [waiting] = deliveries()
    assert (waiting.status, waiting.last_status) == ("pending", 302)
    assert len(receiver.received) == 1  # nothing went where a Location header would point
    app.config["PLAINT_WEBHOOK_MAX_RESPONSE_BYTES"] = 1  # the receiver answers "ok"
    with time_machine.travel(utcnow() + LATER, tick=False):
        assert webhook_delivery.deliver_due().retrying == 1
    [waiting] = deliveries()
    assert "larger than 1 bytes" in (waiting.last_error or "")


def test_purging_a_case_deletes_its_webhook_deliveries(
        app: Flask, app_ctx: None, runner: FlaskCliRunner, receiver: Receiver,
        tmp_path: Path) -> None:
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(tmp_path)
    subscribe(receiver, personal=True)
    reference, _link = file_complaint(app.test_client())
    other, _link = file_complaint(app.test_client())
    assert deliveries()
    result = runner.invoke(args=["purge-case", reference, "--reason", "Retention period over"])
    assert result.exit_code == 0, result.output
    left = deliveries()
    assert left and all(json.loads(d.payload)["data"]["reference"] == other for d in left)
