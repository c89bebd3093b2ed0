"""RFC 9457 problem details: every error of the API, in the request's language."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ...errors import InvalidInput, PlaintError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:plaint:problem:"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details; `errors` lists what to fix per field (422)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request and what to do.")
    errors: dict[str, list[str]] | None = Field(
        None, description="Messages per field (validation problems).")


def _titles() -> dict[int, tuple[str, str]]:
    """Each status's problem type and title, translated."""
    return {
        400: ("bad-request", _("Bad request")),
        401: ("unauthenticated", _("Not authenticated")),
        403: ("forbidden", _("Forbidden")),
        404: ("not-found", _("Not found")),
        405: ("method-not-allowed", _("Method not allowed")),
        409: ("conflict", _("Conflict")),
        413: ("too-large", _("Request too large")),
        415: ("unsupported-media-type", _("Unsupported media type")),
        422: ("invalid", _("Invalid request")),
        429: ("rate-limited", _("Too many requests")),
        500: ("server-error", _("Server error")),
    }


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem-details response."""
    kind, title = _titles().get(status, ("error", _("Error")))
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status,
                            "detail": detail}
    if errors is not None:
        body["errors"] = errors
    answer = current_app.response_class(json.dumps(body, ensure_ascii=False), status,
                                        mimetype=MEDIA_TYPE)
    answer.headers.update(headers or {})
    return answer


def answer(exc: BaseException) -> Response:
    """Turn any error raised while answering an API call into its problem document."""
    if isinstance(exc, InvalidInput):
        return problem(422, exc.message, exc.field_errors or {"_form": [exc.message]})
    if isinstance(exc, PlaintError):
        status = exc.status if exc.status in _titles() else 400
        headers = {"Retry-After": str(exc.details["retry_after"])} \
            if "retry_after" in exc.details else None
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="plaint"'}
        return problem(status, exc.message, headers=headers)
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return problem(413, _("The request is larger than the %(total)d KB accepted at once. "
                              "Send fewer or smaller documents.", total=limit // 1024))
    if isinstance(exc, HTTPException):
        code = exc.code or 500
        details = {
            404: _("There is nothing at this address. The API's addresses are listed in "
                   "/api/v1/openapi.json."),
            405: _("This address does not take %(method)s requests.", method=request.method),
            415: _("Send the body as application/json (or multipart/form-data where the "
                   "document says so)."),
        }
        return problem(code if code in _titles() else 400,
                       details.get(code) or _("The request could not be understood."))
    return problem(500, _("Something went wrong on our side. Nothing was saved; please try "
                          "again."))
