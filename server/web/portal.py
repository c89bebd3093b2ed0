"""Complaints in: the public intake form, staff intake, and the complainant's tracking page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ..errors import Conflict, InvalidInput
from ..formkit import parse_submission, render_fields
from ..services import cases, portal
from ..services.actors import Actor
from .access import CASE_WRITERS, actor, roles_required

bp = Blueprint("portal", __name__)
STAFF_CHANNELS = ("phone", "walk_in", "letter", "email")


def _intake(received_by: str, who: Actor, template: str, **extra: Any) -> ResponseReturnValue:
    schema, ui = cases.intake_form()
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = parse_submission(schema, ui, request.form)
        try:
            case = cases.start_case(values, received_by, who)
        except InvalidInput as exc:
            errors, status = exc.field_errors or {"_form": [exc.message]}, 422
        else:
            token = portal.issue_tracking_token(case.id)
            # Shown once on the next page; never put in a URL that ends up in logs.
            session["submitted"] = {"reference": case.reference, "token": token}
            return redirect(url_for("portal.submitted"))
    return render_template(template, fields=render_fields(schema, ui, values, errors),
                           form_title=schema.get("title"), description=schema.get("description"),
                           status=status, **extra), status


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
    return _track_page(token, {}, {}, None, 200)


@bp.post("/track/<token>/<message>")
def answer(token: str, message: str) -> ResponseReturnValue:
    """Answer what the process asks (e.g. whether the response is accepted)."""
    case = portal.case_for_token(token)
    asked = {q["message"]: q for q in portal.questions(case)}
    values = parse_submission(asked[message]["schema"], asked[message]["ui"], request.form) \
        if message in asked else {}
    try:
        portal.answer(token, message, values)
    except InvalidInput as exc:
        return _track_page(token, values, exc.field_errors or {"_form": [exc.message]},
                           message, 422)
    except Conflict as exc:
        return _track_page(token, values, {"_form": [exc.message]}, message, 409)
    return redirect(url_for("portal.track", token=token, answered=1))


def _track_page(token: str, values: dict[str, Any], errors: dict[str, list[str]],
                message: str | None, status: int) -> ResponseReturnValue:
    case = portal.case_for_token(token)
    forms = [dict(q, fields=render_fields(q["schema"], q["ui"],
                                          values if q["message"] == message else {},
                                          errors if q["message"] == message else {},
                                          prefix=f"{q['message']}-"))
             for q in portal.questions(case)]
    return render_template("portal/track.html", case=case, token=token, forms=forms,
                           history=portal.public_history(case),
                           expected=portal.next_expected(case) if case.is_open else None,
                           answered=request.args.get("answered") and status == 200), status
