"""The last step of every way of signing in: start the session and go where asked.

Passwords (web/auth.py) and single sign-on both end here, so what a sign-in must still
ask for (a second factor) and what it records is decided in one place.

An account with a second factor that has not yet shown it is not signed in: the session
holds only a pending sign-in (the account, its session epoch, how it began, where to go
next) for PENDING_FOR; the code page (web/auth.py second_factor) finishes it.
"""

from __future__ import annotations

import time
from typing import Any

from flask import flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user

from ..access import landing
from ..extensions import db
from ..models import User
from ..services import auth, mfa
from .inputs import same_site

PENDING = "plaint_second_factor"
PENDING_FOR = 5 * 60  # seconds to enter the code after the password
SEEN = "plaint_seen"  # when the session was last used (web/session_rules.py)
# The sign-in showed a second factor to someone else (single sign-on's `amr`): the rule
# that some roles must have one is met for this session without one of ours.
FACTOR_ELSEWHERE = "plaint_factor_elsewhere"


def finish_sign_in(user: User, *, method: str, second_factor_done: bool = False,
                   next_url: str | None = None) -> ResponseReturnValue:
    """Sign `user` in (they proved who they are by `method`) and send them on.

    With a second factor not yet shown, ask for it first instead.
    """
    target = next_url if next_url is not None else request.args.get("next")
    if mfa.enrolled(user) and not second_factor_done:
        session.pop("_user_id", None)
        session[PENDING] = {"user": user.id, "epoch": user.session_epoch, "method": method,
                            "until": int(time.time()) + PENDING_FOR,
                            "next": same_site(target, "")}
        return redirect(url_for("auth.second_factor"))
    return _signed_in(user, target, elsewhere=second_factor_done and not mfa.enrolled(user))


def pending_user() -> User | None:
    """The account whose sign-in waits for its second factor, while that still holds."""
    pending: dict[str, Any] | None = session.get(PENDING)
    if not pending or pending.get("until", 0) < time.time():
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or user.session_epoch != pending.get("epoch") \
            or not mfa.enrolled(user):
        return None
    return user


def complete_pending(user: User) -> ResponseReturnValue:
    """The second factor was right: sign the pending account in."""
    pending = session.pop(PENDING, None) or {}
    return _signed_in(user, pending.get("next") or None)


def drop_pending() -> None:
    """Forget a pending sign-in (it expired, or the person starts again)."""
    session.pop(PENDING, None)


def _signed_in(user: User, target: str | None, elsewhere: bool = False) -> ResponseReturnValue:
    session.pop(PENDING, None)
    login_user(user)
    session[SEEN] = int(time.time())
    session[FACTOR_ELSEWHERE] = elsewhere
    auth.signed_in(user.id)
    flash(_("Signed in as %(name)s.", name=user.display_name), "success")
    if mfa.required(user) and not mfa.enrolled(user) and not elsewhere:
        flash(_("Your role needs a second factor: set one up to go on."), "warning")
        return redirect(url_for("auth.enrol_second_factor"))
    return redirect(same_site(target, landing(user)))
