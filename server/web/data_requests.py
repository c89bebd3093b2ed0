"""Data-subject requests: the list, recording one, a request's page with what Plaint holds
about the person, the copy as a ZIP, and erasure."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import DATA_REQUESTS, current_actor, requires
from ..errors import InvalidInput
from ..models.data_request import REQUEST_KINDS
from ..services import cases, data_requests, history

bp = Blueprint("data_requests", __name__)


@bp.get("/data-requests")
@requires(DATA_REQUESTS)
def index() -> ResponseReturnValue:
    """Every request, open ones first."""
    return render_template("data_requests/index.html", rows=data_requests.listing())


@bp.route("/data-requests/new", methods=["GET", "POST"])
@requires(DATA_REQUESTS)
def new() -> ResponseReturnValue:
    """Record a request: who asks, how to reach them, what for, how identity is checked."""
    form = data_requests.NewRequest.from_values(request.form if request.method == "POST"
                                                else request.args)
    if request.method == "POST":
        try:
            case = data_requests.open_request(form, current_actor())
        except InvalidInput as exc:
            return _new_page(form, exc.field_errors), 422
        flash(_("Request %(ref)s recorded.", ref=case.reference), "success")
        return redirect(url_for("data_requests.show", reference=case.reference))
    return _new_page(form, {})


def _new_page(form: data_requests.NewRequest, errors: dict[str, list[str]]) -> str:
    return render_template("data_requests/new.html", form=form, errors=errors,
                           kinds=REQUEST_KINDS)


@bp.get("/data-requests/<reference>")
@requires(DATA_REQUESTS)
def show(reference: str) -> ResponseReturnValue:
    """A request: who, what, its tasks and deadline, and everything held about the person."""
    return _page(reference, None)


@bp.post("/data-requests/<reference>/export")
@requires(DATA_REQUESTS)
def export(reference: str) -> ResponseReturnValue:
    """The person's data as a ZIP to give them (noted in the request and system log)."""
    name, content = data_requests.export(reference, current_actor())
    return Response(content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@bp.post("/data-requests/<reference>/erase")
@requires(DATA_REQUESTS)
def erase(reference: str) -> ResponseReturnValue:
    """Erase the person's own closed cases; the page then says what was erased and kept."""
    try:
        outcomes = data_requests.erase(reference, current_actor())
    except InvalidInput as exc:
        flash(str(exc), "danger")
        return redirect(url_for("data_requests.show", reference=reference))
    return _page(reference, outcomes)


def _page(reference: str, outcomes: list[data_requests.Outcome] | None) -> str:
    case, row = data_requests.get(reference)
    return render_template("data_requests/show.html", case=case, row=row,
                           found=data_requests.holdings(reference),
                           tasks=cases.ready_tasks(case), history=history.for_case(case),
                           outcomes=outcomes)
