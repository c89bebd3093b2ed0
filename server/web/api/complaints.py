"""Filing complaints over the API, as JSON or with documents as multipart/form-data."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import g, request, url_for
from flask_babel import gettext as _

from ...access import API_INTAKE, API_READ, requires_scope
from ...errors import InvalidInput
from ...services import api_reads, attachments, intake
from . import bp, spec
from .models import ComplaintForm, ComplaintIn, ComplaintOut, DocumentOut, TrackingOut
from .responses import Answer, accepts, answers, json_body

CHANNEL = "api"


def _fields() -> dict[str, Any]:
    """The intake form's fields from either body."""
    if request.mimetype == "multipart/form-data":
        try:
            fields = json.loads(request.form.get("fields", ""))
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            message = _("Send the intake form's fields as a JSON object in the part 'fields'.")
            raise InvalidInput(message, {"fields": [message]})
        return fields
    body = json_body()
    return body["fields"] if isinstance(body.get("fields"), dict) else {}


@bp.post("/v1/complaints")
@requires_scope(API_INTAKE)
@accepts("application/json", "multipart/form-data")
@spec.validate(json=ComplaintIn, form=ComplaintForm,
               resp=answers(201, ComplaintOut, 401, 403, 409, 413, 415, 422, 429),
               tags=["complaints"])
def file_complaint() -> Answer:
    """File a complaint; answers its reference and the complainant's tracking link."""
    fields = _fields()
    actor = g.api_caller.actor
    # Documents are checked as the web form's are (type by content, size, count) and
    # staged under a secret of this call only, then moved onto the new case.
    staged = attachments.stage(secrets.token_urlsafe(24), "",
                               request.files.getlist(attachments.FIELD), [], actor, CHANNEL) \
        if request.files else attachments.Staging()
    started = intake.file_complaint(fields, CHANNEL, actor, staged)
    reference = started.case.reference
    documents = [DocumentOut(id=d.id, filename=d.filename, content_type=d.content_type,
                             size=d.size) for d in attachments.for_case(started.case.id, True)]
    body = ComplaintOut(reference=reference, tracking_token=started.tracking_token,
                        tracking_url=url_for("portal.track", token=started.tracking_token,
                                             _external=True),
                        received_at=started.case.received_at, documents=documents)
    return body, 201, {"Location": url_for("api.get_case", reference=reference)}


@bp.get("/v1/tracking/<token>")
@requires_scope(API_INTAKE, API_READ)
@spec.validate(resp=answers(200, TrackingOut, 401, 403, 404, 429), tags=["complaints"])
def tracking(token: str) -> Answer:
    """Where a complaint stands, as its complainant's tracking page shows it."""
    return TrackingOut.model_validate(api_reads.tracking(token))
