"""Every administrator's change is in the chained system log.

The walk below sends every POST route of the administration blueprints once, with input
that makes it succeed, and checks that each left at least one new system-log entry under
the administrator's name; a new administration route without a step here fails the test,
so the log cannot fall behind the pages. The chain still verifies at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import (
    CalendarDate,
    EscalationTarget,
    OutboxMessage,
    SystemEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from server.services import policy, system_log
from tests.support.web import file_complaint, make_user, post

pytestmark = pytest.mark.usefixtures("app_ctx")

ADMIN_BLUEPRINTS = ("admin", "admin_time", "admin_codes", "admin_outbox", "admin_webhooks",
                    "admin_api", "admin_security")
Step = Callable[[], tuple[str, dict[str, Any]]]


def newest(model: Any) -> int:
    """The id of the newest row of a model."""
    db.session.remove()
    found = db.session.scalar(select(func.max(model.id)))
    assert found is not None, f"no {model.__name__} to act on"
    return int(found)


def failed(model: Any, row_id: int) -> None:
    """Mark an outbox message or a webhook delivery failed, as a refusing server would."""
    db.session.execute(update(model).where(model.id == row_id).values(status="failed"))
    db.session.commit()


def week() -> dict[str, str]:
    """A calendar form: Sunday to Thursday, 07:30-15:30, in Riyadh."""
    values = {"time_zone": "Asia/Riyadh", "holiday_country": "SA", "holiday_subdivision": ""}
    for day in ("sun", "mon", "tue", "wed", "thu"):
        values.update({f"{day}_works": "1", f"{day}_opens": "07:30", f"{day}_closes": "15:30"})
    return values


def targets(kind: str) -> dict[str, str]:
    """The escalation form of a kind as it is, the first row's amount raised by one."""
    values: dict[str, str] = {}
    for n, row in enumerate(policy.list_targets()[kind]):
        fields = {f: str(getattr(row, f)) for f in policy.FIELDS}
        if n == 0:
            fields["amount"] = str(row.amount + 1)
        values.update({f"t{row.id}_{f}": v for f, v in fields.items()})
    return values


def outbox_failure() -> tuple[str, dict[str, Any]]:
    """A failed e-mail to send again."""
    message_id = newest(OutboxMessage)
    failed(OutboxMessage, message_id)
    return f"/admin/outbox/{message_id}/retry", {}


def delivery_failure() -> tuple[str, dict[str, Any]]:
    """A failed webhook delivery to try again."""
    file_complaint_now()
    delivery_id = newest(WebhookDelivery)
    failed(WebhookDelivery, delivery_id)
    return f"/admin/webhooks/deliveries/{delivery_id}/retry", {}


_APP: list[Flask] = []


def file_complaint_now() -> None:
    """A complaint on the public form: it writes e-mails and webhook deliveries."""
    file_complaint(_APP[0].test_client())


def steps() -> dict[str, Step]:
    """One successful request per administration POST route, in an order that works."""
    hook = lambda: newest(WebhookSubscription)  # noqa: E731 - read when the step runs
    return {
        "admin.new_user": lambda: ("/admin/users/new", {
            "username": "walker", "display_name": "Walker", "roles": ["handler"],
            "password_mode": "generate"}),
        "admin.edit_user": lambda: ("/admin/users/walker", {
            "display_name": "Walker Two", "roles": ["handler", "supervisor"], "active": "1"}),
        "admin.new_password": lambda: ("/admin/users/walker/password", {}),
        "admin.roles": lambda: ("/admin/roles", {"name": "trainee",
                                                 "description": "Learning the ropes"}),
        "admin.add_lane": lambda: ("/admin/lanes", {"lane": "Complaints Officer",
                                                    "role": "handler"}),
        "admin.remove_lane": lambda: ("/admin/lanes/complaints_officer/remove", {}),
        "admin_security.security": lambda: ("/admin/security", {"roles": ["auditor"]}),
        "admin_security.reset_second_factor": lambda: (
            "/admin/users/lina/second-factor/reset", {}),
        "admin_time.save_calendar": lambda: ("/admin/calendar", week()),
        "admin_time.add_date": lambda: ("/admin/calendar/dates/holiday", {
            "first_day": "2026-10-05", "name": "Founding"}),
        "admin_time.remove_date": lambda: (
            f"/admin/calendar/dates/{newest(CalendarDate)}/remove", {}),
        "admin_time.save_escalation": lambda: ("/admin/escalation/acknowledge",
                                               targets("acknowledge")),
        "admin_time.add_escalation_row": lambda: ("/admin/escalation/rows", {
            "kind": "resolution", "priority": "any", "category": "privacy", "amount": "30",
            "unit": "calendar_days", "remind_amount": "5", "remind_unit": "calendar_days",
            "next_level_amount": "2", "next_level_unit": "working_days"}),
        "admin_time.remove_escalation_row": lambda: (
            f"/admin/escalation/rows/{newest(EscalationTarget)}/remove", {}),
        "admin_codes.add": lambda: ("/admin/codes/products/new", {
            "code": "credit_card", "label_en": "Credit card", "label_ar": "بطاقة ائتمان",
            "position": ""}),
        "admin_codes.edit": lambda: ("/admin/codes/products/credit_card", {
            "label_en": "Credit cards", "label_ar": "بطاقات ائتمان", "position": "5",
            "active": "1"}),
        "admin_codes.switch": lambda: ("/admin/codes/products/credit_card/active",
                                           {"active": "0"}),
        "admin_outbox.retry": outbox_failure,
        "admin_webhooks.new": lambda: ("/admin/webhooks/new", {
            "name": "CRM", "url": "https://crm.example.com/hook",
            "event_types": ["case.created"], "active": "1"}),
        "admin_webhooks.edit": lambda: (f"/admin/webhooks/{hook()}", {
            "name": "CRM", "url": "https://crm.example.com/hooks",
            "event_types": ["case.created"], "active": "1"}),
        "admin_webhooks.switch": lambda: (f"/admin/webhooks/{hook()}/active",
                                              {"active": "1"}),
        "admin_webhooks.rotate": lambda: (f"/admin/webhooks/{hook()}/rotate", {}),
        "admin_webhooks.test": lambda: (f"/admin/webhooks/{hook()}/test", {}),
        "admin_webhooks.retry": delivery_failure,
        "admin_api.create": lambda: ("/admin/api-clients", {
            "name": "crm", "scopes": ["read"], "acting_user": "", "rate_limit": "60"}),
        "admin_api.edit": lambda: ("/admin/api-clients/1", {
            "name": "crm", "scopes": ["read", "intake"], "acting_user": "",
            "rate_limit": "120"}),
        "admin_api.new_token": lambda: ("/admin/api-clients/1/token", {}),
        "admin_api.revoke": lambda: ("/admin/api-clients/1/revoke", {}),
    }


def admin_posts(app: Flask) -> set[str]:
    """The endpoints of every POST route of the administration blueprints."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or set())
            and rule.endpoint.rpartition(".")[0] in ADMIN_BLUEPRINTS}


def count() -> int:
    """How many events the system log holds."""
    db.session.remove()
    return int(db.session.scalar(select(func.count()).select_from(SystemEvent)) or 0)


def test_every_admin_post_writes_the_chained_system_log(app: Flask, auth) -> None:
    _APP[:] = [app]
    walk = steps()
    assert admin_posts(app) == set(walk), "give each admin POST route a step in the walk"
    make_user("lina", "process_owner")
    admin: FlaskClient = auth.signed_in("root", "admin")
    file_complaint_now()  # an e-mail in the outbox
    silent = []
    for endpoint, step in walk.items():
        path, data = step()
        before = count()
        answer = post(admin, path, data)
        assert answer.status_code in (200, 201, 302), \
            f"{endpoint}: {answer.status_code} {answer.get_data(as_text=True)[:1500]}"
        newer = db.session.scalars(select(SystemEvent).order_by(SystemEvent.id.desc())
                                   .limit(count() - before)).all()
        if not newer or "root" not in {event.actor for event in newer}:
            silent.append(endpoint)
    assert silent == []
    assert system_log.verify().problems == []
