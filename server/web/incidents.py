"""The incidents pages: cases stopped because a timer step failed, and retrying them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..access import HANDLE_INCIDENTS, RETRY_INCIDENTS, can, current_actor, guard, requires
from ..errors import Conflict, InvalidInput, ProcessFailed
from ..models import Incident
from ..services import incidents, timers

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
MAX_PAGE = 100_000

guard(bp, HANDLE_INCIDENTS)  # complaints managers, process owners, administrators


@bp.app_template_global()
def open_incident_count() -> int:
    """How many cases are stopped, for the banner of those who handle incidents."""
    return incidents.open_count() if can(current_user, HANDLE_INCIDENTS) else 0


@bp.app_template_global()
def case_incident(case_id: int) -> Incident | None:
    """The incident a case is stopped on, for the banner of its page."""
    return incidents.open_for(case_id)


@bp.get("")
def index() -> ResponseReturnValue:
    """The open incidents (or the closed ones), newest first."""
    closed = request.args.get("closed") == "1"
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1
    rows, total = incidents.listing(not closed, page)
    return render_template("incidents/index.html", rows=rows, total=total, page=page,
                           closed=closed, per_page=incidents.PER_PAGE)


@bp.get("/<int:incident_id>")
def show(incident_id: int) -> ResponseReturnValue:
    """One incident: what failed, where, when, how often; retrying it."""
    incident, reference, version_id = incidents.get(incident_id)
    return render_template("incidents/show.html", incident=incident, reference=reference,
                           version_id=version_id,
                           can_retry=incident.is_open and can(current_user, RETRY_INCIDENTS))


@bp.post("/<int:incident_id>/retry")
@requires(RETRY_INCIDENTS)
def retry(incident_id: int) -> ResponseReturnValue:
    """Run the stopped case's timers again now; say whether it moved on."""
    try:
        incident = timers.retry_incident(incident_id, current_actor())
    except (ProcessFailed, InvalidInput, Conflict) as exc:  # no such incident: a 404
        flash(exc.message, "danger")
    else:
        flash(_("Incident %(id)d is closed: %(how)s.", id=incident_id,
                how=incident.resolution or _("the case moved on")), "success")
    return redirect(url_for("incidents.show", incident_id=incident_id))
