"""The last step of every way of signing in: start the session and go where asked.

Passwords (web/auth.py) and single sign-on both end here, so what a sign-in must still
ask for (a second factor) and what it records is decided in one place.
"""

from __future__ import annotations

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user

from ..access import landing
from ..models import User
from .inputs import same_site


def finish_sign_in(user: User, *, method: str, second_factor_done: bool = False,
                   next_url: str | None = None) -> ResponseReturnValue:
    """Sign `user` in (they proved who they are by `method`) and send them on."""
    login_user(user)
    flash(_("Signed in as %(name)s.", name=user.display_name), "success")
    return redirect(same_site(next_url if next_url is not None else request.args.get("next"),
                              landing(user)))
