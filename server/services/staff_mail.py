"""E-mail to everyone who holds a role, about the organisation rather than one case.

Alerts (a systemic rise in complaints, bulk access to cases) go to each active holder of
a role with an address, in the staff language, through the outbox; when nobody can be
addressed, one held message says why, so the alert is never silently lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage, User
from ..models.outbox import HELD, PENDING
from ..models.user import user_roles
from . import notifications


def holders(role: str) -> list[tuple[str, str]]:
    """(address, name) of every active holder of `role` with an e-mail address."""
    rows = db.session.execute(
        select(User.email, User.display_name).join(user_roles, user_roles.c.user_id == User.id)
        .where(user_roles.c.role_name == role, User.active).order_by(User.id))
    return [(email.strip(), name) for email, name in rows if email and email.strip()]


def mail_role(event: str, role: str, context: Callable[[str], dict[str, Any]],
              now: datetime) -> None:
    """Write one outbox message per holder of `role`, rendered from `event`'s template.

    `context(language)` gives the template's values; the recipient, the organisation and
    the language are added here.
    """
    config = current_app.config
    language = config.get("PLAINT_STAFF_LANGUAGE") or notifications.DEFAULT_LANGUAGE
    if not (notifications.TEMPLATES / f"{event}.{language}.txt").is_file():
        language = notifications.DEFAULT_LANGUAGE
    people: list[tuple[str | None, str | None]] = list(holders(role))
    problem = None
    if not people:
        people = [(None, None)]
        problem = (f"Nobody to send to: no active account with the role {role} "
                   "has an e-mail address.")
    domain = config["PLAINT_MAIL_SENDER"].rpartition("@")[2] or "plaint.invalid"
    for address, name in people:
        rendered = notifications.render(event, language, {
            **context(language), "language": language, "recipient": {"name": name or ""},
            "organisation": config["PLAINT_ORGANISATION_NAME"]})
        db.session.add(OutboxMessage(
            case_id=None, event=event, element=None, language=language,
            recipient_kind=role, recipient_name=name, recipient=address,
            subject=rendered.subject[:500], body_text=rendered.text, body_html=rendered.html,
            message_id=make_msgid("plaint", domain=domain),
            status=HELD if problem else PENDING, attempts=0,
            next_attempt_at=None if problem else now, last_error=problem, created_at=now))
