"""Audit sampling: draw a reproducible sample of closed cases and work through its checklist."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from ..access import AUDIT_SAMPLES, current_actor, guard
from ..errors import InvalidInput
from ..services import audit_samples, tables

bp = Blueprint("audit_samples", __name__, url_prefix="/audit/samples")

guard(bp, AUDIT_SAMPLES)  # auditors and complaints managers


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    return exc.field_errors or {"_form": [exc.message]}


def _index(form: audit_samples.DrawForm, errors: dict[str, list[str]],
           status: int = 200) -> ResponseReturnValue:
    return render_template("audit/samples.html", samples=audit_samples.samples(), form=form,
                           errors=errors, max_size=audit_samples.MAX_SIZE), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """The samples drawn so far, and the form to draw one (a seed may be given to redraw)."""
    return _index(audit_samples.DrawForm.from_values(request.args) if request.args
                  else audit_samples.DrawForm(), {})


@bp.post("/")
def draw() -> ResponseReturnValue:
    """Draw a sample of closed cases for a period."""
    form = audit_samples.DrawForm.from_values(request.form)
    try:
        sample = audit_samples.draw(form, current_actor())
    except InvalidInput as exc:
        return _index(form, _errors(exc), 422)
    flash(_("Sample drawn with seed %(seed)s.", seed=sample.seed), "success")
    return redirect(url_for("audit_samples.show", sample_id=sample.id))


@bp.get("/<int:sample_id>")
def show(sample_id: int) -> ResponseReturnValue:
    """A sample's cases, in drawn order, with how far each checklist is."""
    return render_template("audit/sample.html", sample=audit_samples.get(sample_id),
                           cases=audit_samples.cases_of(sample_id),
                           checklist=audit_samples.CHECKLIST)


@bp.route("/<int:sample_id>/cases/<int:position>", methods=["GET", "POST"])
def checklist(sample_id: int, position: int) -> ResponseReturnValue:
    """The checklist of one sampled case: pass, fail or not applicable, and a note per item."""
    sample = audit_samples.get(sample_id)
    if request.method == "GET":
        return _checklist(sample, audit_samples.sampled_case(sample_id, position), None, {})
    try:
        audit_samples.save_checklist(sample_id, position, request.form, current_actor())
    except InvalidInput as exc:
        return _checklist(sample, audit_samples.sampled_case(sample_id, position),
                          request.form, _errors(exc), 422)
    flash(_("Checklist saved."), "success")
    following = position + 1 if position < len(audit_samples.cases_of(sample_id)) else None
    if following and "next" in request.form:
        return redirect(url_for("audit_samples.checklist", sample_id=sample_id,
                                position=following))
    return redirect(url_for("audit_samples.show", sample_id=sample_id))


def _checklist(sample: Any, current: audit_samples.SampledCase, posted: Any,
               errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    values = {}
    for item in audit_samples.ITEMS:
        check = current.checks.get(item)
        values[item] = ((posted.get(f"{item}-result", ""), posted.get(f"{item}-note", ""))
                        if posted is not None else
                        (check.result if check else "", (check.note or "") if check else ""))
    return render_template("audit/checklist.html", sample=sample, current=current,
                           checklist=audit_samples.CHECKLIST, values=values, errors=errors,
                           total=len(audit_samples.cases_of(sample.id))), status


@bp.post("/<int:sample_id>/export.<any(csv, xlsx):extension>")
def export(sample_id: int, extension: str) -> ResponseReturnValue:
    """The sample's findings as CSV or XLSX (a POST: the export is recorded in the log)."""
    body = audit_samples.export(sample_id, extension, current_actor(),
                                rtl=str(get_locale()) == "ar")
    content_type = tables.CSV_TYPE if extension == "csv" else tables.XLSX_TYPE
    return Response(body, headers=tables.download_headers(
        f"audit-sample-{sample_id}.{extension}", content_type))
