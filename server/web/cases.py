"""Case pages: search, the whole case with its history, internal notes and documents."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wsgi import wrap_file

from ..access import (
    MARK_CONFIDENTIAL,
    READ_CASES,
    REOPEN_CASES,
    SUPERVISE,
    WRITE_CASES,
    current_actor,
    requires,
)
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Case, utcnow
from ..services import (
    action_register,
    attachments,
    audit,
    case_context,
    case_export,
    cases,
    confidential,
    export,
    history,
    letters,
    ownership,
    reopening,
    tables,
    tasks,
)
from ..services import search as search_cases
from .access_log import opened, opened_many
from .inputs import page_number

bp = Blueprint("cases", __name__)


@bp.context_processor
def _document_helpers() -> dict[str, Any]:
    return {"human_size": attachments.human_size, "limits": attachments.Limits.current(),
            "owner_candidates": ownership.candidates,
            "confidential_people": lambda case: confidential.named(case.id),
            "confidential_candidates": confidential.candidates}


@bp.get("/cases")
@requires(READ_CASES)
def search() -> ResponseReturnValue:
    """Find cases: words or a reference, filters, a sort and pages; an exact reference opens."""
    parsed = search_cases.parse(request.args)
    if parsed.errors:
        return render_template("cases/search.html", parsed=parsed, result=None,
                               choices=search_cases.choices()), 400
    filters = replace(parsed.filters, viewer=current_actor())
    if filters.q and filters.query_args().keys() == {"q"}:
        reference = search_cases.exact_reference(filters.q, filters.viewer)
        if reference:
            return redirect(url_for("cases.show", reference=reference))
    result = search_cases.find(filters, page_number(request.args.get("page")))
    return render_template("cases/search.html", parsed=parsed, result=result,
                           choices=search_cases.choices())


@bp.post("/cases/export.csv")
@requires(READ_CASES)
def export_csv() -> ResponseReturnValue:
    """Every case matching the search's filters, as a CSV file streamed as it is read."""
    parsed = search_cases.parse(request.form)
    if parsed.errors:
        return _search_refused(parsed)
    case_export.record(parsed.filters, current_actor(), "csv")
    opened_many(current_actor(), case_export.cases_in(parsed.filters), "export",
                "case search, CSV")
    name = f"cases-{utcnow():%Y%m%d-%H%M}.csv"
    seen = replace(parsed.filters, viewer=current_actor())
    return Response(case_export.csv_chunks(seen), mimetype="text/csv",
                    headers=_private(name))


@bp.post("/cases/export.xlsx")
@requires(READ_CASES)
def export_xlsx() -> ResponseReturnValue:
    """Every case matching the search's filters, as an XLSX workbook (up to its limit)."""
    parsed = search_cases.parse(request.form)
    if parsed.errors:
        return _search_refused(parsed)
    try:
        body = case_export.workbook(replace(parsed.filters, viewer=current_actor()),
                                    rtl=str(get_locale()) == "ar")
    except InvalidInput as exc:
        return render_template("cases/search.html", parsed=parsed, result=None,
                               choices=search_cases.choices(), refused=exc.message), 422
    case_export.record(parsed.filters, current_actor(), "xlsx")
    opened_many(current_actor(), case_export.cases_in(parsed.filters), "export",
                "case search, XLSX")
    name = f"cases-{utcnow():%Y%m%d-%H%M}.xlsx"
    return Response(body, mimetype=tables.XLSX_TYPE, headers=_private(name))


def _search_refused(parsed: search_cases.Parsed) -> ResponseReturnValue:
    return render_template("cases/search.html", parsed=parsed, result=None,
                           choices=search_cases.choices()), 400


def _private(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@bp.get("/cases/<reference>")
@requires(READ_CASES, or_record=tasks.works_on)
def show(reference: str) -> ResponseReturnValue:
    """Every field of a case, its open tasks, its documents and its history."""
    case = cases.get_case(reference)
    if case.kind == "data_request":  # a data-subject request has its own page
        return redirect(url_for("data_requests.show", reference=reference))
    if case.kind != "complaint":  # a corrective action has its own page
        return redirect(url_for("actions.show", reference=reference))
    opened(current_actor(), case.id, case.reference, "case")
    return _page(case)


def _page(case: Case, note: str = "", errors: dict[str, list[str]] | None = None,
          upload: attachments.Added | None = None, status: int = 200,
          reopen_reason: str = "") -> ResponseReturnValue:
    events = audit.history(case)
    return render_template("cases/show.html", case=case, tasks=cases.ready_tasks(case),
                           history=history.for_case(case, events),
                           recorded=case_context.recorded(case, events),
                           note=note, errors=errors or {},
                           documents=attachments.for_case(case.id, include_internal=True),
                           upload=upload or attachments.Added(),
                           has_letter=letters.has_decision(case),
                           can_reopen=reopening.can_reopen(case),
                           reopen_reason=reopen_reason,
                           linked_actions=action_register.linked_actions(case.id)), status


@bp.post("/cases/<reference>/notes")
@requires(WRITE_CASES)
def add_note(reference: str) -> ResponseReturnValue:
    """Add an internal note (never shown to the complainant) to the case history."""
    text = request.form.get("note", "")
    try:
        cases.add_note(reference, text, current_actor())
    except InvalidInput as exc:
        return _page(cases.get_case(reference), text, exc.field_errors, status=422)
    flash(_("Note added."), "success")
    return redirect(url_for("cases.show", reference=reference) + "#history")


@bp.post("/cases/<reference>/owner")
@requires(SUPERVISE)
def change_owner(reference: str) -> ResponseReturnValue:
    """Give the case another owner (supervisors), with a reason the history keeps."""
    try:
        user = ownership.change_owner(reference, request.form.get("owner", ""),
                                      request.form.get("reason", ""), current_actor())
    except InvalidInput as exc:
        return _page(cases.get_case(reference), errors=exc.field_errors, status=422)
    flash(_("%(name)s now owns the case.", name=user.display_name), "success")
    return redirect(url_for("cases.show", reference=reference) + "#owner")


@bp.post("/cases/<reference>/confidential")
@requires(MARK_CONFIDENTIAL)
def mark_confidential(reference: str) -> ResponseReturnValue:
    """Mark a case confidential, or change who is named on it, with a reason."""
    try:
        confidential.mark(reference, request.form.get(confidential.REASON, ""),
                          request.form.getlist(confidential.PEOPLE), current_actor())
    except InvalidInput as exc:
        return _page(cases.get_case(reference), errors=exc.field_errors, status=422)
    flash(_("Only the people named, complaints managers and auditors may read this case."),
          "success")
    return redirect(url_for("cases.show", reference=reference) + "#confidential")


@bp.post("/cases/<reference>/confidential/lift")
@requires(MARK_CONFIDENTIAL)
def lift_confidential(reference: str) -> ResponseReturnValue:
    """Make a confidential case readable by its team again, with a reason."""
    try:
        confidential.lift(reference, request.form.get(confidential.REASON, ""), current_actor())
    except InvalidInput as exc:
        return _page(cases.get_case(reference), errors=exc.field_errors, status=422)
    flash(_("The case is no longer confidential."), "success")
    return redirect(url_for("cases.show", reference=reference) + "#confidential")


@bp.post("/cases/<reference>/reopen")
@requires(REOPEN_CASES)
def reopen(reference: str) -> ResponseReturnValue:
    """A supervisor reopens a closed case, with a reason recorded in its history."""
    reason = request.form.get(reopening.FIELD, "")
    try:
        reopening.reopen(reference, reason, current_actor())
    except InvalidInput as exc:
        return _page(cases.get_case(reference), errors=exc.field_errors, status=exc.status,
                     reopen_reason=reason)
    except Conflict as exc:  # open already, or its process has ended: said above the page
        flash(exc.message, "danger")
        return _page(cases.get_case(reference), status=exc.status)
    flash(_("Case reopened."), "success")
    return redirect(url_for("cases.show", reference=reference))


@bp.post("/cases/<reference>/documents")
@requires(WRITE_CASES)
def add_documents(reference: str) -> ResponseReturnValue:
    """Staff add documents to a case, shared with the complainant or internal."""
    added = attachments.add_documents(reference, request.files.getlist(attachments.FIELD),
                                      current_actor(), "staff",
                                      internal=request.form.get("internal") == "true")
    if added.errors:
        return _page(cases.get_case(reference), upload=added, status=422)
    flash(ngettext("Document added.", "%(num)d documents added.", len(added.documents)),
          "success")
    return redirect(url_for("cases.show", reference=reference) + "#attachments")


@bp.get("/cases/<reference>/documents/<int:attachment_id>")
@requires(READ_CASES, or_record=tasks.works_on)
def download(reference: str, attachment_id: int) -> ResponseReturnValue:
    """One document of the case, as a download."""
    case = cases.get_case(reference)
    document = attachments.for_download(case.id, attachment_id, include_internal=True)
    opened(current_actor(), case.id, case.reference, "document", document.filename)
    return Response(document.data, headers=attachments.download_headers(document))


@bp.post("/cases/<reference>/bundle.zip")
@requires(READ_CASES)
def bundle(reference: str) -> ResponseReturnValue:
    """The case bundle (record, history, documents) as a ZIP, for referral and audit.

    `internal=1` adds the internal documents, which every case reader sees on the case
    page too. A POST, because the export is recorded in the case's history.
    """
    internal = request.form.get("internal", "").lower() in ("1", "true", "yes")
    made = export.build_bundle(reference, current_actor(), include_internal=internal)
    case = cases.get_case(reference)
    opened(current_actor(), case.id, case.reference, "bundle", made.filename)
    return Response(wrap_file(request.environ, made.file, export.CHUNK),
                    mimetype="application/zip", direct_passthrough=True,
                    headers={"Content-Disposition": f'attachment; filename="{made.filename}"',
                             "Content-Length": str(made.size), "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})


@bp.get("/cases/<reference>/letter")
@requires(READ_CASES)
def letter(reference: str) -> ResponseReturnValue:
    """The decision letter, printable, in the complainant's language (or ?lang=en|ar)."""
    case = cases.get_case(reference)
    back = url_for("cases.show", reference=case.reference)
    try:
        made = letters.decision_letter(case, request.args.get("lang"))
    except NotFound:
        return render_template("letters/no_decision.html", reference=case.reference,
                               back=back), 404
    opened(current_actor(), case.id, case.reference, "letter", f"HTML, {made.language}")
    return letters.render_html(
        made, back=back,
        pdf=url_for("cases.letter_pdf", reference=case.reference, lang=made.language),
        other=url_for("cases.letter", reference=case.reference,
                      lang=letters.other_language(made))), 200, letters.PRIVATE


@bp.get("/cases/<reference>/letter.pdf")
@requires(READ_CASES)
def letter_pdf(reference: str) -> ResponseReturnValue:
    """The decision letter as a PDF (404 while there is no decision)."""
    case = cases.get_case(reference)
    made = letters.decision_letter(case, request.args.get("lang"))
    opened(current_actor(), case.id, case.reference, "letter", f"PDF, {made.language}")
    return Response(letters.render_pdf(made), headers=letters.pdf_headers(made))
