"""Reports (ISO 10002 clause 8): the dashboard, the cases behind a figure, the exports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import READ_REPORTS, current_actor, guard
from ..errors import NotFound
from ..models import utcnow
from ..services import export_log, reports
from ..services.reports import cases as report_cases
from ..services.reports import exports, filters
from ..services.reports.definitions import display, signed
from ..services.reports.figures import Figures
from ..services.reports.parallel import prefetch
from .inputs import page_number

bp = Blueprint("reports", __name__)
guard(bp, READ_REPORTS)


@bp.context_processor
def _formatting() -> dict[str, Any]:
    return {"report_display": display, "report_signed": signed}


@bp.get("/reports")
def dashboard() -> ResponseReturnValue:
    """Every report for the chosen period and filters, each as a chart and a table."""
    parsed = filters.parse(request.args)
    if parsed.errors:
        return render_template("reports/dashboard.html", parsed=parsed, sections=[],
                               charts=[], choices=filters.choices()), 400
    figures = Figures(replace(parsed.filters, viewer=current_actor()))
    prefetch(figures, current_app.config["PLAINT_REPORT_WORKERS"])
    sections = [(report, report.table(figures)) for report in reports.REPORTS]
    charts = [chart for report, rows in sections if (chart := report.chart_data(rows))]
    return render_template("reports/dashboard.html", parsed=parsed, figures=figures,
                           sections=sections, charts=charts, choices=filters.choices())


@bp.get("/reports/cases")
def case_list() -> ResponseReturnValue:
    """The cases behind a figure: the dashboard's filters and the figure's condition."""
    parsed = filters.parse(request.args)
    if parsed.errors:
        return render_template("reports/cases.html", parsed=parsed, result=None,
                               report=reports.CASE_LIST), 400
    result = report_cases.page(replace(parsed.filters, viewer=current_actor()),
                               page_number(request.args.get("page")))
    return render_template("reports/cases.html", parsed=parsed, result=result,
                           report=reports.CASE_LIST)


@bp.get("/reports/<name>.csv")
def export_csv(name: str) -> ResponseReturnValue:
    """One report (or the cases behind a figure) as CSV, with the dashboard's filters."""
    return _export(name, "csv")


@bp.get("/reports/<name>.xlsx")
def export_xlsx(name: str) -> ResponseReturnValue:
    """One report (or the cases behind a figure) as XLSX, with the dashboard's filters."""
    return _export(name, "xlsx")


def _export(name: str, fmt: str) -> ResponseReturnValue:
    report = reports.ALL.get(name)
    if report is None:
        raise NotFound(_("There is no report of that name."))
    parsed = filters.parse(request.args)
    if parsed.errors:
        return Response("\n".join(f"{k}: {' '.join(v)}" for k, v in parsed.errors.items()),
                        status=400, mimetype="text/plain")
    figures = Figures(replace(parsed.filters, viewer=current_actor()))
    rows = report.stream(figures)
    body: str | bytes = (exports.to_csv(report, figures, rows) if fmt == "csv"
                         else exports.to_xlsx(report, figures, rows))
    export_log.record(current_actor(), export_log.REPORT, name, fmt,
                      parsed.filters.query_args())
    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.{fmt}"
    return Response(body, mimetype=exports.MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})
