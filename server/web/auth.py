"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import landing, public, requires_sign_in
from ..errors import Forbidden, InvalidInput
from ..services import auth
from .inputs import same_site

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """The sign-in form."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(landing(current_user))
    errors: dict[str, list[str]] = {}
    message = None
    status = 200
    username = request.form.get("username", "")
    if request.method == "POST":
        try:
            user = auth.authenticate(username, request.form.get("password", ""),
                                     request.remote_addr or "unknown")
        except InvalidInput as exc:
            errors, message, status = exc.field_errors, exc.message, 422
        except Forbidden as exc:  # throttled (429) or a switched-off account (403)
            message, status = exc.message, exc.status
        else:
            login_user(user)
            flash(_("Signed in as %(name)s.", name=user.display_name), "success")
            return redirect(same_site(request.args.get("next"), landing(user)))
    return render_template("auth/login.html", username=username, errors=errors,
                           message=message), status


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    """Sign out (POST, so that a link on another site cannot sign people out)."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/no-access")
@requires_sign_in
def no_access() -> ResponseReturnValue:
    """Where sign-in takes someone whose roles open no page yet."""
    return render_template("auth/no_access.html")
