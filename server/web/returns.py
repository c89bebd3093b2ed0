"""Regulator returns, ISO 10002 conformance evidence and the management-review pack.

Under /reports (the dashboard's blueprint owns /reports itself); every view needs
READ_REPORTS. Views parse the period, call a service and render or send a file.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from ..access import READ_REPORTS, current_actor, guard
from ..services import conformance, export_log, returns, review_pack, tables
from ..services.report_period import ParsedPeriod, parse

bp = Blueprint("returns", __name__, url_prefix="/reports")
guard(bp, READ_REPORTS)


def _bad_period(template: str, parsed: ParsedPeriod, **context: object) -> ResponseReturnValue:
    """The page again with what is wrong with the period, and the input kept."""
    return render_template(template, parsed=parsed, **context), 400


@bp.get("/returns")
def index() -> ResponseReturnValue:
    """The returns on offer, with the period to draw them for."""
    parsed = parse(request.args)
    status = 400 if parsed.errors else 200
    return render_template("returns/index.html", parsed=parsed,
                           definitions=returns.offered()), status


@bp.get("/returns/<key>")
def show(key: str) -> ResponseReturnValue:
    """A return on screen for the period."""
    definition = returns.definition(key)
    parsed = parse(request.args)
    if parsed.period is None:
        return _bad_period("returns/show.html", parsed, definition=definition, tables=[])
    return render_template("returns/show.html", parsed=parsed, definition=definition,
                           tables=returns.build(key, parsed.period))


@bp.get("/returns/<key>.<any(csv, xlsx):extension>")
def download(key: str, extension: str) -> ResponseReturnValue:
    """A return as a CSV or XLSX file."""
    definition = returns.definition(key)
    parsed = parse(request.args)
    if parsed.period is None:
        return _bad_period("returns/show.html", parsed, definition=definition, tables=[])
    built = returns.build(key, parsed.period)
    name = returns.file_name(key, parsed.period, extension)
    export_log.record(current_actor(), export_log.RETURN, key, extension,
                      parsed.period.query_args())
    if extension == "csv":
        return Response(tables.csv_bytes(built[0]),
                        headers=tables.download_headers(name, tables.CSV_TYPE))
    return Response(tables.xlsx_bytes(built),
                    headers=tables.download_headers(name, tables.XLSX_TYPE))


@bp.get("/iso10002")
def iso10002() -> ResponseReturnValue:
    """ISO 10002 conformance: each principle and clause, what Plaint does, live evidence."""
    parsed = parse(request.args)
    if parsed.period is None:
        return _bad_period("returns/iso10002.html", parsed, items=[], groups={})
    return render_template("returns/iso10002.html", parsed=parsed, groups=conformance.GROUPS,
                           items=conformance.evidence(parsed.period))


@bp.get("/exports")
def exports() -> ResponseReturnValue:
    """Who exported which report or list, when, with which filters and in which format."""
    return render_template("returns/exports.html", events=export_log.recent())


@bp.get("/pack")
def pack() -> ResponseReturnValue:
    """The management-review pack: choose the period and the language, then download."""
    parsed = parse(request.args)
    status = 400 if parsed.errors else 200
    # Not `languages=`: that name is the language switch's, on every page.
    return render_template("returns/pack.html", parsed=parsed), status


@bp.get("/pack/management-review.<any(pdf, xlsx):extension>")
def pack_file(extension: str) -> ResponseReturnValue:
    """The management-review pack as a PDF or XLSX, in English or Arabic."""
    parsed = parse(request.args)
    if parsed.period is None:
        return _bad_period("returns/pack.html", parsed)
    language = review_pack.language(request.args.get("lang"))
    made = review_pack.make(parsed.period, language, extension, current_actor())
    return Response(made.content, headers=tables.download_headers(made.filename,
                                                                  made.content_type))
