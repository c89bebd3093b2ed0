"""Signing in and out."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, logout_user

from ..access import current_actor, landing, public, requires_sign_in
from ..errors import Forbidden, InvalidInput
from ..services import auth, languages
from .signin import finish_sign_in

bp = Blueprint("auth", __name__)


def client_address() -> str:
    """The address of the person asking, as PLAINT_TRUSTED_PROXIES says to read it.

    X-Forwarded-For is whatever the client wrote plus what each proxy appended on the
    right, so it is read from the right and only as far as trusted proxies wrote it.
    A number of hops takes the address that many entries from the right (werkzeug's
    ProxyFix rule: only for an app that can be reached through those proxies alone);
    proxy networks skip trusted entries from the right, starting with the peer itself.
    """
    peer = request.remote_addr or "unknown"
    trusted = current_app.config.get("PLAINT_TRUSTED_PROXIES") or 0
    if not trusted:
        return peer
    hops = [hop.strip() for header in request.headers.getlist("X-Forwarded-For")
            for hop in header.split(",") if hop.strip()]
    if isinstance(trusted, int):
        return hops[-trusted] if len(hops) >= trusted else peer
    chain = [*hops, peer]
    while len(chain) > 1 and _is_proxy(chain[-1], trusted):
        chain.pop()
    return chain[-1]


def _is_proxy(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:  # not an address: nothing a trusted proxy vouches for
        return False
    return any(parsed in network for network in networks)


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
                                     client_address())
        except InvalidInput as exc:
            errors, message, status = exc.field_errors, exc.message, 422
        except Forbidden as exc:  # throttled (429) or a switched-off account (403)
            message, status = exc.message, exc.status
        else:
            return finish_sign_in(user, method="password")
    return render_template("auth/login.html", username=username, errors=errors,
                           message=message), status


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    """Sign out everywhere (POST, so that a link on another site cannot sign people out).

    Every session of the account ends, a cookie copied from this browser's included.
    """
    if current_user.is_authenticated:
        auth.sign_out(current_user.id)
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/no-access")
@requires_sign_in
def no_access() -> ResponseReturnValue:
    """Where sign-in takes someone whose roles open no page yet."""
    return render_template("auth/no_access.html")


@bp.route("/account", methods=["GET", "POST"])
@requires_sign_in
def account() -> ResponseReturnValue:
    """The signed-in person's own settings: the language Plaint speaks to them."""
    if request.method == "POST":
        chosen = request.form.get("language") or None
        try:
            languages.set_user_language(current_user, chosen, current_actor())
        except InvalidInput as exc:
            return render_template("auth/account.html", errors=exc.field_errors,
                                   chosen=chosen), 422
        refresh()
        flash(_("Your language is saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", errors={}, chosen=current_user.language)
