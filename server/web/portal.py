"""Complaints in: the public intake form, staff intake, and the complainant's tracking page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ..formkit import render_fields
from ..services import cases, portal
from ..services.actors import Actor
from .access import CASE_WRITERS, actor, roles_required
from .forms import Submission, submit

bp = Blueprint("portal", __name__)
STAFF_CHANNELS = ("phone", "walk_in", "letter", "email")


def _intake(received_by: str, who: Actor, template: str, **extra: Any) -> ResponseReturnValue:
    schema, ui = cases.intake_form()
    sent = Submission()
    if request.method == "POST":
        sent = submit(schema, ui, request.form,
                      lambda values: cases.start_case(values, received_by, who))
        if sent.ok:
            token = portal.issue_tracking_token(sent.result.id)
            # Shown once on the next page; never put in a URL that ends up in logs.
            session["submitted"] = {"reference": sent.result.reference, "token": token}
            return redirect(url_for("portal.submitted"))
    return render_template(template, fields=render_fields(schema, ui, sent.values, sent.errors),
                           form_title=schema.get("title"), description=schema.get("description"),
                           status=sent.status, **extra), sent.status


@bp.route("/complaints/new", methods=["GET", "POST"])
def new_complaint() -> ResponseReturnValue:
    """The public complaint form: no account needed, no charge."""
    return _intake("web", Actor.complainant(), "portal/new.html")


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(*CASE_WRITERS)
def staff_intake() -> ResponseReturnValue:
    """Staff record a complaint received by phone, in person, by letter or e-mail."""
    channel = request.form.get("channel") or request.args.get("channel") or "phone"
    if channel not in STAFF_CHANNELS:
        channel = "phone"
    return _intake(channel, actor(), "portal/staff_new.html", channel=channel,
                   channels=STAFF_CHANNELS)


@bp.get("/complaints/submitted")
def submitted() -> ResponseReturnValue:
    """The reference and the secret tracking link, shown once after submitting."""
    done = session.pop("submitted", None)
    if not done:
        return redirect(url_for("public.index"))
    link = url_for("portal.track", token=done["token"], _external=True)
    return render_template("portal/submitted.html", reference=done["reference"], link=link)


@bp.get("/track/<token>")
def track(token: str) -> ResponseReturnValue:
    """Where a complaint stands: public status history, the next expected date, questions."""
    case = portal.case_for_token(token)
    return _track_page(case, token, portal.questions(case), None, Submission())


@bp.post("/track/<token>/<message>")
def answer(token: str, message: str) -> ResponseReturnValue:
    """Answer what the process asks (e.g. whether the response is accepted)."""
    case = portal.case_for_token(token)
    asked = portal.questions(case)
    question = next((q for q in asked if q["message"] == message), None)
    if question is None:
        return _track_page(case, token, asked, message, Submission(
            errors={"_form": [portal.NOT_ASKED]}, status=409))
    sent = submit(question["schema"], question["ui"], request.form,
                  lambda values: portal.answer(case, question, values))
    if sent.ok:
        return redirect(url_for("portal.track", token=token, answered=1))
    return _track_page(case, token, asked, message, sent)


def _track_page(case: Any, token: str, asked: list[dict[str, Any]], message: str | None,
                sent: Submission) -> ResponseReturnValue:
    forms = [dict(q, fields=render_fields(q["schema"], q["ui"],
                                          sent.values if q["message"] == message else {},
                                          sent.errors if q["message"] == message else {},
                                          prefix=f"{q['message']}-"))
             for q in asked]
    return render_template("portal/track.html", case=case, token=token, forms=forms,
                           history=portal.public_history(case),
                           expected=portal.next_expected(case) if case.is_open else None,
                           answered=request.args.get("answered") and sent.ok), sent.status
