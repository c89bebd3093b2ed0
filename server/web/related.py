"""The "Related complaints" part of the case page (templates/cases/_related.html).

The partial asks for the related cases itself, so the case page includes it with one line
and its view needs no change; the case page is already READ_CASES-only.
"""

from __future__ import annotations

from flask import Flask

from ..models import Case
from ..services import related


def related_complaints(case: Case) -> list[related.Related]:
    """The cases related to a case, for the case page."""
    return related.for_case(case)


def init_app(app: Flask) -> None:
    """Give templates the related-complaints lookup."""
    app.jinja_env.globals["related_complaints"] = related_complaints
