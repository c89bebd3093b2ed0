"""The words people see for the codes reports group on, in one place.

Categories, products and causes come from the code lists the forms title
(choice_titles); outcomes, channels and deadline kinds are Plaint's own vocabulary.
When administered bilingual code lists arrive, only `titles` changes.
"""

from __future__ import annotations

from flask_babel import gettext as _

from .. import choice_titles


def _fixed(field: str) -> dict[str, str]:
    if field == "outcome":
        return {"upheld": _("Upheld"), "partly_upheld": _("Partly upheld"),
                "not_upheld": _("Not upheld"), "withdrawn": _("Withdrawn"),
                "out_of_scope": _("Out of scope")}
    if field == "channel":
        return {"web": _("Web"), "phone": _("Phone"), "walk_in": _("Walk-in"),
                "letter": _("Letter"), "email": _("E-mail"), "api": _("API")}
    if field == "kind":
        return {"acknowledgement": _("Acknowledgement"), "response": _("Response"),
                "resolution": _("Resolution")}
    if field == "sla":
        return {"breached": _("Deadline missed"), "on_track": _("On track")}
    return {}


def titles(field: str) -> dict[str, str]:
    """Code -> the title people read, for one reporting field."""
    return _fixed(field) or choice_titles.titles(field)


def label(field: str, code: str | None) -> str:
    """The title of one code; a code nobody titled reads as words; none as "Not recorded"."""
    if code is None or code == "":
        return _("Not recorded")
    return titles(field).get(code) or choice_titles.humanize(code) or code
