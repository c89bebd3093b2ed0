"""Retention rules and their dry run (administrators); legal hold on a case (managers)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..access import HOLD_CASES, MANAGE_RETENTION, current_actor, requires
from ..errors import Conflict, InvalidInput
from ..models.report import OUTCOMES
from ..models.retention import ANONYMISE, ANY_OUTCOME, DOCUMENTS
from ..services import cases, legal_hold, retention, system_log

bp = Blueprint("retention", __name__)
ACTION_TITLES = {ANONYMISE: _l("Anonymise personal data"), DOCUMENTS: _l("Delete documents")}


@bp.get("/admin/retention")
@requires(MANAGE_RETENTION)
def index() -> ResponseReturnValue:
    """The rules, the cases each would touch now (dry run), and recent runs and changes."""
    return _page({}, {})


def _page(values: dict[str, str], errors: dict[str, list[str]],
          status: int = 200) -> ResponseReturnValue:
    return render_template("admin/retention.html", plans=retention.plan(),
                           outcomes=(ANY_OUTCOME, *OUTCOMES), actions=ACTION_TITLES,
                           values=values, errors=errors,
                           changes=system_log.recent("retention.", limit=10)), status


@bp.post("/admin/retention")
@requires(MANAGE_RETENTION)
def add_rule() -> ResponseReturnValue:
    """Add a rule."""
    values = {name: request.form.get(name, "") for name in ("outcome", "action", "amount",
                                                            "unit")}
    try:
        rule = retention.add_rule(values["outcome"], values["action"], values["amount"],
                                  values["unit"], current_actor())
    except InvalidInput as exc:
        return _page(values, exc.field_errors, exc.status)
    flash(_("Retention rule %(id)s added.", id=rule.id), "success")
    return redirect(url_for("retention.index"))


@bp.post("/admin/retention/<int:rule_id>/remove")
@requires(MANAGE_RETENTION)
def remove_rule(rule_id: int) -> ResponseReturnValue:
    """Remove a rule."""
    retention.remove_rule(rule_id, current_actor())
    flash(_("Retention rule %(id)s removed.", id=rule_id), "info")
    return redirect(url_for("retention.index"))


@bp.post("/cases/<reference>/hold")
@requires(HOLD_CASES)
def place_hold(reference: str) -> ResponseReturnValue:
    """Put a case on legal hold, with a reason."""
    reason = request.form.get(legal_hold.FIELD, "")
    try:
        legal_hold.place(reference, reason, current_actor())
    except InvalidInput as exc:
        return render_template("cases/hold.html", case=cases.get_case(reference),
                               reason=reason, errors=exc.field_errors), exc.status
    except Conflict as exc:
        flash(exc.message, "warning")
    else:
        flash(_("Case %(reference)s is on legal hold: retention and erasure leave it alone.",
                reference=reference), "success")
    return redirect(url_for("cases.show", reference=reference) + "#legal-hold")


@bp.post("/cases/<reference>/hold/lift")
@requires(HOLD_CASES)
def lift_hold(reference: str) -> ResponseReturnValue:
    """Lift a case's legal hold."""
    try:
        legal_hold.lift(reference, current_actor())
    except Conflict as exc:
        flash(exc.message, "warning")
    else:
        flash(_("The legal hold on %(reference)s is lifted.", reference=reference), "success")
    return redirect(url_for("cases.show", reference=reference) + "#legal-hold")


def init_app(app: Flask) -> None:
    """Let the case page ask for a case's hold."""
    def hold(case_id: int) -> Any:
        return legal_hold.hold_of(case_id)
    app.jinja_env.globals["legal_hold_of"] = hold
