"""The inbox: my tasks, unclaimed tasks of my roles, and (supervisors) everyone's."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import WORK_TASKS, current_actor, requires
from ..errors import NotFound, PlaintError
from ..services import choice_titles, inbox, lookups
from .inputs import page_number, same_site

bp = Blueprint("inbox", __name__)


@bp.get("/tasks")
@requires(WORK_TASKS)
def index() -> ResponseReturnValue:
    """The inbox, filtered and sorted as the query string says."""
    with lookups.read_once():  # the filter, the rows and the options name categories
        return _index()


def _index() -> ResponseReturnValue:
    """index()'s work."""
    args = request.args
    actor = current_actor()
    counts = inbox.counts(actor)
    # Without a view asked for, open where work waits: one's own, else the unclaimed.
    asked = args.get("view", "")
    view = asked if asked in inbox.VIEWS else inbox.landing(counts)
    # A category asked for by its code (links) or by its title (typed): the code from here.
    category = choice_titles.code_for(inbox.CATEGORY, args.get("category"))
    page = inbox.inbox(actor, view=view,
                       priority=args.get("priority") or None,
                       category=category,
                       status=args.get("status") or None,
                       sort=str(args.get("sort")) if args.get("sort") in inbox.SORTS else "due",
                       page=page_number(args.get("page")), counted=counts)
    # htmx asks for the rows alone (filters, paging, claim and release without a reload);
    # restoring history it asks for the whole page.
    partial = request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-History-Restore-Request") != "true"
    return render_template("inbox/_results.html" if partial else "inbox/index.html",
                           page=page, view=view, args=args, views=inbox.VIEWS, counts=counts,
                           sorts=inbox.SORTS, partial=partial,
                           priorities=inbox.PRIORITIES, category=category,
                           categories=choice_titles.choices(inbox.CATEGORY),
                           statuses={} if partial else inbox.statuses()), \
        200, {"Vary": "HX-Request"}


@bp.post("/cases/<reference>/tasks/<task_id>/<action>")
@requires(WORK_TASKS)
def act(reference: str, task_id: str, action: str) -> ResponseReturnValue:
    """Claim, release or reassign a task, then go back where the person came from."""
    if action not in ("claim", "release", "reassign"):
        raise NotFound(_("No such action: use claim, release or reassign."))
    try:
        if action == "claim":
            inbox.claim(reference, task_id, current_actor())
            flash(_("The task is yours."), "success")
        elif action == "release":
            inbox.release(reference, task_id, current_actor())
            flash(_("The task is back with the team."), "info")
        elif action == "reassign":
            inbox.reassign(reference, task_id, request.form.get("username", ""), current_actor())
            flash(_("The task was reassigned."), "success")
    except PlaintError as exc:
        flash(exc.message, "danger")
    return redirect(same_site(request.form.get("back"), url_for("inbox.index")))
