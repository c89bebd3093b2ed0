"""The corrective-action register (ISO 10002 8.7): the list, its files, an action's page,
opening one by hand and linking complaints to it."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ..access import MANAGE_ACTIONS, READ_REPORTS, current_actor, requires
from ..errors import InvalidInput
from ..models import utcnow
from ..services import action_register, actions, audit, cases, code_lists, history, tables

bp = Blueprint("actions", __name__)


@bp.get("/actions")
@requires(READ_REPORTS)
def register() -> ResponseReturnValue:
    """The register: every action with its owner, status, due date and recurrence."""
    try:
        chosen = action_register.RegisterFilter.from_args(request.args)
    except InvalidInput as exc:
        return render_template("actions/register.html", chosen=None, table=None,
                               errors=exc.field_errors, args=request.args,
                               causes=code_lists.choices("causes")), 400
    return render_template("actions/register.html", chosen=chosen,
                           table=action_register.table(chosen), errors={}, args=request.args,
                           causes=code_lists.choices("causes"))


@bp.get("/actions.<any(csv, xlsx):extension>")
@requires(READ_REPORTS)
def download(extension: str) -> ResponseReturnValue:
    """The register, with the page's filters, as a CSV or XLSX file."""
    try:
        chosen = action_register.RegisterFilter.from_args(request.args)
    except InvalidInput as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    table = action_register.table(chosen)
    name = f"corrective-actions-{utcnow():%Y%m%d-%H%M}.{extension}"
    if extension == "csv":
        return Response(tables.csv_bytes(table),
                        headers=tables.download_headers(name, tables.CSV_TYPE))
    return Response(tables.xlsx_bytes([table]),
                    headers=tables.download_headers(name, tables.XLSX_TYPE))


@bp.route("/actions/new", methods=["GET", "POST"])
@requires(MANAGE_ACTIONS)
def new() -> ResponseReturnValue:
    """Open a corrective action by hand, optionally linking complaints."""
    form = actions.NewAction.from_values(request.form if request.method == "POST"
                                         else request.args)
    if request.method == "POST":
        try:
            action = actions.open_by_hand(form, current_actor())
        except InvalidInput as exc:
            return _new_page(form, exc.field_errors), 422
        flash(_("Corrective action %(ref)s opened.", ref=action.reference), "success")
        return redirect(url_for("actions.show", reference=action.reference))
    return _new_page(form, {})


def _new_page(form: actions.NewAction, errors: dict[str, list[str]]) -> str:
    return render_template("actions/new.html", form=form, errors=errors,
                           causes=code_lists.choices("causes"))


@bp.get("/actions/<reference>")
@requires(READ_REPORTS, or_record=action_register.works_on_action)
def show(reference: str) -> ResponseReturnValue:
    """An action: what it is, its linked complaints, tasks, effectiveness and history."""
    return _page(reference)


def _page(reference: str, complaints: str = "", errors: dict[str, list[str]] | None = None,
          status: int = 200) -> ResponseReturnValue:
    case, action = action_register.get(reference)
    events = audit.history(case)
    return render_template(
        "actions/show.html", case=case, action=action,
        cause_label=code_lists.label("causes", action.cause),
        complaints=action_register.linked_complaints(case.id), tasks=cases.ready_tasks(case),
        recurrence=action_register.recurrence(action), history=history.for_case(case, events),
        typed=complaints, errors=errors or {}), status


@bp.post("/actions/<reference>/link")
@requires(MANAGE_ACTIONS)
def link(reference: str) -> ResponseReturnValue:
    """Link complaints, by reference, to an action."""
    typed = request.form.get("complaints", "")
    try:
        linked = actions.link(reference, typed, current_actor())
    except InvalidInput as exc:
        return _page(reference, typed, exc.field_errors, 422)
    flash(ngettext("%(num)d complaint linked.", "%(num)d complaints linked.", len(linked)),
          "success")
    return redirect(url_for("actions.show", reference=reference) + "#complaints")


@bp.post("/actions/<reference>/unlink")
@requires(MANAGE_ACTIONS)
def unlink(reference: str) -> ResponseReturnValue:
    """Take a complaint off an action."""
    complaint = request.form.get("complaint", "")
    try:
        actions.unlink(reference, complaint, current_actor())
    except InvalidInput as exc:
        return _page(reference, errors={"complaints": [str(exc)]}, status=422)
    flash(_("%(ref)s unlinked.", ref=complaint), "success")
    return redirect(url_for("actions.show", reference=reference) + "#complaints")
