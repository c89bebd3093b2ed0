"""Complaints in: the public intake form, staff intake, and the complainant's tracking page."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ..access import RECORD_COMPLAINT, current_actor, public, requires
from ..errors import InvalidInput, NotFound, PlaintError, ProcessFailed, TooManyAttempts
from ..formkit import render_fields, submit_options
from ..models import Case
from ..security import takes_documents
from ..services import (
    attachments,
    cases,
    code_lists,
    intake,
    letters,
    mail_review,
    portal,
    processes,
    recovery,
)
from ..services.actors import Actor
from ..services.localtime import organisation_zone
from . import mailbox
from .auth import client_address
from .forms import Submission, submit
from .language import process_form, process_text, speak_as

bp = Blueprint("portal", __name__)
STAFF_CHANNELS = ("phone", "walk_in", "letter", "email")
FIELD = attachments.FIELD
SUBMITTED_SHOWN_FOR = 2 * 60 * 60  # seconds the confirmation can be reloaded in one browser


@bp.context_processor
def _document_helpers() -> dict[str, Any]:
    return {"human_size": attachments.human_size, "limits": attachments.Limits.current()}


def _staging_owner() -> str:
    """A secret of this browser session that staged documents are bound to."""
    if "staging_owner" not in session:
        session["staging_owner"] = secrets.token_urlsafe(24)
    return str(session["staging_owner"])


def _shielded(action: Callable[[dict[str, Any]], Any], reference: str | None,
              who: Actor) -> Callable[[dict[str, Any]], Any]:
    """`action`, but a failing diagram shows the complainant a plain message, not its text.

    The cause (an expression, a script) is for staff and the process owner: staff see it
    on the page, the complainant gets a short error number to quote and the log keeps it.
    """
    if who.kind == "staff":
        return action

    def run(values: dict[str, Any]) -> Any:
        """Run the action; a failing process becomes the plain message."""
        try:
            return action(values)
        except ProcessFailed as exc:
            number = secrets.token_hex(4)
            current_app.logger.error("error %s: the process failed for a complainant "
                                     "(case %s): %s", number, reference or "not yet filed",
                                     exc.message)
            if reference:
                message = _("Your answer could not be taken because of a problem on our "
                            "side. What you entered is still in the form: try again later, "
                            "or contact us with your case reference %(reference)s and error "
                            "number %(number)s.", reference=reference, number=number)
            else:
                message = _("Your complaint could not be registered because of a problem on "
                            "our side. What you entered is still in the form: try again "
                            "later, or contact us with error number %(number)s.",
                            number=number)
            raise ProcessFailed(message) from None
    return run


def _intake(received_by: str, who: Actor, source: str, template: str, staff: bool = False,
            prefill: dict[str, Any] | None = None, also: Callable[[Any], None] | None = None,
            filed: Callable[[str], None] | None = None, **extra: Any) -> ResponseReturnValue:
    schema, ui = process_form(processes.active_version_id(), *cases.intake_form(staff=staff))
    received = request.form.get(intake.RECEIVED) if staff else None
    sent, staged = Submission(values=prefill or {}), attachments.Staging()
    if request.method == "POST":
        # Documents that pass are kept even when a field has an error: a browser cannot
        # refill a file field, so the re-rendered form lists them instead.
        staged = attachments.stage(_staging_owner(), request.form.get("staged", ""),
                                   request.files.getlist(FIELD), request.form.getlist("unstage"),
                                   who, source)
        sent = submit(schema, ui, request.form, _shielded(lambda values: intake.file_complaint(
            values, received_by, who, staged, received, also), None, who))
        if sent.ok:
            token = sent.result.tracking_token
            # Kept in this browser's session so the confirmation can be reloaded, for a
            # while only; never put in a URL that ends up in logs.
            session["submitted"] = {"reference": sent.result.case.reference, "token": token,
                                    "at": int(time.time())}
            if filed is not None:
                filed(sent.result.case.reference)
            return redirect(url_for("portal.submitted"))
    errors = dict(sent.errors)
    document_errors = errors.pop(FIELD, [])
    received_errors = errors.pop(intake.RECEIVED, [])
    return render_template(template, fields=render_fields(schema, ui, sent.values, errors,
                                                           lists=code_lists.for_form(schema),
                                                           zone=organisation_zone()),
                           form_title=schema.get("title"), description=schema.get("description"),
                           status=sent.status, staged=staged, document_errors=document_errors,
                           received=received or "", received_errors=received_errors,
                           **extra), sent.status


@bp.route("/complaints/new", methods=["GET", "POST"])
@public
@takes_documents
def new_complaint() -> ResponseReturnValue:
    """The public complaint form: no account needed, no charge."""
    return _intake("web", Actor.complainant(), "intake", "portal/new.html")


@bp.route("/cases/new", methods=["GET", "POST"])
@requires(RECORD_COMPLAINT)
def staff_intake() -> ResponseReturnValue:
    """Staff record a complaint received by phone, in person, by letter or e-mail."""
    channel = request.form.get("channel") or request.args.get("channel") or "phone"
    if channel not in STAFF_CHANNELS:
        channel = "phone"
    # From a kept e-mail of the Mailbox page: the form opens filled from it, and the
    # e-mail is marked as filed (its documents follow) once the case is made.
    raw_mail = request.values.get("mail", "")
    mail_id = int(raw_mail) if raw_mail.isdigit() and len(raw_mail) < 10 else None
    prefill = mail_review.intake_prefill(mail_id) \
        if mail_id is not None and request.method == "GET" else None
    return _intake(channel, current_actor(), "staff", "portal/staff_new.html", staff=True,
                   prefill=prefill, also=mailbox.linking(mail_id) if mail_id else None,
                   filed=partial(mailbox.filed, mail_id) if mail_id else None,
                   channel=channel, channels=STAFF_CHANNELS, mail_id=mail_id,
                   zone=intake.received_zone().key)


@bp.get("/complaints/submitted")
@public
def submitted() -> ResponseReturnValue:
    """The reference and the secret tracking link; can be reloaded in this browser for a while."""
    done = session.get("submitted")
    if not done or time.time() - done.get("at", 0) > SUBMITTED_SHOWN_FOR:
        session.pop("submitted", None)
        return redirect(url_for("public.index"))
    link = url_for("portal.track", token=done["token"], _external=True)
    return render_template("portal/submitted.html", reference=done["reference"], link=link)


@bp.route("/track", methods=["GET", "POST"])
@public
def recover() -> ResponseReturnValue:
    """A complainant who lost the tracking link asks for a new one by reference and e-mail."""
    values = {"reference": request.form.get("reference", "")[:100],
              "email": request.form.get("email", "")[:254]}
    if request.method == "GET":
        return render_template("portal/recover.html", values=values, errors={},
                               sent=request.args.get("sent") == "1")
    try:
        recovery.request_new_link(values["reference"], values["email"], client_address())
    except InvalidInput as exc:
        return render_template("portal/recover.html", values=values, errors=exc.field_errors,
                               message=exc.message, sent=False), 422
    except TooManyAttempts as exc:
        return render_template("portal/recover.html", values=values, errors={},
                               message=exc.message, sent=False), 429
    return redirect(url_for("portal.recover", sent=1))


@bp.get("/track/<token>")
@public
def track(token: str) -> ResponseReturnValue:
    """Where a complaint stands: public status history, the next expected date, questions."""
    case = speak_as(portal.case_for_token(token))
    return _track_page(case, token, portal.questions(case), None, Submission())


@bp.post("/track/<token>/<message>")
@public
def answer(token: str, message: str) -> ResponseReturnValue:
    """Answer what the process asks (e.g. whether the response is accepted)."""
    case = speak_as(portal.case_for_token(token))
    asked = _in_language(case, portal.questions(case))
    question = next((q for q in asked if q["message"] == message), None)
    if question is None:
        return _track_page(case, token, asked, message, Submission(
            errors={"_form": [portal.NOT_ASKED]}, status=409))
    sent = submit(question["schema"], question["ui"], request.form, _shielded(
        lambda values: portal.answer(case, question, values), case.reference,
        Actor.complainant()))
    if sent.ok:
        return redirect(url_for("portal.track", token=token, answered=1))
    return _track_page(case, token, asked, message, sent)


@bp.post("/track/<token>/documents/add")
@public
@takes_documents
def add_document(token: str) -> ResponseReturnValue:
    """The complainant sends more documents while the case is open."""
    case = speak_as(portal.case_for_token(token))
    try:
        added = attachments.add_documents(case.reference, request.files.getlist(FIELD),
                                          Actor.complainant(), "tracking")
    except PlaintError as exc:
        added = attachments.Added(errors=[exc.message])
    if added.errors:
        return _track_page(case, token, portal.questions(case), None, Submission(status=422),
                           added)
    flash(ngettext("We have your document.", "We have your %(num)d documents.",
                   len(added.documents)), "success")
    return redirect(url_for("portal.track", token=token) + "#attachments")


@bp.get("/track/<token>/documents/<int:attachment_id>")
@public
def download(token: str, attachment_id: int) -> ResponseReturnValue:
    """One of the case's documents that the complainant may see, as a download."""
    case = speak_as(portal.case_for_token(token))
    document = attachments.for_download(case.id, attachment_id, include_internal=False)
    return Response(document.data, headers=attachments.download_headers(document))


@bp.get("/track/<token>/letter")
@public
def letter(token: str) -> ResponseReturnValue:
    """Our decision letter, printable; a plain 'no decision yet' page before there is one."""
    case = speak_as(portal.case_for_token(token))
    back = url_for("portal.track", token=token)
    try:
        made = letters.decision_letter(case, request.args.get("lang"))
    except NotFound:
        return render_template("letters/no_decision.html", reference=case.reference,
                               back=back), 404, letters.PRIVATE
    return letters.render_html(
        made, back=back, pdf=url_for("portal.letter_pdf", token=token, lang=made.language),
        other=url_for("portal.letter", token=token, lang=letters.other_language(made))), \
        200, letters.PRIVATE


@bp.get("/track/<token>/letter.pdf")
@public
def letter_pdf(token: str) -> ResponseReturnValue:
    """Our decision letter as a PDF to keep (404 while there is no decision)."""
    made = letters.decision_letter(speak_as(portal.case_for_token(token)), request.args.get("lang"))
    return Response(letters.render_pdf(made), headers=letters.pdf_headers(made))


def _in_language(case: Case, asked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions with their forms in the page's language (the complaint's own)."""
    out = []
    for q in asked:
        schema, ui = process_form(case.process_version_id, q["schema"], q["ui"])
        out.append(dict(q, schema=schema, ui=ui))
    return out


def _track_page(case: Case, token: str, asked: list[dict[str, Any]], message: str | None,
                sent: Submission, upload: attachments.Added | None = None) -> ResponseReturnValue:
    forms = [dict(q, title=process_text(case.process_version_id, q["title"]),
                  fields=render_fields(q["schema"], q["ui"],
                                       sent.values if q["message"] == message else {},
                                       sent.errors if q["message"] == message else {},
                                       prefix=f"{q['message']}-",
                                       lists=code_lists.for_form(q["schema"]),
                                       zone=organisation_zone()),
                  button=submit_options(q["ui"]))
             for q in _in_language(case, asked)]
    # What the process asks first; what the complainant may do at any time after, and a
    # form whose button the diagram marks as dangerous (withdrawing) last.
    forms.sort(key=lambda f: (not f["asked"], "danger" in (f["button"][1] or "")))
    return render_template("portal/track.html", case=case, token=token, track_token=token,
                           forms=forms,
                           history=portal.public_history(case),
                           expected=portal.next_expected(case) if case.is_open else None,
                           documents=attachments.for_case(case.id, include_internal=False),
                           upload=upload or attachments.Added(),
                           has_letter=letters.has_decision(case),
                           answered=request.args.get("answered") and sent.ok), sent.status
