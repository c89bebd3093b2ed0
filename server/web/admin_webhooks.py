"""Webhook subscriptions: adding and changing them, their secrets, and the delivery log."""

from __future__ import annotations

from math import ceil
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..access import MANAGE_WEBHOOKS, current_actor, guard
from ..errors import InvalidInput
from ..models.webhook import STATUSES, WebhookSubscription
from ..services import events, system_log, webhooks
from .inputs import page_number

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
EVENT_LABELS = {
    events.CASE_CREATED: _l("A case was created"),
    events.TASK_READY: _l("A task is ready for someone"),
    events.TASK_COMPLETED: _l("A task was completed"),
    events.REMINDER: _l("A deadline is near (reminder)"),
    events.BREACHED: _l("A deadline passed"),
    events.CASE_CLOSED: _l("A case was closed"),
    events.CASE_REOPENED: _l("A case was reopened"),
    events.INCIDENT_OPENED: _l("A case stopped on an incident"),
}

guard(bp, MANAGE_WEBHOOKS)


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    return exc.field_errors or {"_form": [exc.message]}


@bp.get("/")
def index() -> ResponseReturnValue:
    """Every subscription, with its deliveries counted by status."""
    return render_template("admin/webhooks.html", subscriptions=webhooks.listing(),
                           labels=EVENT_LABELS,
                           changes=system_log.recent("webhook.", limit=10))


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add a subscription; its secret is shown once, on the page that answers."""
    if request.method == "GET":
        return _form_page(None, {"active": True, "event_types": []}, {})
    form = _kept(request.form)
    try:
        subscription, secret = webhooks.create(webhooks.clean(request.form), current_actor())
    except InvalidInput as exc:
        return _form_page(None, form, _errors(exc), 422)
    return _secret_page(subscription, secret, created=True)


@bp.route("/<int:subscription_id>", methods=["GET", "POST"])
def edit(subscription_id: int) -> ResponseReturnValue:
    """A subscription's settings, actions and delivery log; saving changes the settings."""
    subscription = webhooks.get(subscription_id)
    if request.method == "GET":
        return _form_page(subscription, _kept_of(subscription), {})
    form = _kept(request.form)
    try:
        webhooks.update(subscription.id, webhooks.clean(request.form, subscription.id),
                        current_actor())
    except InvalidInput as exc:
        return _form_page(subscription, form, _errors(exc), 422)
    flash(_("Subscription %(name)s saved.", name=subscription.name), "success")
    return redirect(url_for("admin_webhooks.edit", subscription_id=subscription.id))


@bp.post("/<int:subscription_id>/active")
def switch(subscription_id: int) -> ResponseReturnValue:
    """Switch a subscription off (it gets no new events) or on again."""
    active = request.form.get("active") == "1"
    subscription = webhooks.set_active(subscription_id, active, current_actor())
    flash(_("Subscription %(name)s is switched on.", name=subscription.name) if active else
          _("Subscription %(name)s is switched off: it gets no new events.",
            name=subscription.name), "info")
    return redirect(url_for("admin_webhooks.edit", subscription_id=subscription_id))


@bp.post("/<int:subscription_id>/rotate")
def rotate(subscription_id: int) -> ResponseReturnValue:
    """Give a subscription a new secret, shown once; the old one stops working at once."""
    subscription, secret = webhooks.rotate(subscription_id, current_actor())
    return _secret_page(subscription, secret, created=False)


@bp.post("/<int:subscription_id>/test")
def test(subscription_id: int) -> ResponseReturnValue:
    """Queue a test event for the subscription."""
    webhooks.send_test(subscription_id, current_actor())
    flash(_("A test event is queued: it goes out at the next delivery run, and the log below "
            "shows how it went."), "success")
    return redirect(url_for("admin_webhooks.edit", subscription_id=subscription_id))


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int) -> ResponseReturnValue:
    """Try a failed delivery again at the next delivery run."""
    try:
        delivery = webhooks.retry(delivery_id, current_actor())
    except InvalidInput as exc:
        flash(exc.message, "danger")
        back = request.form.get("subscription", type=int) or 0
        return redirect(url_for("admin_webhooks.edit", subscription_id=back)
                        if back else url_for("admin_webhooks.index"))
    flash(_("Delivery %(id)d will be tried again at the next delivery run.", id=delivery_id),
          "success")
    return redirect(url_for("admin_webhooks.edit", subscription_id=delivery.subscription_id))


def _kept(form: Any) -> dict[str, Any]:
    """What was typed, to show again with the errors."""
    return {"name": form.get("name", ""), "url": form.get("url", ""),
            "event_types": form.getlist("event_types"),
            "personal_data": bool(form.get("personal_data")),
            "active": bool(form.get("active"))}


def _kept_of(subscription: WebhookSubscription) -> dict[str, Any]:
    return {"name": subscription.name, "url": subscription.url,
            "event_types": subscription.types, "personal_data": subscription.personal_data,
            "active": subscription.active}


def _form_page(subscription: WebhookSubscription | None, form: dict[str, Any],
               errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    """The form page; for a subscription also its actions and delivery log."""
    context: dict[str, Any] = {}
    if subscription is not None:
        state = request.args.get("status", "")
        state = state if state in STATUSES else ""
        page = page_number(request.args.get("page"))
        rows, total = webhooks.deliveries(subscription.id, state or None, page)
        context = {"deliveries": rows, "total": total, "page": page, "status": state,
                   "pages": max(1, ceil(total / webhooks.PER_PAGE))}
    return render_template("admin/webhook_form.html", subscription=subscription, form=form,
                           errors=errors, labels=EVENT_LABELS, **context), status


def _secret_page(subscription: WebhookSubscription, secret: str,
                 created: bool) -> ResponseReturnValue:
    """The one page that shows a subscription's secret; never cached."""
    page = render_template("admin/webhook_secret.html", subscription=subscription,
                           secret=secret, created=created)
    return page, 200, {"Cache-Control": "no-store"}
