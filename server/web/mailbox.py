"""The Mailbox page: e-mails read from the complaints mailbox, and those kept for a person.

Staff who record complaints (the record_complaint capability) work it: a kept e-mail is
intake work, and they are the people who file complaints that came by e-mail. The raw
message is only ever a download, never shown as HTML.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ..access import RECORD_COMPLAINT, current_actor, guard
from ..errors import PlaintError
from ..models.inbound_mail import HELD, OUTCOMES
from ..services import mail_review
from ..services.records import CaseRecord
from .inputs import page_number

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
guard(bp, RECORD_COMPLAINT)


@bp.get("")
def index() -> ResponseReturnValue:
    """The e-mails with one outcome (those kept for a person first), with counts."""
    outcome = request.args.get("outcome", HELD)
    outcome = outcome if outcome in OUTCOMES else HELD
    page = page_number(request.args.get("page"))
    rows, pages = mail_review.listing(outcome, page)
    return render_template("mailbox/index.html", rows=rows, pages=pages, page=page,
                           outcome=outcome, outcomes=OUTCOMES, counts=mail_review.counts(),
                           reader=mail_review.reader(),
                           host=current_app.config.get("PLAINT_MAILBOX_HOST"))


@bp.get("/<int:mail_id>")
def show(mail_id: int) -> ResponseReturnValue:
    """One e-mail: why it is here, its text, its files, and what can be done with it."""
    return _page(mail_id, {}, 200)


def _page(mail_id: int, errors: dict[str, list[str]], status: int,
          **values: str) -> ResponseReturnValue:
    mail = mail_review.get(mail_id)
    return render_template("mailbox/show.html", mail=mail, read=mail_review.reading(mail),
                           reference=mail_review.case_reference(mail), errors=errors,
                           values=values, held=mail.outcome == HELD), status


@bp.get("/<int:mail_id>/raw")
def raw(mail_id: int) -> ResponseReturnValue:
    """The message as received, as an .eml download (never rendered by the browser)."""
    mail = mail_review.get(mail_id)
    return Response(mail.raw or b"", headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="mail-{mail.id}.eml"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store"})


@bp.post("/<int:mail_id>/add")
def add(mail_id: int) -> ResponseReturnValue:
    """Add a kept e-mail to a case named by its reference."""
    reference = request.form.get("reference", "")[:100]
    try:
        refused = mail_review.add_to_case(mail_id, reference, current_actor())
    except PlaintError as exc:
        flash(exc.message, "danger")
        return _page(mail_id, getattr(exc, "field_errors", {}),
                     exc.status, reference=reference)
    _refused(refused)
    flash(_("The e-mail was added to %(reference)s.", reference=reference.strip().upper()),
          "success")
    return redirect(url_for("mailbox.show", mail_id=mail_id))


@bp.post("/<int:mail_id>/discard")
def discard(mail_id: int) -> ResponseReturnValue:
    """Set a kept e-mail aside, with the reason (logged)."""
    reason = request.form.get("reason", "")[:2000]
    try:
        mail_review.discard(mail_id, reason, current_actor())
    except PlaintError as exc:
        flash(exc.message, "danger")
        return _page(mail_id, getattr(exc, "field_errors", {}),
                     exc.status, reason=reason)
    flash(_("The e-mail was discarded."), "success")
    return redirect(url_for("mailbox.index"))


def _refused(refused: list[str]) -> None:
    if refused:
        flash(ngettext("A document of the e-mail was not kept: %(why)s",
                       "%(num)d documents of the e-mail were not kept: %(why)s",
                       len(refused), why=" ".join(refused)), "warning")


def linking(mail_id: int) -> Callable[[CaseRecord], None]:
    """What staff intake writes with the case it makes from a kept e-mail."""
    actor = current_actor()
    return lambda case: mail_review.link_case(mail_id, case.id, actor)


def filed(mail_id: int, reference: str) -> None:
    """A kept e-mail became a case through staff intake: add its files, say what was refused."""
    _refused(mail_review.attach_files(mail_id, reference, current_actor()))
