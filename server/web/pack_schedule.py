"""The management-review pack's monthly schedule: who receives it, and sending it now.

Under /reports/pack/schedule; every view needs MANAGE_ACTIONS (the complaints manager's
capability that names this schedule in server/access.py).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import MANAGE_ACTIONS, current_actor, guard
from ..errors import InvalidInput
from ..services import pack_schedule, review_pack, system_log

bp = Blueprint("pack_schedule", __name__, url_prefix="/reports/pack/schedule")
guard(bp, MANAGE_ACTIONS)


def _page(form: pack_schedule.RecipientForm, errors: dict[str, list[str]],
          status: int = 200) -> ResponseReturnValue:
    """The schedule page: recipients, the form to add one, the months sent, the changes."""
    return render_template(
        "returns/pack_schedule.html", recipients=pack_schedule.recipients(), form=form,
        errors=errors, staff=pack_schedule.staff_choices(), languages=review_pack.LANGUAGES,
        runs=pack_schedule.runs(), changes=system_log.recent("pack_schedule.", limit=10)), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """Who receives the monthly pack, and the form to name someone else."""
    return _page(pack_schedule.RecipientForm(), {})


@bp.post("/recipients")
def add() -> ResponseReturnValue:
    """Name a member of staff or an e-mail address to receive the pack."""
    form = pack_schedule.RecipientForm.from_values(request.form)
    try:
        pack_schedule.add(form, current_actor())
    except InvalidInput as exc:
        return _page(form, exc.field_errors or {"_form": [exc.message]}, 422)
    flash(_("The pack will be sent to %(who)s every month.", who=form.username or form.email),
          "success")
    return redirect(url_for("pack_schedule.index"))


@bp.post("/recipients/<int:recipient_id>/remove")
def remove(recipient_id: int) -> ResponseReturnValue:
    """Stop sending the pack to someone."""
    who = pack_schedule.remove(recipient_id, current_actor())
    flash(_("The pack is no longer sent to %(who)s.", who=who), "info")
    return redirect(url_for("pack_schedule.index"))


@bp.post("/send-now")
def send_now() -> ResponseReturnValue:
    """Send last month's pack to every recipient now, to try the schedule."""
    try:
        count = pack_schedule.send_now(current_actor())
    except InvalidInput as exc:
        flash(exc.message, "danger")
        return redirect(url_for("pack_schedule.index"))
    flash(_("Last month's pack is on its way to %(count)d recipients (see the outbox).",
            count=count), "success")
    return redirect(url_for("pack_schedule.index"))
