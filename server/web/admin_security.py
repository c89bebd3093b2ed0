"""Administration of sign-in security: which roles need a second factor, and resetting
the second factor of someone who lost their device."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import ADMIN, current_actor, guard
from ..errors import InvalidInput
from ..services import mfa, users

bp = Blueprint("admin_security", __name__, url_prefix="/admin")
guard(bp, ADMIN)


def _page(chosen: set[str], errors: dict[str, list[str]], status: int = 200) -> ResponseReturnValue:
    return render_template("admin/security.html", roles=users.list_roles(), chosen=chosen,
                           always=mfa.ALWAYS, errors=errors), status


@bp.route("/security", methods=["GET", "POST"])
def security() -> ResponseReturnValue:
    """The roles that must sign in with a second factor; POST saves the choice."""
    if request.method == "GET":
        return _page({role.name for role in mfa.required_roles()}, {})
    chosen = set(request.form.getlist("roles"))
    try:
        mfa.set_required_roles(chosen, current_actor())
    except InvalidInput as exc:
        return _page(chosen, exc.field_errors, 422)
    flash(_("Saved. People in these roles without a second factor must set one up before "
            "they can do anything else."), "success")
    return redirect(url_for("admin_security.security"))


@bp.post("/users/<username>/second-factor/reset")
def reset_second_factor(username: str) -> ResponseReturnValue:
    """Remove an account's second factor and recovery codes (a lost device)."""
    user = mfa.reset(username, current_actor())
    flash(_("The second factor of %(name)s is removed and they are signed out everywhere. "
            "If their roles need one, they set it up again at their next sign-in.",
            name=user.username), "success")
    return redirect(url_for("admin.edit_user", username=user.username))
