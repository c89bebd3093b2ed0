"""Codes and role names as people read them, in the page's or an e-mail's language.

The one source for how a stored code (a priority, a channel: "service_quality") and a role
("complaints_manager") are named: pages use it through the `label` macro and the
`role_label` template global, e-mails through `notifications`. Codes stay stored as codes.
Roles Plaint comes with have names in the catalog; a role an administrator added keeps its
own name (its code as words), since no catalog knows it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ..models.user import ROLES

# The priorities' names, marked here so the catalog keeps them (policy.PRIORITIES).
PRIORITY_NAMES = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"),
                  "urgent": _l("Urgent")}
# The roles Plaint comes with (models/user.py ROLES): their names and what each does.
ROLE_NAMES: dict[str, LazyString] = {
    "handler": _l("Handler"), "supervisor": _l("Supervisor"),
    "complaints_manager": _l("Complaints manager"), "specialist": _l("Specialist"),
    "process_owner": _l("Process owner"), "admin": _l("Administrator"),
    "auditor": _l("Auditor"), "privacy_officer": _l("Privacy officer"),
}
ROLE_DESCRIPTIONS: dict[str, LazyString] = {
    "handler": _l("Handler: works the tasks of the complaints process"),
    "supervisor": _l("Supervisor: escalated and approval tasks, reassigns work"),
    "complaints_manager": _l("Complaints manager: the second level of escalation"),
    "specialist": _l("Specialist: consulted during investigations (legal, compliance, "
                     "product)"),
    "process_owner": _l("Process owner: edits and deploys diagrams and forms"),
    "admin": _l("Administrator: users, roles, escalation policy, calendar"),
    "auditor": _l("Auditor: reads everything, changes nothing"),
    "privacy_officer": _l("Privacy officer: data-subject requests (copies and erasure)"),
}


def words(value: str | None) -> str:
    """A code as English words: "service_quality" -> "Service quality"."""
    return (value or "").replace("_", " ").capitalize()


def _in(language: str | None) -> AbstractContextManager[object]:
    """Translate in `language` (an e-mail's), or in the request's own when None."""
    return force_locale(language) if language else nullcontext()


def code(value: str | None, language: str | None = None) -> str:
    """A stored code in people's words, translated where the catalog has them; "—" if none."""
    if not value:
        return "—"
    with _in(language):
        named = PRIORITY_NAMES.get(value)
        return str(named) if named is not None else _(words(value))


def role(name: str | None, language: str | None = None) -> str:
    """A role's name as people read it; a role an administrator added keeps its own."""
    if not name:
        return "—"
    with _in(language):
        named = ROLE_NAMES.get(name)
        return str(named) if named is not None else words(name)


def role_description(name: str, description: str | None) -> str:
    """What a role is for: in the reader's language while it is the one Plaint wrote."""
    if name in ROLE_DESCRIPTIONS and description == ROLES.get(name):
        return str(ROLE_DESCRIPTIONS[name])
    return description or ""
