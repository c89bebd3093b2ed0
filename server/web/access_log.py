"""The access log: logging each read the signals report, and the auditors' pages.

Receivers of `signals.case_read` and `case_read_refused` are connected at app start;
they add the client's address (the request's, after the trusted-proxy rule) and leave
the rest to services/access_log.py. `opened` is how views say a case's record was read.
A refusal sent in the middle of a write would be rolled back with that write, so it is
kept aside and logged when the request ends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from math import ceil
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import signals
from ..access import READ_ACCESS_LOG, SEE_CASE_READERS, current_actor, requires
from ..errors import InvalidInput
from ..extensions import db
from ..models import utcnow
from ..models.access_log import WHATS
from ..services import access_log, bulk_access, cases, export_log
from ..services.actors import Actor
from .auth import client_address
from .inputs import page_number

bp = Blueprint("access_log", __name__)
log = logging.getLogger(__name__)
_DEFERRED = "plaint_refused_reads"


def opened(actor: Actor, case_id: int | None, reference: str | None, what: str,
           detail: str | None = None) -> None:
    """Say that `actor` has just read a case's record (its page, a document, ...)."""
    signals.case_read.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                           actor=actor, case_id=case_id, reference=reference, what=what,
                           detail=detail)


def opened_many(actor: Actor, found: Sequence[tuple[int, str]], what: str,
                detail: str | None = None) -> None:
    """Say that `actor` has just read many cases at once (an export): one row each."""
    signals.case_read.send(current_app._get_current_object(),  # type: ignore[attr-defined]
                           actor=actor, case_id=None, cases=list(found), what=what,
                           detail=detail)


def _log(arguments: dict[str, Any], allowed: bool) -> None:
    actor = arguments["actor"]
    if not isinstance(actor, Actor):  # a User, from a caller that had no Actor at hand
        actor = Actor.for_user(actor)
    found = arguments["cases"] if "cases" in arguments else [
        (arguments.get("case_id"), arguments.get("reference"))]
    # Behind a reverse proxy, the address PLAINT_TRUSTED_PROXIES says is the reader's.
    address = client_address() if has_request_context() else None
    read = (actor, found, str(arguments.get("what") or "case"), arguments.get("detail"))
    if not allowed and has_request_context() and access_log.writing():
        g.setdefault(_DEFERRED, []).append((read, address))
        return
    access_log.record(*read, allowed=allowed, address=address)


def _log_deferred(error: BaseException | None) -> None:
    """Log the refusals kept aside during a write, once the request's work is over."""
    deferred = g.pop(_DEFERRED, None)
    if not deferred:
        return
    try:
        db.session.rollback()  # whatever the request left uncommitted is not saved anyway
        for read, address in deferred:
            access_log.record(*read, allowed=False, address=address)
    except Exception:  # the answer has gone: say so in the server log, do not raise
        log.exception("could not log %d refused read(s)", len(deferred))


def _on_read(sender: Any, **arguments: Any) -> None:
    _log(arguments, True)


def _on_refused(sender: Any, **arguments: Any) -> None:
    _log(arguments, False)


def _log_page(filters: access_log.Filters, page: int = 1, status: int = 200,
              note_errors: dict[int, list[str]] | None = None,
              typed_note: dict[int, str] | None = None) -> ResponseReturnValue:
    """The auditors' page: the alerts, the filters and one page of the reads they match."""
    rows, total = ([], 0) if filters.errors else access_log.listing(filters, page)
    return render_template(
        "access_log/index.html", filters=filters, rows=rows, total=total, page=page,
        pages=max(1, ceil(total / access_log.PER_PAGE)), whats=WHATS,
        alerts=bulk_access.recent_alerts(), note_errors=note_errors or {},
        typed_note=typed_note or {}), status


@bp.get("/audit/access")
@requires(READ_ACCESS_LOG)
def index() -> ResponseReturnValue:
    """The access log, filtered and a page at a time, and the bulk-access alerts."""
    filters = access_log.parse(request.args)
    return _log_page(filters, page_number(request.args.get("page")),
                     400 if filters.errors else 200)


@bp.post("/audit/access.csv")
@requires(READ_ACCESS_LOG)
def export_csv() -> ResponseReturnValue:
    """The reads the filters match, as a CSV file; the export is itself logged."""
    filters = access_log.parse(request.form)
    if filters.errors:
        return _log_page(filters, status=400)
    export_log.record(current_actor(), export_log.ACCESS, "Access log", "csv",
                      filters.query_args())
    name = f"access-log-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(access_log.csv_chunks(filters), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@bp.post("/audit/access/alerts/<int:alert_id>/acknowledge")
@requires(READ_ACCESS_LOG)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """An auditor acknowledges a bulk-access alert, with a note of what they found."""
    note = request.form.get("note", "")
    try:
        bulk_access.acknowledge(alert_id, note, current_actor())
    except InvalidInput as exc:
        return _log_page(access_log.parse({}), status=422,
                         note_errors={alert_id: exc.field_errors.get("note", [exc.message])},
                         typed_note={alert_id: note})
    flash(_("Alert acknowledged."), "success")
    return redirect(url_for("access_log.index") + "#alerts")


@bp.get("/cases/<reference>/access")
@requires(SEE_CASE_READERS)
def case_readers(reference: str) -> ResponseReturnValue:
    """Everyone who opened one case, newest first, a page at a time."""
    case = cases.get_case(reference)
    filters = access_log.parse({"reference": case.reference})
    page = page_number(request.args.get("page"))
    rows, total = access_log.listing(filters, page)
    return render_template("access_log/case.html", case=case, rows=rows, total=total,
                           page=page, pages=max(1, ceil(total / access_log.PER_PAGE)))


def init_app(app: Flask) -> None:
    """Log every read the signals report; give case pages their latest readers."""
    signals.case_read.connect(_on_read)
    signals.case_read_refused.connect(_on_refused)
    app.teardown_request(_log_deferred)
    app.jinja_env.globals["case_readers"] = access_log.for_case
    app.jinja_env.globals["shown_what"] = access_log.shown_what
