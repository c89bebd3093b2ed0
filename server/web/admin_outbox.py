"""The outbox page: every e-mail Plaint wrote, whether it went out, and sending it again."""

from __future__ import annotations

from math import ceil

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..access import READ_OUTBOX, RESEND_MAIL, can, current_actor, guard, requires
from ..errors import InvalidInput
from ..models.outbox import FAILED, HELD, STATUSES
from ..services import outbox
from .inputs import page_number

bp = Blueprint("admin_outbox", __name__, url_prefix="/admin")


guard(bp, READ_OUTBOX)  # administrators and auditors read it; only administrators send again


@bp.get("/outbox")
def outbox_list() -> ResponseReturnValue:
    """The e-mails, newest first, filtered by status, a page at a time."""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    page = page_number(request.args.get("page"))
    rows, total = outbox.listing(status or None, page)
    return render_template("admin/outbox.html", rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / outbox.PER_PAGE)), status=status,
                           counts=outbox.counts(), redact=outbox.redact,
                           smtp_host=current_app.config.get("PLAINT_SMTP_HOST"))


@bp.get("/outbox/<int:message_id>")
def outbox_message(message_id: int) -> ResponseReturnValue:
    """One e-mail as it was written: text, HTML (sandboxed) and its delivery attempts."""
    message, reference = outbox.get(message_id)
    return render_template(
        "admin/outbox_message.html", message=message, reference=reference,
        subject=outbox.redact(message.subject), text=outbox.redact(message.body_text),
        html=outbox.redact(message.body_html), attached=outbox.attachments_of(message.id),
        can_retry=can(current_user, RESEND_MAIL) and message.status in (FAILED, HELD))


@bp.post("/outbox/<int:message_id>/retry")
@requires(RESEND_MAIL)
def retry(message_id: int) -> ResponseReturnValue:
    """Send a failed or held e-mail again at the next delivery run."""
    try:
        outbox.retry(message_id, by=current_actor())
    except InvalidInput as exc:
        flash(exc.message, "danger")
    else:
        flash(_("E-mail %(id)d will be sent again at the next delivery run.", id=message_id),
              "success")
    return redirect(url_for("admin_outbox.outbox_message", message_id=message_id))
