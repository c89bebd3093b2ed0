"""The "Related complaints" part of the case page (templates/cases/_related.html).

The partial asks for the related cases itself, so the case page includes it with one line
and its view needs no change; the case page is already READ_CASES-only, and the list keeps
to the cases the reader's need-to-know lets them read.
"""

from __future__ import annotations

from flask import Flask

from ..access import current_actor
from ..models import Case
from ..services import related


def related_complaints(case: Case) -> list[related.Related]:
    """The cases related to a case that the reader may read, for the case page."""
    return related.for_case(case, current_actor())


def init_app(app: Flask) -> None:
    """Give templates the related-complaints lookup."""
    app.jinja_env.globals["related_complaints"] = related_complaints
