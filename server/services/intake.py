"""Filing a complaint: an intake form's values and the documents staged with it become a case.

cases.start_case checks the values and starts the workflow; attachments kept the form's
documents while it was corrected and moves them onto the new case.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..errors import InvalidInput
from . import attachments, cases
from .actors import Actor
from .forms import validate


def file_complaint(values: dict[str, Any], channel: str, actor: Actor,
                   staging: attachments.Staging) -> cases.NewCase:
    """Start a case from an intake form and attach the documents staged with it.

    While a chosen document is refused no case starts: the person fixes that first, and
    hears about every other field at the same time.
    """
    if staging.errors:
        schema, _ui = cases.intake_form()
        try:
            validate(schema, values)
            fields: dict[str, list[str]] = {}
        except InvalidInput as exc:
            fields = exc.field_errors
        if not fields:  # the documents field is last: say at the top that it needs a look
            fields["_form"] = [_("A document could not be taken: see the documents field.")]
        raise InvalidInput(_("Check the documents."), {**fields, attachments.FIELD: staging.errors})
    started = cases.start_case(values, channel, actor)
    attachments.attach_staged(started.case, staging, actor)
    return started
