"""Need-to-know on every staff page of one case: the case page and all under it (documents,
letters, the bundle, notes, owner, tasks, claiming), checked before the view runs.

The rule is the visibility service's; this only asks it once per request, for any
endpoint of the staff blueprints whose address names a case. The task page asks it in
the query that reads its case and task (services/tasks.py open_task), for the people its
capability lets in; anyone else is checked here first, as on every other page.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

from ..access import WORK_TASKS, can, current_actor
from ..services import visibility

STAFF_BLUEPRINTS = frozenset({"cases", "tasks", "inbox", "actions"})
# What a refused read was after, for the access log (signals.case_read_refused).
WHAT = {"cases.download": "document", "cases.bundle": "bundle", "cases.letter": "letter",
        "cases.letter_pdf": "letter", "tasks.task": "task", "inbox.act": "task"}
# Endpoints whose service checks the rule in its own read, with the capability they need.
CHECKED_BY_SERVICE = {"tasks.task": WORK_TASKS}


def check() -> None:
    """Refuse (403, neutral) a signed-in person a case page the rule does not let them read."""
    endpoint = request.endpoint or ""
    reference = (request.view_args or {}).get("reference")
    if not reference or endpoint.partition(".")[0] not in STAFF_BLUEPRINTS or \
            not current_user.is_authenticated:
        return  # signed-out people are sent to sign in by the view's own rule
    own = CHECKED_BY_SERVICE.get(endpoint)
    if own is not None and can(current_user, own):
        return
    detail = str((request.view_args or {}).get("attachment_id")
                 or (request.view_args or {}).get("task_id") or "")
    visibility.check_reference(current_actor(), str(reference), WHAT.get(endpoint, "case"),
                               detail)


def init_app(app: Flask) -> None:
    """Check need-to-know before every case page."""
    app.before_request(check)
