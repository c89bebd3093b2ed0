"""Case pages: search, the whole case with its history, and internal notes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..errors import InvalidInput
from ..services import audit, cases
from .access import CASE_READERS, CASE_WRITERS, actor, roles_required

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@roles_required(*CASE_READERS)
def search() -> ResponseReturnValue:
    """Find cases by reference, name, e-mail or words of the description."""
    query = request.args.get("q", "").strip()[:200]
    results = cases.search(query) if query else cases.recent()
    return render_template("cases/search.html", query=query, results=results)


@bp.get("/cases/<reference>")
@roles_required(*CASE_READERS)
def show(reference: str) -> ResponseReturnValue:
    """Every field of a case, its open tasks and its history."""
    case = cases.get_case(reference)
    return render_template("cases/show.html", case=case, tasks=cases.ready_tasks(case),
                           history=audit.history(case), note="", errors={})


@bp.post("/cases/<reference>/notes")
@roles_required(*CASE_WRITERS)
def add_note(reference: str) -> ResponseReturnValue:
    """Add an internal note (never shown to the complainant) to the case history."""
    text = request.form.get("note", "")
    try:
        cases.add_note(reference, text, actor())
    except InvalidInput as exc:
        case = cases.get_case(reference)
        return render_template("cases/show.html", case=case, tasks=cases.ready_tasks(case),
                               history=audit.history(case), note=text,
                               errors=exc.field_errors), 422
    flash(_("Note added."), "success")
    return redirect(url_for("cases.show", reference=reference) + "#history")
