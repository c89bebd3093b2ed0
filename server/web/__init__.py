"""Blueprints, one per area; views stay thin and call services."""

from __future__ import annotations

from flask import Flask

from ..extensions import db, login_manager
from ..models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user for a session, unless the account was deactivated."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def init_app(app: Flask) -> None:
    """Register every blueprint: the one place that lists them."""
    from . import (
        admin,
        admin_outbox,
        admin_time,
        auth,
        cases,
        inbox,
        incidents,
        portal,
        public,
        studio,
        tasks,
    )

    for module in (public, portal, auth, inbox, tasks, cases, admin, admin_time, studio,
                   admin_outbox, incidents):
        app.register_blueprint(module.bp)
