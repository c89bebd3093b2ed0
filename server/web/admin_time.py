"""Administration of business time: the working calendar and the escalation policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..models import utcnow
from ..services import calendar, policy, system_log

bp = Blueprint("admin_time", __name__, url_prefix="/admin")
WEEK_ORDER = (6, 0, 1, 2, 3, 4, 5)  # Sunday first, as the working week starts here


guard(bp, ADMIN)  # every page here is for administrators (signed-out people go to sign-in)


def _errors(exc: InvalidInput) -> dict[str, list[str]]:
    return exc.field_errors or {"_form": [exc.message]}


def _posted() -> dict[str, str]:
    return {key: value[:300] for key, value in request.form.items() if key != "csrf_token"}


def _preview() -> dict[str, Any]:
    """Deadlines for a complaint received at the time asked for (local), or now."""
    cal = calendar.load()
    typed = request.args.get("at", "").strip()[:40]
    since, error = utcnow(), None
    if typed:
        try:
            since = datetime.fromisoformat(typed).replace(tzinfo=cal.tz)
            if not 2000 <= since.year <= 2100:
                raise ValueError(typed)
        except ValueError:
            since, error = utcnow(), _("Enter a date and time like 2026-09-20T10:00.")
    return {"at": typed, "error": error, "since": since.astimezone(cal.tz), "zone": cal.zone,
            "rows": policy.preview(since)}


def _calendar_page(status: int = 200, **forms: Any) -> ResponseReturnValue:
    cal = calendar.load()
    year = utcnow().astimezone(cal.tz).year
    blank: dict[str, Any] = {"form": calendar.settings_form(), "errors": {}, "date_kind": None,
                             "date_form": {}, "date_errors": {}}
    return render_template(
        "admin/calendar.html", week_order=WEEK_ORDER, weekdays=calendar.WEEKDAYS,
        zones=sorted(calendar.time_zones()), countries=calendar.supported_countries(),
        dates=calendar.list_dates(), years=[(y, cal.holidays_of(y)) for y in (year, year + 1)],
        country=cal.country, preview=_preview(), changes=system_log.recent("calendar."),
        **{**blank, **forms}), status


@bp.get("/calendar")
def calendar_page() -> ResponseReturnValue:
    """The working calendar, its holidays, and what it means for deadlines."""
    return _calendar_page()


@bp.post("/calendar")
def save_calendar() -> ResponseReturnValue:
    """Save the time zone, public holidays and working week."""
    form = _posted()
    try:
        calendar.save_settings(form, by=current_actor())
    except InvalidInput as exc:
        return _calendar_page(422, form=form, errors=_errors(exc))
    flash(_("The calendar was saved; new deadlines use it from now on."), "success")
    return redirect(url_for("admin_time.calendar_page"))


@bp.post("/calendar/dates/<kind>")
def add_date(kind: str) -> ResponseReturnValue:
    """Add a custom holiday, a working date, or reduced hours."""
    form = _posted()
    try:
        entry = calendar.add_date(kind, form, by=current_actor())
    except InvalidInput as exc:
        if kind not in calendar.DATE_KINDS:
            raise
        return _calendar_page(422, date_kind=kind, date_form=form, date_errors=_errors(exc))
    flash(_("Added: %(first)s %(name)s.", first=entry.first_day.isoformat(), name=entry.name),
          "success")
    return redirect(url_for("admin_time.calendar_page") + "#dates")


@bp.post("/calendar/dates/<int:entry_id>/remove")
def remove_date(entry_id: int) -> ResponseReturnValue:
    """Remove a dated entry."""
    calendar.remove_date(entry_id, by=current_actor())
    flash(_("The calendar entry was removed."), "info")
    return redirect(url_for("admin_time.calendar_page") + "#dates")


def _escalation_page(status: int = 200, kind: str | None = None,
                     values: dict[str, str] | None = None,
                     errors: dict[str, list[str]] | None = None,
                     row_form: dict[str, str] | None = None,
                     row_errors: dict[str, list[str]] | None = None) -> ResponseReturnValue:
    targets = policy.list_targets()
    shown = {k: {key: value for row in rows for key, value in policy.row_form(row).items()}
             for k, rows in targets.items()}
    if kind in shown and values is not None:
        shown[kind].update(values)  # what the person typed stays on the page
    return render_template(
        "admin/escalation.html", targets=targets, values=shown, kind=kind,
        errors=errors or {}, row_form=row_form or {}, row_errors=row_errors or {},
        kinds=policy.KINDS, priorities=policy.PRIORITIES, categories=policy.CATEGORIES,
        units=policy.UNITS, preview=_preview(), changes=system_log.recent("policy.")), status


@bp.get("/escalation")
def escalation() -> ResponseReturnValue:
    """The escalation targets per kind, priority and category."""
    return _escalation_page()


@bp.post("/escalation/<kind>")
def save_escalation(kind: str) -> ResponseReturnValue:
    """Save the targets of one kind."""
    form = _posted()
    try:
        changed = policy.save_targets(kind, form, by=current_actor())
    except InvalidInput as exc:
        if kind not in policy.KINDS:
            raise
        return _escalation_page(422, kind, form, _errors(exc))
    flash(_("Saved: %(count)d row(s) changed.", count=changed), "success")
    return redirect(url_for("admin_time.escalation") + f"#{kind}")


@bp.post("/escalation/rows")
def add_escalation_row() -> ResponseReturnValue:
    """Add a row for a category."""
    form = _posted()
    try:
        policy.add_target(form, by=current_actor())
    except InvalidInput as exc:
        return _escalation_page(422, row_form=form, row_errors=_errors(exc))
    flash(_("The row was added."), "success")
    return redirect(url_for("admin_time.escalation") + "#rows")


@bp.post("/escalation/rows/<int:target_id>/remove")
def remove_escalation_row(target_id: int) -> ResponseReturnValue:
    """Remove a category row."""
    policy.remove_target(target_id, by=current_actor())
    flash(_("The row was removed."), "info")
    return redirect(url_for("admin_time.escalation") + "#rows")

