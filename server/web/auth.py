"""Signing in and out."""

from __future__ import annotations

import time
from ipaddress import ip_address
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from ..access import current_actor, landing, public, requires_sign_in
from ..errors import Forbidden, InvalidInput
from ..services import auth, languages, mfa, users
from .signin import SEEN, complete_pending, drop_pending, finish_sign_in, pending_user

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
    if request.method == "GET":
        drop_pending()  # a new sign-in starts from the password
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


@bp.route("/account/password", methods=["GET", "POST"])
@requires_sign_in
def change_password() -> ResponseReturnValue:
    """Set a new password of one's own; every other session of the account ends."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    try:
        user = users.change_password(current_user.id, request.form.get("current_password", ""),
                                     request.form.get("new_password", ""), current_actor())
    except InvalidInput as exc:
        return render_template("auth/password.html", errors=exc.field_errors), 422
    login_user(user)  # this browser goes on under the new session epoch
    session[SEEN] = int(time.time())
    flash(_("Your password is changed. You are signed out on your other devices."), "success")
    return redirect(url_for("auth.account"))


ENROLLING = "plaint_enrolling"  # the sealed secret being set up, until its code is right


@bp.route("/login/code", methods=["GET", "POST"])
@public
def second_factor() -> ResponseReturnValue:
    """The second step of signing in: the code from the app, or a recovery code."""
    user = pending_user()
    if user is None:
        drop_pending()
        flash(_("Your sign-in took too long or changed. Sign in again."), "warning")
        return redirect(url_for("auth.login"))
    message, status = None, 200
    if request.method == "POST":
        try:
            auth.code_turn(user.username, client_address())
        except Forbidden as exc:  # too many wrong codes: paused like passwords
            message, status = exc.message, exc.status
        else:
            if mfa.check(user, request.form.get("code", "")):
                auth.code_passed(user.username, client_address())
                return complete_pending(user)
            message, status = _("That code is not right, or it was already used. Enter "
                                "the code your app shows now, or one of your recovery "
                                "codes."), 422
    return render_template("auth/second_factor.html", message=message), status


@bp.route("/account/second-factor", methods=["GET", "POST"])
@requires_sign_in
def enrol_second_factor() -> ResponseReturnValue:
    """Set up a second factor: scan the QR code (or type the secret), confirm a code.

    The recovery codes are shown once, on the answer to the confirming post.
    """
    if mfa.enrolled(current_user):
        return render_template("auth/second_factor_status.html",
                               left=mfa.recovery_codes_left(current_user))
    secret = mfa.unseal(session.get(ENROLLING))
    if secret is None:
        secret = mfa.new_secret()
        session[ENROLLING] = mfa.seal(secret)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            codes = mfa.enrol(current_user.id, secret, request.form.get("code", ""),
                              current_actor())
        except InvalidInput as exc:
            errors = exc.field_errors
        else:
            session.pop(ENROLLING, None)
            return render_template("auth/recovery_codes.html", codes=codes), 200, {
                "Cache-Control": "no-store"}
    return render_template("auth/enrol.html", qr=mfa.qr_svg(current_user, secret),
                           secret=mfa.grouped(secret), errors=errors), 422 if errors else 200
