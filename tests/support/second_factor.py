"""Test accounts' second factor: one known TOTP secret, and codes a test can send at once.

Accounts whose roles need a second factor (admins, process owners) get it when the test
support makes them, so signing in as them works as it does for real people: password,
then code.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import pyotp
from flask import Flask, has_app_context
from sqlalchemy import update

from server.extensions import db
from server.models import User
from server.services import mfa
from server.services.actors import Actor
from server.services.users import get_user

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # every test account's TOTP secret


def _context(app: Flask) -> AbstractContextManager[object]:
    return nullcontext() if has_app_context() else app.app_context()


def enrol_if_required(username: str) -> list[str]:
    """Give the account the test second factor if its roles need one (app context)."""
    user = get_user(username)
    if not mfa.required(user) or mfa.enrolled(user):
        return []
    return mfa.enrol(user.id, SECRET, pyotp.TOTP(SECRET).now(), Actor.system("tests"))


def code_for(app: Flask, username: str) -> str:
    """The account's code now, made acceptable again.

    A code works once per 30-second step; tests sign the same person in several times
    within one, so the step accepted last is forgotten here, as waiting would.
    """
    with _context(app):
        db.session.execute(update(User).where(User.username == username)
                           .values(totp_last_step=None))
        db.session.commit()
    return pyotp.TOTP(SECRET).now()
