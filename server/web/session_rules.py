"""What every signed-in page request checks first: the idle time-out, and that someone
whose roles need a second factor has one before they do anything else.

The last-used time lives in the session (signin.SEEN) and is written at most once a
minute, so the session cookie is not rewritten on every request. API calls carry no
session (a bearer token each time) and are left alone.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_login import current_user, logout_user

from ..services import mfa
from .inputs import same_site
from .signin import FACTOR_ELSEWHERE, SEEN

REFRESH_EVERY = 60  # seconds between rewrites of the last-used time
# Where someone who must set up a second factor may still go.
WHILE_ENROLLING = frozenset({"auth.enrol_second_factor", "auth.logout", "auth.login",
                             "auth.second_factor", "language.switch", "static"})


def _not_a_page() -> bool:
    """Static files and the API, which never hold a signed-in session."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.startswith("api.") or request.path.startswith("/api/")


def check_session() -> ResponseReturnValue | None:
    """End an idle session; send someone who needs a second factor and has none to set it up."""
    if _not_a_page() or not current_user.is_authenticated:
        return None
    now = int(time.time())
    seen = session.get(SEEN)
    minutes = int(current_app.config["PLAINT_IDLE_TIMEOUT_MINUTES"])
    if isinstance(seen, int) and now - seen > minutes * 60:
        logout_user()
        session.pop(SEEN, None)
        flash(ngettext("You were signed out after %(num)d minute without using Plaint. Sign "
                       "in again to go on where you were.",
                       "You were signed out after %(num)d minutes without using Plaint. Sign "
                       "in again to go on where you were.", minutes), "warning")
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=same_site(back, "") or None))
    if not isinstance(seen, int) or now - seen >= REFRESH_EVERY:
        session[SEEN] = now
    if request.endpoint not in WHILE_ENROLLING and not session.get(FACTOR_ELSEWHERE) \
            and mfa.required(current_user) and not mfa.enrolled(current_user):
        return redirect(url_for("auth.enrol_second_factor"))
    return None


def init_app(app: Flask) -> None:
    """Run the checks before every request."""
    app.before_request(check_session)
